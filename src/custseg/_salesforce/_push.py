"""Push: write each customer's segment to its Account record, only where it changes.

Order of work, with the run folder locked: read the run directory (no network) ->
preflight the fields with `describe` -> read the current values -> diff -> write
`to_send.csv`, `diff.csv`, `not_found.csv` -> with `apply`: the previous values
(`rollback.csv`, merged, and a stamped copy) and a "started" line in `jobs.jsonl`, both
flushed to disk, then update jobs (each recorded in `jobs.jsonl` when created, read back
if its outcome is lost) with retries of transient row errors -> `results.csv`,
`failures.csv`, `summary.json` -> one line appended to `audit.jsonl`.
`send_values` is shared with the rollback (`_rollback.py`).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from .. import _schema as S
from .._atomic import append_line, neutralise_cell, restore_frame, write_text_atomic
from .._locks import folder_lock
from .._errors import CustsegError, DataError, Interrupted, UsageError
from .._review import approval_status
from ._bulk import QueryJob
from ._client import SalesforceClient
from ._registry import json_lines, push_folders, register_folder
from ._run_input import read_assignments
from ._send import UNKNOWN, SentJob, open_jobs, resolve_jobs, send_rows, terminate_as_interrupt
from ._soql import quote
from ._targets import PushFields, TargetField, created_fields, preflight
from ._written import WRITTEN_FILE, Written, merged_frame, read_written, rewrite_text, rewrites

log = logging.getLogger(__name__)
Progress = Callable[[str, int, "int | None"], None]
NULL_FOR_BULK = "#N/A"  # Bulk API: sets the field to null
IN_CLAUSE_MAX_IDS = 500
READ_PAGE_SIZE = 50_000
OUTPUT_FOLDER = "salesforce"
FILES = {
    "to_send": "to_send.csv",
    "diff": "diff.csv",
    "not_found": "not_found.csv",
    "summary": "summary.json",
    "results": "results.csv",
    "failures": "failures.csv",
    "rollback": "rollback.csv",
    "audit": "audit.jsonl",
    "jobs": "jobs.jsonl",
    "written": WRITTEN_FILE,
    "changed_since": "changed_since.csv",
}


@dataclass
class PushReport:
    """What a push found and did; `failed` > 0 means some rows were not updated, `unknown` rows were
    sent in a job whose outcome could not be read."""

    mode: str
    object_name: str
    fields: dict[str, str]
    customers: int
    not_found: int
    unchanged: int
    to_change: int
    transitions: list[dict]
    updated: int = 0
    failed: int = 0
    unknown: int = 0
    retried: int = 0
    changed_since: int = 0  # rollback: records changed since custseg wrote them (left unless forced)
    rewritten: int = 0  # values the org stored differently from what was sent (a flow or trigger)
    rewrites: list[dict] = field(default_factory=list)
    jobs: list[str] = field(default_factory=list)
    out_dir: Path | None = None
    push_id: str = ""
    files: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    approval: dict = field(default_factory=dict)  # the run's sign-off when pushed; `unapproved`: pushed anyway

    def rewrite_note(self) -> str:
        """'the org rewrites N value(s) on update: ...' when it did, else ''."""
        return rewrite_text(self.rewritten, self.rewrites) if self.rewritten else ""

    def to_dict(self) -> dict:
        """Plain dict for summary.json and the audit record."""
        out = asdict(self)
        out["out_dir"] = str(self.out_dir) if self.out_dir else None
        return out


# -- values as Salesforce holds them -----------------------------------------------------------
def _format(value: object, target: TargetField) -> str:
    """The text Salesforce would show for `value` in `target` (numbers rounded to its scale)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return ""
    if target.type in ("double", "percent", "currency", "int"):
        number = float(value)
        return f"{round(number, target.scale):.{target.scale}f}" if target.scale else str(int(round(number)))
    return str(value)


def _same(current: str, new: str, target: TargetField) -> bool:
    if target.type in ("double", "percent", "currency", "int") and current != "" and new != "":
        try:
            return abs(float(current) - float(new)) < 0.5 * 10 ** (-target.scale)
        except ValueError:
            return False
    return current == new


