"""Sending rows in update jobs: per-row outcomes, retries of transient errors with backoff.

Each job is recorded (`journal`) as soon as Salesforce creates it, in state "unknown"; once
its results are read the record says so. When anything fails, the jobs still "unknown" are
read back from Salesforce before the caller writes its files, so that `results.csv` says
what really happened to each row; on an interrupt (Ctrl-C, SIGTERM) the running jobs are aborted
first. Jobs a push left "unknown" or running are resolved by the next one (`resolve_jobs`).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from .._errors import DataError
from ._bulk import FINISHED, GONE, IngestResult, read_back, run_update_job
from ._client import SalesforceClient
from ._soql import check_record_id

Progress = Callable[[str, int, "int | None"], None]
Journal = Callable[[dict], None]
# UNABLE_TO_LOCK_ROW: another process holds the record; the other two: rows a job left without result.
TRANSIENT_ERRORS = frozenset({"UNABLE_TO_LOCK_ROW", "UNPROCESSED", "NO_RESULT"})
UNKNOWN = "unknown"


@dataclass
class SentJob:
    """An update job Salesforce created: its rows and its state ("unknown" until read)."""

    job_id: str
    ids: list[str]
    attempt: int
    state: str = UNKNOWN


def _result_id(record: dict) -> str:
    """The 18-character Id of a result row (as sent), or the raw value if Salesforce changed it."""
    raw = (record.get("Id") or record.get("sf__Id") or "").strip()
    try:
        return check_record_id(raw, "result")
    except DataError:
        return raw


def _error_code(message: str) -> str:
    return message.split(":", 1)[0].strip() or "UNKNOWN"


def _row(status: str, attempt: int, job_id: str, message: str = "") -> dict:
    return {"status": status, "attempts": attempt, "error_code": _error_code(message) if message else "", "error": message,
            "job_id": job_id}


def _stopped(job: SentJob, state: str) -> dict:
    return _row("not sent", job.attempt, job.job_id, f"JOB_{state.upper()}: the job stopped before this row")


def _record(job: SentJob, result: IngestResult, outcome: dict[str, dict]) -> list[str]:
    """Fill `outcome` with the rows of `job`; return the ids worth another attempt."""
    transient, seen = [], set()
    for record in result.successful:
        record_id = _result_id(record)
        outcome[record_id] = _row("updated", job.attempt, job.job_id)
        seen.add(record_id)
    stopped = result.state in ("Failed", "Aborted")
    for record in result.unprocessed if stopped else []:  # the job stopped before these rows: never written
        record_id = _result_id(record)
        outcome[record_id] = _stopped(job, result.state)
        seen.add(record_id)
    failures = [(r, r.get("sf__Error", "")) for r in result.failed]
    failures += [] if stopped else [(r, "UNPROCESSED: the job did not process this row") for r in result.unprocessed]
    for record, message in failures:
        record_id = _result_id(record)
        outcome[record_id] = _row("failed", job.attempt, job.job_id, message)
        seen.add(record_id)
        if _error_code(message) in TRANSIENT_ERRORS:
            transient.append(record_id)
    for record_id in job.ids:
        if record_id in seen:
            continue
        if result.state == "JobComplete":
            outcome[record_id] = _row("failed", job.attempt, job.job_id, "NO_RESULT: Salesforce reported no result for this row")
            transient.append(record_id)
        elif stopped and result.all_processed_listed():  # Salesforce says it processed no other row
            outcome[record_id] = _stopped(job, result.state)
        elif stopped:
            outcome[record_id] = _row(UNKNOWN, job.attempt, job.job_id, f"UNKNOWN: the job ended {result.state} without a result for this row")
        else:
            outcome[record_id] = _row(UNKNOWN, job.attempt, job.job_id, f"UNKNOWN: the job is {result.state}; read it back later")
    return transient


def _journal_state(journal: Journal, job: SentJob, result: IngestResult) -> None:
    job.state = result.state
    journal({"event": "job", "job_id": job.job_id, "state": result.state, "updated": len(result.successful),
             "failed": len(result.failed), "unprocessed": len(result.unprocessed)})


def read_back_jobs(client: SalesforceClient, object_name: str, jobs: list[SentJob], outcome: dict[str, dict], journal: Journal,
                   abort: bool = False) -> None:
    """Ask Salesforce what became of the jobs still "unknown" (aborting running ones with `abort`) and record their rows;
    unreadable ones stay unknown."""
    for job in jobs:
        if job.state != UNKNOWN:
            continue
        result = read_back(client, object_name, job.job_id, len(job.ids), abort)
        _record(job, result or IngestResult(job.job_id, UNKNOWN), outcome)
        if result is not None:
            with suppress(OSError):  # a full disk: the rows' outcome is still reported by the caller
                _journal_state(journal, job, result)


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
    journal: Journal,
    jobs: list[SentJob],
) -> None:
    """Send `rows` (Id -> row) in jobs of `batch_size`; retry transient row errors; fill `outcome` and `jobs`.

    On any error the jobs created are read back (their rows' outcome filled) before it propagates; on an interrupt
    (KeyboardInterrupt: Ctrl-C, or SIGTERM under `terminate_as_interrupt`) the running ones are aborted first.
    """
    pending = list(rows)
    total = len(pending)
    attempt = 0

    def created(job: SentJob) -> None:
        jobs.append(job)
        report.jobs.append(job.job_id)
        journal({"event": "job", "job_id": job.job_id, "rows": len(job.ids), "attempt": job.attempt, "state": UNKNOWN})

    try:
        while pending:
            attempt += 1
            if attempt > 1:
                report.retried += len(pending)
                sleep(retry_seconds * 2 ** (attempt - 2))
            transient: list[str] = []
            for start in range(0, len(pending), batch_size):
                chunk = pending[start : start + batch_size]
                result = run_update_job(client, object_name, header, [rows[i] for i in chunk],
                                        lambda job_id: created(SentJob(job_id, chunk, attempt)))
                transient += _record(jobs[-1], result, outcome)
                _journal_state(journal, jobs[-1], result)
                progress("send", sum(1 for o in outcome.values() if o["status"] == "updated"), total)
            pending = transient if attempt <= max_retries else []
    except BaseException as exc:
        read_back_jobs(client, object_name, jobs, outcome, journal, abort=isinstance(exc, KeyboardInterrupt))
        raise


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """While jobs are sent, SIGTERM (a kill) acts as Ctrl-C: the running job is aborted and read back (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def open_jobs(entries: list[dict]) -> dict[str, dict]:
    """Job id -> its creation line, for the jobs of a journal (`jobs.jsonl` lines) whose last known state is not an end state."""
    created, state = {}, {}
    for entry in entries:
        if entry.get("event") == "job" and entry.get("job_id"):
            if entry.get("rows") is not None:
                created[entry["job_id"]] = entry
            state[entry["job_id"]] = entry.get("state", UNKNOWN)
    return {job_id: entry for job_id, entry in created.items() if state[job_id] not in (*FINISHED, GONE)}


def resolve_jobs(client: SalesforceClient, object_name: str, entries: list[dict], journal: Journal) -> list[dict]:
    """Read back every job a journal leaves unknown or running (an open one is aborted), before anything is sent.

    Journals each end state (`resolved`: True; `Gone`: deleted by Salesforce, so long ended) and returns them;
    DataError, in one line, while one still runs or cannot be read.
    """
    resolved = []
    for job_id, entry in open_jobs(entries).items():
        result = read_back(client, object_name, job_id, int(entry.get("rows") or 0))
        where = f"update job {job_id} of the push of {entry.get('push')}"
        if result is None:
            raise DataError(f"{where} cannot be read back from Salesforce now; nothing was sent: run again later")
        if result.state not in (*FINISHED, GONE):
            raise DataError(f"{where} is {result.state} in Salesforce; nothing was sent: run again when it has finished "
                            "(custseg then reads its results first)")
        record = {"event": "job", "push": entry.get("push"), "job_id": job_id, "state": result.state, "resolved": True,
                  "updated": len(result.successful), "failed": len(result.failed), "unprocessed": len(result.unprocessed)}
        journal(record)
        resolved.append(record)
    return resolved
