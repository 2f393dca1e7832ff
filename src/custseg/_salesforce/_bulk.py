"""Bulk API 2.0 jobs driven step by step, so an expired session resumes the same job.

simple-salesforce's `query()` and `update()` hide the job id and the per-page record
counts; here each HTTP step (create, upload, close, poll, results, next page) is one
`SalesforceClient.call`, repeated after a new login if the session expired, with the
same job id and locator. Jobs are polled with a doubling wait and for a bounded time
(`SalesforceClient.job_timeout_seconds`, `--job-timeout`); the rows of an update job are read
whatever its end state (an aborted or failed job may have written some).
Every CSV answer is read strictly and its rows counted against
what Salesforce announced; a cut answer is read again (`IncompleteAnswer`, a bounded retry).
"""

from __future__ import annotations

import csv
import io
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from simple_salesforce.exceptions import SalesforceResourceNotFound
from simple_salesforce.util import call_salesforce

from .._errors import DataError
from ._client import IncompleteAnswer, SalesforceClient

log = logging.getLogger(__name__)
READ_BACK_POLLS = 10
MAX_POLL_SECONDS = 30.0
RUNNING = ("UploadComplete", "InProgress")
FINISHED = ("JobComplete", "Failed", "Aborted")
GONE = "Gone"  # a job Salesforce no longer knows (it deletes jobs 7 days after they end): not running


def _ingest_job(bulk, job_id: str) -> dict:
    try:
        return bulk.get_job(job_id, False)
    except SalesforceResourceNotFound:
        return {"id": job_id, "state": GONE}


def wait_job(client: SalesforceClient, object_name: str, job_id: str, is_query: bool, what: str) -> dict:
    """The job's info once it has finished, or when `client.job_timeout_seconds` have passed (its state then running).

    Waits `client.poll_seconds` before each check, twice as long each time up to 30 s.
    """
    delay, waited, start = client.poll_seconds, 0.0, time.monotonic()
    while True:
        if delay:
            client.sleep(delay)
            waited += delay
        info = client.call(lambda sf: client.bulk2(sf, object_name).get_job(job_id, is_query), what, True)
        if info.get("state") not in RUNNING or max(waited, time.monotonic() - start) >= client.job_timeout_seconds:
            return info
        delay = min(max(delay, client.poll_seconds) * 2, MAX_POLL_SECONDS)


def still_running(what: str, info: dict, client: SalesforceClient) -> str:
    """'query job X is still InProgress after 30 minute(s) (--job-timeout), 120 row(s) processed so far'."""
    minutes = f"{client.job_timeout_seconds / 60:.4g}"
    return (f"{what} is still {info.get('state')} after {minutes} minute(s) (--job-timeout), "
            f"{int(info.get('numberRecordsProcessed') or 0):,} row(s) processed so far")