def _check_values(wanted: pd.DataFrame, fields: dict[str, TargetField], path: Path) -> None:
    for role, target in fields.items():
        if target.type in ("string", "textarea") and target.length:
            too_long = wanted[role].astype(str).str.len() > target.length
            if too_long.any():
                value = wanted.loc[too_long, role].iloc[0]
                raise DataError(f"{path}: value {value!r} is longer than {target.name}'s {target.length} characters")
        if target.picklist is not None:
            unknown = sorted(set(wanted[role].astype(str)) - set(target.picklist))
            if unknown:
                raise DataError(
                    f"{target.name} is a restricted picklist without the value(s) {', '.join(map(repr, unknown))}; "
                    "nothing was sent: an admin must add them to the picklist"
                )


def read_current(client: SalesforceClient, object_name: str, field_names: list[str], ids: list[str], progress: Progress) -> dict[str, list[str]]:
    """Id (18 characters) -> current values of `field_names`, for the ids that exist."""
    wanted = set(ids)
    soql = f"SELECT Id, {', '.join(field_names)} FROM {object_name}"
    if len(ids) <= IN_CLAUSE_MAX_IDS:
        soql += f" WHERE Id IN ({', '.join(quote(i) for i in ids)})"
    job = QueryJob(client, object_name, soql).run()
    progress("read", 0, job.server_rows)
    current: dict[str, list[str]] = {}
    received = 0
    for header, rows in job.pages(READ_PAGE_SIZE):
        position = {name.lower(): i for i, name in enumerate(header)}
        try:
            columns = [position["id"]] + [position[name.lower()] for name in field_names]
        except KeyError:
            raise DataError(f"query job {job.job_id} returned columns {header}, expected Id, {', '.join(field_names)}") from None
        for row in rows:
            record_id = row[columns[0]]
            if record_id in wanted:
                current[record_id] = [row[c] for c in columns[1:]]
        received += len(rows)
        progress("read", received, job.server_rows)
    job.check_total(received)
    return current


# -- outputs -------------------------------------------------------------------------------
def _is_number(value: object) -> bool:
    try:
        return isinstance(value, str) and math.isfinite(float(value))
    except ValueError:
        return False


def _write_csv(path: Path, frame: pd.DataFrame, durable: bool = False) -> None:
    """Atomic CSV with formula-like text neutralised; numbers such as '-0.25' stay loadable."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(lambda v: v if _is_number(v) else neutralise_cell(v))
    write_text_atomic(path, safe.to_csv(index=False, lineterminator="\n"), durable=durable)


def _json_line(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, default=str)


def stamp(now: datetime) -> str:
    """A UTC time to the microsecond, usable in a file name: 20240501T093000.123456Z."""
    return now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")


def _stamped_rollback(out_dir: Path, now: datetime) -> str:
    name = f"rollback-{stamp(now)}.csv"
    counter = 1
    while (out_dir / name).exists():  # two pushes in the same microsecond (or a fixed `now`)
        counter += 1
        name = f"rollback-{stamp(now)}-{counter}.csv"
    return name


def read_rollback(path: Path) -> pd.DataFrame:
    """A rollback file as text (`Id` + fields; '' = value not known, '#N/A' = empty), spreadsheet escaping undone."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read ({type(exc).__name__})") from None
    if "Id" not in frame.columns or len(frame.columns) < 2:
        raise DataError(f"{path}: expected the columns Id and one or more fields; got {list(frame.columns)}")
    return restore_frame(frame)


def merge_rollback(older: pd.DataFrame | None, newer: pd.DataFrame) -> pd.DataFrame:
    """Rows and columns of both; a value already in `older` (from before an earlier push) is kept.

    >>> old = pd.DataFrame({"Id": ["a"], "S": ["x"]})
    >>> merge_rollback(old, pd.DataFrame({"Id": ["a", "b"], "S": ["y", "z"]}))["S"].tolist()
    ['x', 'z']
    """
    if older is None or older.empty:
        return newer.reset_index(drop=True)
    columns = list(older.columns) + [c for c in newer.columns if c not in older.columns]
    ids = list(older["Id"]) + [i for i in newer["Id"] if i not in set(older["Id"])]
    merged = older.set_index("Id").replace("", None).combine_first(newer.set_index("Id"))
    return merged.reindex(index=ids, columns=columns[1:]).fillna("").reset_index(names="Id")


