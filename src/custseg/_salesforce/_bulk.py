"""Bulk API 2.0 jobs driven step by step, so an expired session resumes the same job.

simple-salesforce's `query()` and `update()` hide the job id and the per-page record
counts; here each HTTP step (create, upload, close, poll, results, next page) is one
`SalesforceClient.call`, repeated after a new login if the session expired, with the
same job id and locator.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from simple_salesforce.util import call_salesforce

from .._errors import DataError
from ._client import SalesforceClient

log = logging.getLogger(__name__)
READ_BACK_POLLS = 10


def _read_csv(text: str) -> tuple[list[str], list[list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, [])
    return header, list(reader)


@dataclass
class QueryJob:
    """A finished Bulk API 2.0 query job whose pages can be read with `pages`."""

    client: SalesforceClient
    object_name: str
    soql: str
    job_id: str = ""
    server_rows: int = 0
    page_rows: list[int] = field(default_factory=list)

    def run(self) -> "QueryJob":
        """Create the job and wait until Salesforce has the result."""
        client, obj = self.client, self.object_name
        job = client.call(lambda sf: client.bulk2(sf, obj).create_job("query", self.soql), f"create a query job on {obj}")
        self.job_id = job_id = job["id"]
        client.call(lambda sf: client.bulk2(sf, obj).wait_for_job(job_id, True, client.poll_seconds), f"query job {job_id}", True)
        info = client.call(lambda sf: client.bulk2(sf, obj).get_job(job_id, True), f"query job {job_id}", True)
        self.server_rows = int(info.get("numberRecordsProcessed") or 0)
        return self

    def pages(self, page_size: int) -> Iterator[tuple[list[str], list[list[str]]]]:
        """Each page's header and rows, following the locator.

        Each page's count is checked against its `Sforce-NumberOfRecords` header (when Salesforce
        sends one), a repeated locator or more rows than the job announced stop the reading.
        """
        client, obj, job_id = self.client, self.object_name, self.job_id
        locator, seen = "", set()
        received = 0
        while True:
            page = len(self.page_rows) + 1
            where = f"page {page} of query job {job_id}"
            announced, text, following = client.call(lambda sf: _result_page(client.bulk2(sf, obj), job_id, locator, page_size), where, True)
            header, rows = _read_csv(text)
            if announced is None:
                log.warning("%s came without a usable Sforce-NumberOfRecords header; counted %d rows", where, len(rows))
            elif len(rows) != announced:
                raise DataError(f"{where} announced {announced} rows but held {len(rows)}; nothing was written, run again")
            received += len(rows)
            if received > self.server_rows:
                raise DataError(f"query job {job_id} announced {self.server_rows} rows but sent {received} by page {page}; "
                                "nothing was written, run again")
            self.page_rows.append(len(rows))
            if header or rows:  # a page of 0 rows may come with an empty body, without the header line
                yield header, rows
            if not following:
                return
            if following in seen or not rows:
                problem = f"gave the locator {following!r} twice" if following in seen else "sent an empty page that is not the last"
                raise DataError(f"query job {job_id} {problem} (page {page}): its pages loop; nothing was written, run again")
            seen.add(following)
            locator = following

    def check_total(self, received: int) -> None:
        """DataError unless `received` equals the rows the job processed."""
        if received != self.server_rows:
            raise DataError(
                f"query job {self.job_id} processed {self.server_rows} rows but {received} were received; nothing was written, run again"
            )


def _result_page(bulk, job_id: str, locator: str, page_size: int) -> tuple[int | None, str, str]:
    """(announced rows or None, CSV text, next locator or '') of one results page.

    simple-salesforce's `get_query_results` fails with a KeyError/ValueError when the
    `Sforce-NumberOfRecords` header is missing or not a number: read the page here instead.
    """
    params = {"maxRecords": page_size, **({"locator": locator} if locator else {})}
    headers = bulk._get_headers(bulk.JSON_CONTENT_TYPE, bulk.CSV_CONTENT_TYPE)
    url = bulk._construct_request_url(job_id, True) + "/results"
    response = call_salesforce(url=url, method="GET", session=bulk.session, headers=headers, params=params)
    count = (response.headers.get("Sforce-NumberOfRecords") or "").strip()
    following = (response.headers.get("Sforce-Locator") or "").strip()
    text = response.content.decode("utf-8").replace("\x00", "")
    return (int(count) if count.isdigit() else None), text, ("" if following == "null" else following)


@dataclass
class IngestResult:
    """Rows of one update job, by outcome (each a dict of the CSV columns Salesforce returned)."""

    job_id: str
    state: str = "JobComplete"
    successful: list[dict] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)
    unprocessed: list[dict] = field(default_factory=list)


def rows_to_csv(header: list[str], rows: list[list[str]]) -> str:
    """CSV text (LF line endings) as Bulk API 2.0 ingest expects."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def run_update_job(
    client: SalesforceClient, object_name: str, header: list[str], rows: list[list[str]], created: Callable[[str], None]
) -> IngestResult:
    """One Bulk API 2.0 `update` job: create, `created(job_id)`, upload, close, wait, read per-row results.

    `created` runs before any data leaves (it records the job); if it fails the job is aborted.
    """
    obj = object_name
    data = rows_to_csv(header, rows)
    job = client.call(lambda sf: client.bulk2(sf, obj).create_job("update"), f"create an update job on {obj}")
    job_id = job["id"]
    closed = False
    try:
        created(job_id)
        client.call(lambda sf: client.bulk2(sf, obj).upload_job_data(job_id, data), f"upload to job {job_id}")
        client.call(lambda sf: client.bulk2(sf, obj).close_job(job_id), f"close job {job_id}")
        closed = True
        client.call(lambda sf: client.bulk2(sf, obj).wait_for_job(job_id, False, client.poll_seconds), f"update job {job_id}", True)
    except BaseException:
        if not closed:  # best effort: an open job must not be processed half uploaded
            try:
                client.call(lambda sf: client.bulk2(sf, obj).abort_job(job_id, False), f"abort job {job_id}")
            except Exception:  # noqa: BLE001 - the first error is the one to report
                pass
        raise
    return job_results(client, obj, job_id, len(rows))