def _read_csv(text: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a CSV answer; IncompleteAnswer when it was cut.

    Salesforce ends every row with a line break, so an answer cut in its last cell (a connection
    closed early: "Franc" for "France") lacks the final one; a quote left open, or a row with
    fewer cells than the header, is a cut too. An empty answer is no rows; a lone header line
    may come without its line break (no row can be misread; the counts catch missing ones).
    """
    if not text:
        return [], []
    if not text.endswith(("\n", "\r")) and ("\n" in text or "\r" in text):
        raise IncompleteAnswer("the answer ends inside its last row (no line break after it): it was cut")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, [])
        rows = list(reader)
    except csv.Error as exc:
        raise IncompleteAnswer(f"the answer is not complete CSV ({exc} at line {reader.line_num}): it was cut") from None
    for number, row in enumerate(rows, 2):
        if row and len(row) != len(header):
            raise IncompleteAnswer(f"row {number - 1} has {len(row)} cells for {len(header)} columns: the answer was cut")
    return header, rows


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
        info = wait_job(client, obj, job_id, True, f"query job {job_id}")
        if info.get("state") in RUNNING:  # a query writes nothing: abort it, a new pull makes a new one
            try:
                client.call(lambda sf: client.bulk2(sf, obj).abort_job(job_id, True), f"abort query job {job_id}")
            except DataError as exc:
                log.warning("%s", exc)
            raise DataError(f"{still_running(f'query job {job_id}', info, client)}; custseg aborted it and nothing was "
                            "written: run again later (the org is busy), or raise --job-timeout")
        if info.get("state") != "JobComplete":
            raise DataError(f"query job {job_id} ended {info.get('state')}: {info.get('errorMessage') or 'no message'}; "
                            "nothing was written")
        self.server_rows = int(info.get("numberRecordsProcessed") or 0)
        return self

    def pages(self, page_size: int) -> Iterator[tuple[list[str], list[list[str]]]]:
        """Each page's header and rows, following the locator.

        Each page is read strictly and its count checked against its `Sforce-NumberOfRecords` header
        (when Salesforce sends one); a cut page is read again (`http_retries` times), a repeated
        locator or more rows than the job announced stop the reading.
        """
        client, obj, job_id = self.client, self.object_name, self.job_id
        locator, seen = "", set()
        received = 0
        while True:
            page = len(self.page_rows) + 1
            where = f"page {page} of query job {job_id}"
            announced, header, rows, following = client.call(
                lambda sf: _result_page(client.bulk2(sf, obj), job_id, locator, page_size), where, True)
            if announced is None:
                log.warning("%s came without a usable Sforce-NumberOfRecords header; counted %d rows", where, len(rows))
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


def _result_page(bulk, job_id: str, locator: str, page_size: int) -> tuple[int | None, list[str], list[list[str]], str]:
    """(announced rows or None, header, rows, next locator or '') of one results page; IncompleteAnswer when cut.

    simple-salesforce's `get_query_results` fails with a KeyError/ValueError when the
    `Sforce-NumberOfRecords` header is missing or not a number: read the page here instead.
    """
    params = {"maxRecords": page_size, **({"locator": locator} if locator else {})}
    headers = bulk._get_headers(bulk.JSON_CONTENT_TYPE, bulk.CSV_CONTENT_TYPE)
    url = bulk._construct_request_url(job_id, True) + "/results"
    response = call_salesforce(url=url, method="GET", session=bulk.session, headers=headers, params=params)
    count = (response.headers.get("Sforce-NumberOfRecords") or "").strip()
    following = (response.headers.get("Sforce-Locator") or "").strip()
    header, rows = _read_csv(response.content.decode("utf-8").replace("\x00", ""))
    announced = int(count) if count.isdigit() else None
    if announced is not None and len(rows) != announced:
        raise IncompleteAnswer(f"announced {announced} rows but held {len(rows)}")
    return announced, header, rows, ("" if following == "null" else following)


@dataclass
class IngestResult:
    """Rows of one update job, by outcome (each a dict of the CSV columns Salesforce returned)."""

    job_id: str
    state: str = "JobComplete"
    successful: list[dict] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)
    unprocessed: list[dict] = field(default_factory=list)
    processed: int | None = None  # the job's numberRecordsProcessed, when read

    def all_processed_listed(self) -> bool:
        """Whether every row Salesforce says it processed is in the successful or failed results."""
        return self.processed is not None and self.processed <= len(self.successful) + len(self.failed)


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

    `created` runs before any data leaves (it records the job); if it fails the job is aborted. A job that ends
    Failed or Aborted, or still runs after `--job-timeout`, raises DataError: the caller reads it back (`read_back`).
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
        info = wait_job(client, obj, job_id, False, f"update job {job_id}")
    except BaseException:
        if not closed:  # best effort: an open job must not be processed half uploaded (the caller reads it back)
            try:
                client.call(lambda sf: client.bulk2(sf, obj).abort_job(job_id, False), f"abort job {job_id}")
            except Exception:  # noqa: BLE001 - the first error is the one to report
                pass
        raise
    if info.get("state") in RUNNING:
        raise DataError(still_running(f"update job {job_id}", info, client))
    if info.get("state") != "JobComplete":
        raise DataError(f"update job {job_id} ended {info.get('state')} ({info.get('errorMessage') or 'no message'})")
    return job_results(client, obj, job_id, len(rows), info=info)


def job_results(client: SalesforceClient, object_name: str, job_id: str, sent: int, state: str = "JobComplete",
                info: dict | None = None) -> IngestResult:
    """The per-row results of an update job of `sent` rows that ended in `state` (rows an aborted or failed
    job processed stay written: they are in its successful and failed results).

    The rows of a complete job's `successfulResults` and `failedResults` must match its counts (`info`, read
    when not given); a cut or short answer is read again, then stops with a DataError.
    """
    obj = object_name
    if info is None:
        info = client.call(lambda sf: client.bulk2(sf, obj).get_job(job_id, False), f"update job {job_id}", True)
    processed, failed = int(info.get("numberRecordsProcessed") or 0), int(info.get("numberRecordsFailed") or 0)
    counted = state == "JobComplete"  # an aborted job's batch in progress may still add rows after its counts were read
    expected = {"successfulResults": processed - failed if counted else None, "failedResults": failed if counted else None}
    result = IngestResult(job_id, state, processed=processed)
    for kind, target in (("successfulResults", result.successful), ("failedResults", result.failed)):
        target.extend(_ingest_rows(client, obj, job_id, kind, expected[kind]))
    if len(result.successful) + len(result.failed) < sent:
        result.unprocessed.extend(_ingest_rows(client, obj, job_id, "unprocessedrecords", None))
    return result


def _ingest_rows(client: SalesforceClient, obj: str, job_id: str, kind: str, expected: int | None) -> list[dict]:
    """The rows of one result list of an update job, read strictly; `expected` rows unless None."""

    def fetch(sf) -> list[dict]:
        names, values = _read_csv(client.bulk2(sf, obj).get_ingest_results(job_id, kind))
        rows = [dict(zip(names, row)) for row in values if row]
        if expected is not None and len(rows) != expected:
            raise IncompleteAnswer(f"held {len(rows)} row(s) but the job counts {expected}")
        return rows

    return client.call(fetch, f"{kind} of job {job_id}", True)


def read_back(client: SalesforceClient, object_name: str, job_id: str, sent: int, abort: bool = False) -> IngestResult | None:
    """The results of an update job whose outcome was lost (its state when not finished); None if unreadable.

    A job still open is aborted first (nothing of it has been processed); with `abort` (an interrupted push) a
    running one too: the batch it is processing runs to its end. The job is then polled `READ_BACK_POLLS` times at
    most, and its rows read whatever its end state. A job Salesforce no longer knows is `GONE` (its rows unknown).
    """
    obj = object_name
    try:
        info = client.call(lambda sf: _ingest_job(client.bulk2(sf, obj), job_id), f"update job {job_id}", True)
        if info.get("state") == GONE:
            return IngestResult(job_id, GONE)
        if info.get("state") == "Open" or (abort and info.get("state") in RUNNING):
            try:
                client.call(lambda sf: client.bulk2(sf, obj).abort_job(job_id, False), f"abort job {job_id}")
            except DataError as exc:  # it finished meanwhile: read it as it is
                log.warning("%s", exc)
        for poll in range(READ_BACK_POLLS):
            info = client.call(lambda sf: client.bulk2(sf, obj).get_job(job_id, False), f"update job {job_id}", True)
            if info.get("state") not in RUNNING:
                break
            client.sleep(client.poll_seconds)
        state = str(info.get("state") or "unknown")
        if state not in FINISHED:
            return IngestResult(job_id, state)
        return job_results(client, obj, job_id, sent, state, info)
    except DataError as exc:
        log.warning("cannot read back update job %s: %s", job_id, exc)
        return None