def _outcome_text(report: PushReport) -> str:
    """What reached Salesforce, for a message after a failure."""
    if not report.jobs:
        return "nothing was sent to Salesforce"
    not_sent = report.to_change - report.updated - report.failed - report.unknown
    unknown = f", {report.unknown:,} unknown (job still running or unreadable)" if report.unknown else ""
    first = "first reads back the jobs left unknown (and waits while one runs), then " if report.unknown else ""
    return (f"{report.updated:,} row(s) confirmed updated, {report.failed:,} refused{unknown}, {not_sent:,} not sent "
            f"(jobs in {FILES['jobs']}); a re-run is safe: it {first}reads the current values and sends only what still differs")


# -- the push: shared by push_segments and rollback_segments -----------------------------------
@dataclass
class PushJob:
    """What a push or a rollback sends: where, which fields, which values (None = leave as it is)."""

    client: SalesforceClient
    run_dir: Path
    out_dir: Path
    fields: dict[str, TargetField]
    wanted: list[tuple[str, list[str | None]]]
    prefix: str = ""  # file name prefix: "" for a push, "undo_" for a rollback
    guard: bool = False  # leave records that no longer hold what custseg wrote (a rollback)
    force: bool = False  # ... or send them too


@dataclass
class Diff:
    """Rows to send and their previous values (Id -> row), diff rows, ids not found, ids unchanged, and the rows of
    records changed since custseg wrote them (`Id, field, written, now, wanted`)."""

    to_send: dict[str, list[str]]
    previous: dict[str, list[str]]
    rows: list[tuple]
    not_found: list[str]
    unchanged: list[str]
    changed_since: list[tuple]


def _diff(job: PushJob, current: dict[str, list[str]], report: PushReport, written: Written) -> Diff:
    """What differs, compared as the org stores it (`written`: a value the org rewrote on update is not a change);
    fills the report's counts."""
    targets = list(job.fields.values())
    to_send: dict[str, list[str]] = {}
    previous: dict[str, list[str]] = {}
    diff_rows, transitions, not_found, unchanged, changed_since = [], Counter(), [], [], []
    for record_id, new in job.wanted:
        if record_id not in current:
            not_found.append(record_id)
            continue
        old = current[record_id]
        changed = [i for i, t in enumerate(targets) if new[i] is not None and not _same(old[i], new[i], t)
                   and written.get((record_id, t.name)) != (new[i], old[i])]
        if not changed:
            unchanged.append(record_id)
            continue
        if job.guard:
            moved = [(record_id, targets[i].name, written[key][1], old[i], new[i]) for i in changed
                     if (key := (record_id, targets[i].name)) in written and not _same(old[i], written[key][1], targets[i])]
            changed_since += moved
            report.changed_since += bool(moved)
            if moved and not job.force:
                continue
        to_send[record_id] = [record_id] + ["" if v is None else (v or NULL_FOR_BULK) for v in new]
        previous[record_id] = [record_id] + [value if value != "" else NULL_FOR_BULK for value in old]
        transitions[(old[0], old[0] if new[0] is None else new[0])] += 1
        diff_rows += [(record_id, targets[i].name, old[i], new[i]) for i in changed]
    report.customers, report.not_found, report.to_change = len(job.wanted), len(not_found), len(to_send)
    report.unchanged = len(unchanged)
    report.transitions = [{"from": a, "to": b, "count": n} for (a, b), n in sorted(transitions.items(), key=lambda kv: (-kv[1], kv[0]))]
    return Diff(to_send, previous, diff_rows, not_found, unchanged, changed_since)


