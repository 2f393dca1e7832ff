"""Sending rows in update jobs: per-row outcomes, retries of transient errors with backoff."""

from __future__ import annotations

from collections.abc import Callable

from .._errors import DataError
from ._bulk import run_update_job
from ._client import SalesforceClient
from ._soql import check_record_id

Progress = Callable[[str, int, "int | None"], None]
# UNABLE_TO_LOCK_ROW: another process holds the record; the other two: rows a job left without result.
TRANSIENT_ERRORS = frozenset({"UNABLE_TO_LOCK_ROW", "UNPROCESSED", "NO_RESULT"})


def _result_id(record: dict) -> str:
    """The 18-character Id of a result row (as sent), or the raw value if Salesforce changed it."""
    raw = (record.get("Id") or record.get("sf__Id") or "").strip()
    try:
        return check_record_id(raw, "result")
    except DataError:
        return raw


def _error_code(message: str) -> str:
    return message.split(":", 1)[0].strip() or "UNKNOWN"


def send_rows(
    client: SalesforceClient,
    object_name: str,
    header: list[str],
    rows: dict[str, list[str]],
    batch_size: int,
    max_retries: int,
    retry_seconds: float,
    sleep: Callable[[float], None],
    report,
    outcome: dict[str, dict],
    progress: Progress,
) -> None:
    """Send `rows` (Id -> row) in jobs of `batch_size`; retry transient row errors; fill `outcome`."""
    pending = list(rows)
    total = len(pending)
    attempt = 0
    while pending:
        attempt += 1
        if attempt > 1:
            report.retried += len(pending)
            sleep(retry_seconds * 2 ** (attempt - 2))
        transient: list[str] = []
        for start in range(0, len(pending), batch_size):
            chunk = pending[start : start + batch_size]
            result = run_update_job(client, object_name, header, [rows[i] for i in chunk])
            report.jobs.append(result.job_id)
            seen = set()
            for record in result.successful:
                record_id = _result_id(record)
                outcome[record_id] = {"status": "updated", "attempts": attempt, "error_code": "", "error": "", "job_id": result.job_id}
                seen.add(record_id)
            failures = [(r, r.get("sf__Error", "")) for r in result.failed]
            failures += [(r, "UNPROCESSED: the job did not process this row") for r in result.unprocessed]
            for record, message in failures:
                record_id = _result_id(record)
                code = _error_code(message)
                outcome[record_id] = {"status": "failed", "attempts": attempt, "error_code": code, "error": message, "job_id": result.job_id}
                seen.add(record_id)
                if code in TRANSIENT_ERRORS:
                    transient.append(record_id)
            for record_id in chunk:
                if record_id not in seen:
                    outcome[record_id] = {"status": "failed", "attempts": attempt, "error_code": "NO_RESULT",
                                          "error": "NO_RESULT: Salesforce reported no result for this row", "job_id": result.job_id}
                    transient.append(record_id)
            done = sum(1 for o in outcome.values() if o["status"] == "updated")
            progress("send", done, total)
        pending = transient if attempt <= max_retries else []
