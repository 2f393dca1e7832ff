"""Bulk API 2.0 jobs driven step by step, so an expired session resumes the same job.

simple-salesforce's `query()` and `update()` hide the job id and the per-page record
counts; here each HTTP step (create, upload, close, poll, results, next page) is one
`SalesforceClient.call`, repeated after a new login if the session expired, with the
same job id and locator.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field

from .._errors import DataError
from ._client import SalesforceClient


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
        client.call(lambda sf: client.bulk2(sf, obj).wait_for_job(job_id, True, client.poll_seconds), f"query job {job_id}")
        info = client.call(lambda sf: client.bulk2(sf, obj).get_job(job_id, True), f"query job {job_id}")
        self.server_rows = int(info.get("numberRecordsProcessed") or 0)
        return self

    def pages(self, page_size: int) -> Iterator[tuple[list[str], list[list[str]]]]:
        """Each page's header and rows, following the locator; each page's count is checked."""
        client, obj, job_id = self.client, self.object_name, self.job_id
        locator = ""
        while True:
            page = len(self.page_rows) + 1
            result = client.call(
                lambda sf: client.bulk2(sf, obj).get_query_results(job_id, locator, page_size),
                f"page {page} of query job {job_id}",
            )
            header, rows = _read_csv(result["records"])
            if len(rows) != result["number_of_records"]:
                raise DataError(
                    f"page {page} of query job {job_id} announced {result['number_of_records']} rows but held {len(rows)}; "
                    "nothing was written, run again"
                )
            self.page_rows.append(len(rows))
            yield header, rows
            locator = result["locator"]
            if not locator:
                return

    def check_total(self, received: int) -> None:
        """DataError unless `received` equals the rows the job processed."""
        if received != self.server_rows:
            raise DataError(
                f"query job {self.job_id} processed {self.server_rows} rows but {received} were received; nothing was written, run again"
            )


@dataclass
class IngestResult:
    """Rows of one update job, by outcome (each a dict of the CSV columns Salesforce returned)."""

    job_id: str
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


def run_update_job(client: SalesforceClient, object_name: str, header: list[str], rows: list[list[str]]) -> IngestResult:
    """One Bulk API 2.0 `update` job: create, upload, close, wait, read per-row results."""
    obj = object_name
    data = rows_to_csv(header, rows)
    job = client.call(lambda sf: client.bulk2(sf, obj).create_job("update"), f"create an update job on {obj}")
    job_id = job["id"]
    closed = False
    try:
        client.call(lambda sf: client.bulk2(sf, obj).upload_job_data(job_id, data), f"upload to job {job_id}")
        client.call(lambda sf: client.bulk2(sf, obj).close_job(job_id), f"close job {job_id}")
        closed = True
        client.call(lambda sf: client.bulk2(sf, obj).wait_for_job(job_id, False, client.poll_seconds), f"update job {job_id}")
    except BaseException:
        if not closed:  # best effort: an open job must not be processed half uploaded
            try:
                client.call(lambda sf: client.bulk2(sf, obj).abort_job(job_id, False), f"abort job {job_id}")
            except Exception:  # noqa: BLE001 - the first error is the one to report
                pass
        raise
    result = IngestResult(job_id)
    for kind, target in (("successfulResults", result.successful), ("failedResults", result.failed)):
        text = client.call(lambda sf: client.bulk2(sf, obj).get_ingest_results(job_id, kind), f"{kind} of job {job_id}")
        names, values = _read_csv(text)
        target.extend(dict(zip(names, row)) for row in values if row)
    if len(result.successful) + len(result.failed) < len(rows):
        text = client.call(lambda sf: client.bulk2(sf, obj).get_ingest_results(job_id, "unprocessedrecords"), f"unprocessed rows of job {job_id}")
        names, values = _read_csv(text)
        result.unprocessed.extend(dict(zip(names, row)) for row in values if row)
    return result