def _stored(job: PushJob, current: dict, diff: Diff, outcome: dict, report: PushReport, progress: Progress) -> Written:
    """What the org now stores for each value custseg sent (read back) or found already there; the rewrites in `report`.

    A row that cannot be read back is recorded as sent (a rewriting org's value is then resent once, and read again)."""
    names = [t.name for t in job.fields.values()]
    wanted = dict(job.wanted)
    updated = [i for i in diff.to_send if outcome.get(i, {}).get("status") == "updated"]
    try:
        read = read_current(job.client, report.object_name, names, updated, progress) if updated else {}
    except DataError as exc:
        log.warning("cannot read back the values just written (%s); they are recorded as sent", exc)
        read = {}
    after = {i: read.get(i) or ["" if v is None else v for v in wanted[i]] for i in updated}
    after.update({i: current[i] for i in diff.unchanged})
    newer = {(i, name): (wanted[i][n], values[n]) for i, values in after.items()
             for n, name in enumerate(names) if wanted[i][n] is not None}
    by_name = {t.name: t for t in job.fields.values()}
    read_back = {k: v for k, v in newer.items() if k[0] in read}
    report.rewritten, report.rewrites = rewrites(read_back, lambda stored, value, name: _same(stored, value, by_name[name]))
    return newer


def _audit_base(job: PushJob) -> dict:
    client = job.client
    return {"run_dir": str(job.run_dir.resolve()), "instance": client.instance_host,
            "api_version": client.settings.api_version, "auth": client.settings.auth}


def _resolve_open_jobs(job: PushJob, object_name: str, journal, by: Path | None = None) -> None:
    """Read back the jobs an earlier push or rollback to this folder left unknown or running; one audit line says what
    they did (`by`: the folder of the push that resolved them, when another)."""
    resolved = resolve_jobs(job.client, object_name, json_lines(job.out_dir / FILES["jobs"]), journal)
    if resolved:
        counts = {k: sum(r[k] for r in resolved) for k in ("updated", "failed", "unprocessed")}
        append_line(job.out_dir / FILES["audit"], _json_line({
            "time": datetime.now(timezone.utc).isoformat(timespec="seconds"), **_audit_base(job), "event": "resolved",
            "jobs": {r["job_id"]: r["state"] for r in resolved}, "pushes": sorted({str(r["push"]) for r in resolved}), **counts,
            **({"by": str(by)} if by else {})}))


def _journal_of(out_dir: Path, push_id: str):
    def journal(entry: dict) -> None:
        stamp = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        append_line(out_dir / FILES["jobs"], _json_line({"push": push_id, "time": stamp, **entry}))
    return journal


def _unfinished(entries: list[dict]) -> list[str]:
    """The pushes of a journal that started and did not finish."""
    started = [e.get("push") for e in entries if e.get("event") == "started"]
    finished = {e.get("push") for e in entries if e.get("event") == "finished"}
    return [push for push in started if push not in finished]


def _resolve_other_folders(job: PushJob, object_name: str, push_id: str) -> None:
    """Resolve the jobs that the push folders of other runs, or of this run into another `-o`, left open on this object
    (each in its own folder's files); DataError while one of them is in use by a push with jobs not known to have ended."""
    here = (job.run_dir.resolve(), job.out_dir.resolve())
    for run_dir, out_dir in push_folders(job.client.settings.state_dir, job.client.instance_host, object_name, FILES["jobs"]):
        if out_dir.resolve() == here[1]:
            continue
        entries = json_lines(out_dir / FILES["jobs"])
        left = list(open_jobs(entries))
        if not left and not _unfinished(entries):
            continue
        with ExitStack() as stack:
            try:
                stack.enter_context(locked(run_dir, out_dir, held=here))
            except CustsegError:
                what = f"update job(s) {', '.join(left)}" if left else "a push that has not finished"
                raise DataError(f"{out_dir} has {what} on {object_name} and is in use by another custseg process (a push "
                                "or rollback sending now); nothing was sent: run again when it has finished") from None
            other = replace(job, run_dir=run_dir, out_dir=out_dir)
            try:
                _resolve_open_jobs(other, object_name, _journal_of(out_dir, push_id), by=here[1])
            except DataError as exc:
                raise DataError(f"{out_dir}: {exc}") from None
            _recover_interrupted(other, _audit_base(other))