def job_results(client: SalesforceClient, object_name: str, job_id: str, sent: int, state: str = "JobComplete") -> IngestResult:
    """The per-row results of a finished update job of `sent` rows."""
    obj = object_name
    result = IngestResult(job_id, state)
    for kind, target in (("successfulResults", result.successful), ("failedResults", result.failed)):
        text = client.call(lambda sf: client.bulk2(sf, obj).get_ingest_results(job_id, kind), f"{kind} of job {job_id}", True)
        names, values = _read_csv(text)
        target.extend(dict(zip(names, row)) for row in values if row)
    if len(result.successful) + len(result.failed) < sent:
        text = client.call(lambda sf: client.bulk2(sf, obj).get_ingest_results(job_id, "unprocessedrecords"),
                           f"unprocessed rows of job {job_id}", True)
        names, values = _read_csv(text)
        result.unprocessed.extend(dict(zip(names, row)) for row in values if row)
    return result


def read_back(client: SalesforceClient, object_name: str, job_id: str, sent: int) -> IngestResult | None:
    """The results of an update job whose outcome was lost (its state when not finished); None if unreadable.

    A job still open is aborted first: nothing of it has been processed. A job in progress is
    polled `READ_BACK_POLLS` times at most.
    """
    obj = object_name
    try:
        for poll in range(READ_BACK_POLLS):
            info = client.call(lambda sf: client.bulk2(sf, obj).get_job(job_id, False), f"update job {job_id}", True)
            if info.get("state") not in ("UploadComplete", "InProgress"):
                break
            client.sleep(client.poll_seconds)
        if info.get("state") == "Open":
            client.call(lambda sf: client.bulk2(sf, obj).abort_job(job_id, False), f"abort job {job_id}")
            return IngestResult(job_id, "Aborted")
        if info.get("state") == "JobComplete":
            return job_results(client, obj, job_id, sent)
        return IngestResult(job_id, str(info.get("state") or "unknown"))
    except DataError as exc:
        log.warning("cannot read back update job %s: %s", job_id, exc)
        return None