def _recover_interrupted(job: PushJob, audit_base: dict) -> None:
    """Give every push of the journal that started but never finished (killed, or its files could not be written)
    and has no audit line its audit line, with the job states and counts the journal holds."""
    journal = job.out_dir / FILES["jobs"]
    started: dict[str, dict] = {}
    for entry in json_lines(journal):
        push_id = entry.get("push")
        if entry.get("event") == "started":
            started[push_id] = {**entry, "jobs": {}}
        elif entry.get("event") == "job" and push_id in started:
            started[push_id]["jobs"].setdefault(entry["job_id"], {}).update(entry)
        elif entry.get("event") == "finished":
            started.pop(push_id, None)
    audited = {entry.get("push") for entry in json_lines(job.out_dir / FILES["audit"])} if started else set()
    for push_id, entry in started.items():
        if push_id not in audited:
            jobs = entry["jobs"].values()
            unread = [j for j in jobs if j.get("state") == UNKNOWN]
            error = ("interrupted: the process stopped before recording the outcome (killed, or its files could not be "
                     f"written); {len(unread)} of its {len(jobs)} job(s) in an unknown state")
            append_line(job.out_dir / FILES["audit"], _json_line({
                **audit_base, "event": "interrupted", "push": push_id, "time": entry.get("time"), "mode": entry.get("mode", "apply"),
                "to_change": entry.get("rows"), "updated": sum(j.get("updated", 0) for j in jobs),
                "failed": sum(j.get("failed", 0) for j in jobs), "jobs": list(entry["jobs"]), "error": error,
                "files": {"rollback": FILES["rollback"]}}))
        append_line(journal, _json_line({"push": push_id, "event": "finished", "recovered": True}))


def _start(job: PushJob, report: PushReport, header: list[str], previous: dict, now: datetime, journal) -> None:
    """Before the first job: the previous values (a stamped copy; a push also merges them into rollback.csv), then "started"."""
    rollback = pd.DataFrame(list(previous.values()), columns=header)
    path = job.out_dir / FILES["rollback"]
    stamped = _stamped_rollback(job.out_dir, now)
    _write_csv(job.out_dir / stamped, rollback, durable=True)
    if not job.prefix:  # a rollback leaves rollback.csv as it is: running it again sends nothing
        _write_csv(path, merge_rollback(read_rollback(path) if path.is_file() else None, rollback), durable=True)
    report.files.update({"rollback": FILES["rollback"], "rollback_copy": stamped})
    try:
        register_folder(job.client.settings.state_dir, job.client.instance_host, report.object_name, job.run_dir, job.out_dir)
    except OSError as exc:
        log.warning("cannot list %s among the push folders in %s (%s): a push from another folder will not resolve the "
                    "jobs this one leaves open", job.out_dir, job.client.settings.state_dir, exc.strerror or exc)
    journal({"event": "started", "mode": report.mode, "rows": len(previous), "rollback_copy": stamped})


def send_values(job: PushJob, report: PushReport, apply: bool, settings: dict, progress: Progress, sleep, now: datetime) -> PushReport:
    """Read the current values, diff, write the files; with `apply` send the changes and record everything."""
    client, out_dir = job.client, job.out_dir
    names = [t.name for t in job.fields.values()]

    journal = _journal_of(out_dir, report.push_id)
    if apply:  # before the current values are read: a job still running would overwrite them
        _resolve_open_jobs(job, report.object_name, journal)
        _resolve_other_folders(job, report.object_name, report.push_id)
    current = read_current(client, report.object_name, names, [i for i, _ in job.wanted], progress)
    written = read_written(out_dir)
    diff = _diff(job, current, report, written)
    to_send, previous = diff.to_send, diff.previous
    files = {k: job.prefix + FILES[k] for k in ("to_send", "diff", "not_found", "summary", "results", "failures", "changed_since")}
    out_dir.mkdir(parents=True, exist_ok=True)
    header = ["Id"] + names
    _write_csv(out_dir / files["to_send"], pd.DataFrame(list(to_send.values()), columns=header))
    _write_csv(out_dir / files["diff"], pd.DataFrame(diff.rows, columns=["Id", "field", "from", "to"]))
    _write_csv(out_dir / files["not_found"], pd.DataFrame({"Id": diff.not_found}, dtype=object))
    report.files.update({k: files[k] for k in ("to_send", "diff", "not_found")})
    if job.guard:
        _write_csv(out_dir / files["changed_since"], pd.DataFrame(diff.changed_since, columns=["Id", "field", "written", "now", "wanted"]))
        report.files["changed_since"] = files["changed_since"]
    audit_base = _audit_base(job)

    outcome: dict[str, dict] = {}
    jobs: list[SentJob] = []
    failure: BaseException | None = None
    stored: Written = {}
    try:
        _recover_interrupted(job, audit_base)
        if apply and to_send:
            _start(job, report, header, previous, now, journal)
            with terminate_as_interrupt():
                send_rows(client, report.object_name, header, to_send, settings["batch_size"], settings["max_retries"],
                          settings["retry_seconds"], sleep, report, outcome, progress, journal, jobs)
        if apply:
            stored = _stored(job, current, diff, outcome, report, progress)
    except BaseException as exc:  # noqa: BLE001 - recorded, then raised again below
        failure = exc
        report.error = str(exc) if isinstance(exc, CustsegError) else f"{type(exc).__name__}: {exc}"
    try:
        results = _results(report, outcome, jobs, to_send) if apply else None
        if stored:
            _write_csv(out_dir / FILES["written"], merged_frame(written, stored), durable=True)
            report.files["written"] = FILES["written"]
        if results is not None:
            _write_results(results, to_send, header, out_dir, files, report)
        _write_summary(report, out_dir, now, files["summary"], audit_base, client)
        if apply and to_send:  # last: a push whose audit line could not be written gets it from the next command
            journal({"event": "finished", "updated": report.updated, "failed": report.failed, "unknown": report.unknown,
                     "error": report.error})
    except OSError as exc:
        name = Path(exc.filename).name if exc.filename else out_dir
        raise DataError(client.settings.redact(
            f"cannot write {name} in {out_dir}: {exc.strerror or exc}; {_outcome_text(report)}")) from None
    if isinstance(failure, OSError):
        name = Path(failure.filename).name if failure.filename else out_dir
        raise DataError(f"cannot write {name} in {out_dir}: {failure.strerror or failure}; {_outcome_text(report)}") from None
    if isinstance(failure, KeyboardInterrupt) and apply and to_send:
        raise Interrupted(f"interrupted (any job still running was aborted and read back); {_outcome_text(report)}") from None
    if isinstance(failure, Exception) and apply and to_send:
        raise DataError(client.settings.redact(f"{report.error}; {_outcome_text(report)}")) from None
    if failure is not None:
        raise failure
    return report


def _results(report: PushReport, outcome: dict, jobs: list[SentJob], to_send: dict) -> pd.DataFrame:
    """One row per row to send: its outcome; fills the report's counts (before any file is written)."""
    job_of = {record_id: job for job in jobs for record_id in job.ids}
    results = [{"Id": i, **o} for i, o in outcome.items()]
    for record_id in to_send:
        if record_id in outcome:
            continue
        job = job_of.get(record_id)
        if job is not None and job.state == UNKNOWN:
            results.append({"Id": record_id, "status": UNKNOWN, "attempts": job.attempt, "error_code": "UNKNOWN",
                            "error": "UNKNOWN: the job's state could not be read", "job_id": job.job_id})
        else:
            results.append({"Id": record_id, "status": "not sent", "attempts": 0})
    frame = pd.DataFrame(results, columns=["Id", "status", "attempts", "error_code", "error", "job_id"])
    report.updated = int((frame["status"] == "updated").sum())
    report.failed = int((frame["status"] == "failed").sum())
    report.unknown = int((frame["status"] == UNKNOWN).sum())
    return frame


def _write_results(results: pd.DataFrame, to_send: dict, header: list[str], out_dir: Path, files: dict, report: PushReport) -> None:
    failed = results[results["status"] == "failed"].reset_index(drop=True)
    blank = [""] * len(header)
    values = pd.DataFrame([to_send.get(i, blank) for i in failed["Id"]], columns=header).drop(columns="Id")
    _write_csv(out_dir / files["results"], results)
    _write_csv(out_dir / files["failures"], pd.concat([failed[["Id", "error_code", "error", "job_id"]], values], axis=1))
    report.files.update({"results": files["results"], "failures": files["failures"]})


def _write_summary(report: PushReport, out_dir: Path, now: datetime, summary_name: str, audit_base: dict, client: SalesforceClient) -> None:
    report.files["summary"] = summary_name
    report.files["audit"] = FILES["audit"]
    summary = report.to_dict()
    write_text_atomic(out_dir / summary_name, json.dumps(summary, indent=2, ensure_ascii=False, default=str) + "\n")
    audit = {
        "time": now.isoformat(timespec="seconds"),
        **audit_base,
        "event": "rollback" if report.mode.startswith("rollback") else "push",
        "push": report.push_id,
        **{k: summary[k] for k in ("mode", "object_name", "fields", "customers", "not_found", "unchanged", "to_change",
                                   "updated", "failed", "unknown", "retried", "changed_since", "rewritten", "jobs", "error",
                                   "approval")},
        "files": {k: v for k, v in report.files.items() if k not in ("summary", "audit")},
    }
    append_line(out_dir / FILES["audit"], client.settings.redact(_json_line(audit)))


def check_send_settings(batch_size: int, max_retries: int, retry_seconds: float) -> dict:
    """The sending settings, checked."""
    if not 1 <= int(batch_size) <= 150_000_000:
        raise UsageError(f"batch size must be an int in the range [1, 150000000]; got {batch_size}")
    if not 0 <= int(max_retries) <= 20:
        raise UsageError(f"max retries must be an int in the range [0, 20]; got {max_retries}")
    if retry_seconds < 0:
        raise UsageError(f"retry seconds must be >= 0; got {retry_seconds}")
    return {"batch_size": int(batch_size), "max_retries": int(max_retries), "retry_seconds": float(retry_seconds)}


def output_dir(run_dir: Path, out_dir: str | Path | None) -> Path:
    """Where the push files go (default `<run_dir>/salesforce/`)."""
    out_dir = Path(out_dir) if out_dir is not None else run_dir / OUTPUT_FOLDER
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"output {out_dir} exists and is not a directory")
    return out_dir


@contextmanager
def locked(run_dir: Path, out_dir: Path, held: tuple[Path, ...] = ()) -> Iterator[None]:
    """Lock the run folder (and a separate output folder) for the time of a push: a second one stops at once.
    `held`: resolved folders this process already holds (left as they are)."""
    with ExitStack() as stack:
        if run_dir.is_dir() and run_dir.resolve() not in held:
            stack.enter_context(folder_lock(run_dir))
        if run_dir.resolve() not in (out_dir.resolve(), out_dir.resolve().parent) and out_dir.resolve() not in held:
            out_dir.parent.mkdir(parents=True, exist_ok=True)
            stack.enter_context(folder_lock(out_dir))
        yield


def push_segments(
    run_dir: str | Path,
    client: SalesforceClient,
    fields: PushFields | None = None,
    apply: bool = False,
    batch_size: int = 10_000,
    out_dir: str | Path | None = None,
    max_retries: int = 3,
    retry_seconds: float = 5.0,
    progress: Progress | None = None,
    sleep: Callable[[float], None] = time.sleep,
    now: datetime | None = None,
    unapproved: bool = False,
) -> PushReport:
    """Push each customer's segment of `run_dir` to its Account; dry run unless `apply`.

    Writes its files to `out_dir` (default `<run_dir>/salesforce/`) and returns a report;
    `report.failed` counts rows Salesforce refused. The run folder is locked meanwhile.
    `apply` refuses a run that is not approved (`custseg review RUN --approve`) unless
    `unapproved`, which the audit records.

    >>> report = push_segments("out/", connect(settings_from_env()))  # doctest: +SKIP
    >>> report.to_change, report.unchanged                             # doctest: +SKIP
    (120, 4380)
    """
    fields = fields or PushFields()
    settings = check_send_settings(batch_size, max_retries, retry_seconds)
    now = now or datetime.now(timezone.utc)
    run_dir = Path(run_dir)
    wanted = read_assignments(run_dir, fields)
    out_dir = output_dir(run_dir, out_dir)
    approval = approval_check(run_dir, apply, unapproved)

    obj = fields.object_name
    describe = client.describe(obj)
    target_fields = preflight(describe, fields)
    _check_values(wanted, target_fields, run_dir / S.ASSIGNMENTS_PARQUET)
    prefix = describe.get("keyPrefix")
    if prefix:
        other = wanted.loc[~wanted["Id"].str.startswith(prefix), "Id"]
        if not other.empty:
            raise DataError(
                f"{run_dir / S.ASSIGNMENTS_PARQUET}, column {S.CUSTOMER_ID}: {other.iloc[0]!r} is not an {obj} Id "
                f"({obj} Ids start with {prefix}); the run must use the account id (SBQQ__Account__c) as customer"
            )
    roles = list(target_fields)
    values = [(record.Id, [_format(getattr(record, role), target_fields[role]) for role in roles])
              for record in wanted.itertuples(index=False)]
    report = PushReport(mode="apply" if apply else "dry-run", object_name=obj, fields={r: target_fields[r].name for r in roles},
                        customers=len(wanted), not_found=0, unchanged=0, to_change=0, transitions=[], out_dir=out_dir,
                        push_id=stamp(now), approval=approval)
    with locked(run_dir, out_dir):
        return send_values(PushJob(client, run_dir, out_dir, target_fields, values), report, apply, settings,
                            progress or no_progress, sleep, now)


def approval_check(run_dir: Path, apply: bool, unapproved: bool) -> dict:
    """The run's sign-off as the push records it; DataError when `apply` meets a run not approved (unless `unapproved`)."""
    status = approval_status(run_dir)
    if apply and not status.approved and not unapproved:
        raise DataError(f"{run_dir} is not approved ({status.reason}); nothing was sent: check its report, then "
                        f"custseg review {run_dir} --approve --by \"Your Name\" (or push with --unapproved, recorded in the audit)")
    return {"approved": status.approved, "reason": status.reason, "by": status.by, "at": status.at,
            "unapproved": bool(apply and not status.approved)}


def write_offline(run_dir: str | Path, fields: PushFields | None = None, out_dir: str | Path | None = None) -> PushReport:
    """Write `to_send.csv` as a push would send it, without connecting: every customer with the value of each
    field (formatted for the fields `custseg salesforce fields` creates). Without the org's current values there
    is no diff: the file lists every customer, changed or not.

    >>> write_offline("out/").files["to_send"]  # doctest: +SKIP
    'to_send.csv'
    """
    fields = fields or PushFields()
    run_dir = Path(run_dir)
    wanted = read_assignments(run_dir, fields)
    out_dir = output_dir(run_dir, out_dir)
    targets = created_fields(fields)
    _check_values(wanted, targets, run_dir / S.ASSIGNMENTS_PARQUET)
    header = ["Id"] + [t.name for t in targets.values()]
    rows = [[record.Id] + [_format(getattr(record, role), target) for role, target in targets.items()]
            for record in wanted.itertuples(index=False)]
    with locked(run_dir, out_dir):
        out_dir.mkdir(parents=True, exist_ok=True)
        _write_csv(out_dir / FILES["to_send"], pd.DataFrame(rows, columns=header))
    return PushReport(mode="offline", object_name=fields.object_name, fields=fields.targets(), customers=len(wanted),
                      not_found=0, unchanged=0, to_change=len(wanted), transitions=[], out_dir=out_dir,
                      files={"to_send": FILES["to_send"]}, approval=approval_check(run_dir, False, False))


def no_progress(stage: str, done: int, total: int | None) -> None:
    """Progress callback that reports nothing."""
