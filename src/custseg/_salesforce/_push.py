"""Push: write each customer's segment to its Account record, only where it changes.

Order of work: read the run directory (no network) -> preflight the fields with
`describe` -> read the current values -> diff -> write `to_send.csv`, `diff.csv`,
`summary.json` -> with `apply`: `rollback.csv`, update jobs with retries of transient
row errors, `results.csv`, `failures.csv` -> append one line to `audit.jsonl`.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from .. import _schema as S
from .._atomic import neutralise_cell, write_text_atomic
from .._errors import CustsegError, DataError, UsageError
from ._bulk import QueryJob
from ._client import SalesforceClient
from ._run_input import read_assignments
from ._send import send_rows
from ._soql import quote
from ._targets import PushFields, TargetField, preflight

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
}


@dataclass
class PushReport:
    """What a push found and did; `failed` > 0 means some rows were not updated."""

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
    retried: int = 0
    jobs: list[str] = field(default_factory=list)
    out_dir: Path | None = None
    files: dict[str, str] = field(default_factory=dict)
    error: str | None = None

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


def _write_csv(path: Path, frame: pd.DataFrame) -> None:
    """Atomic CSV with formula-like text neutralised; numbers such as '-0.25' stay loadable."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(lambda v: v if _is_number(v) else neutralise_cell(v))
    write_text_atomic(path, safe.to_csv(index=False, lineterminator="\n"))


def _append_audit(path: Path, record: dict) -> None:
    previous = path.read_text(encoding="utf-8") if path.is_file() else ""
    write_text_atomic(path, previous + json.dumps(record, ensure_ascii=False, default=str) + "\n")


def _stamp(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%SZ")


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
) -> PushReport:
    """Push each customer's segment of `run_dir` to its Account; dry run unless `apply`.

    Writes its files to `out_dir` (default `<run_dir>/salesforce/`) and returns a report;
    `report.failed` counts rows Salesforce refused.

    >>> report = push_segments("out/", connect(settings_from_env()))  # doctest: +SKIP
    >>> report.to_change, report.unchanged                             # doctest: +SKIP
    (120, 4380)
    """
    fields = fields or PushFields()
    if not 1 <= int(batch_size) <= 150_000_000:
        raise UsageError(f"batch size must be an int in the range [1, 150000000]; got {batch_size}")
    if not 0 <= int(max_retries) <= 20:
        raise UsageError(f"max retries must be an int in the range [0, 20]; got {max_retries}")
    if retry_seconds < 0:
        raise UsageError(f"retry seconds must be >= 0; got {retry_seconds}")
    progress = progress or (lambda stage, done, total: None)
    now = now or datetime.now(timezone.utc)
    run_dir = Path(run_dir)
    wanted = read_assignments(run_dir, fields)
    out_dir = Path(out_dir) if out_dir is not None else run_dir / OUTPUT_FOLDER
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"output {out_dir} exists and is not a directory")

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
    names = [target_fields[r].name for r in roles]
    current = read_current(client, obj, names, list(wanted["Id"]), progress)

    to_send: dict[str, list[str]] = {}
    previous: dict[str, list[str]] = {}
    diff_rows, transitions, not_found = [], Counter(), []
    for record in wanted.itertuples(index=False):
        record_id = record.Id
        new = [_format(getattr(record, role), target_fields[role]) for role in roles]
        if record_id not in current:
            not_found.append(record_id)
            continue
        old = current[record_id]
        changed = [i for i, role in enumerate(roles) if not _same(old[i], new[i], target_fields[role])]
        if not changed:
            continue
        to_send[record_id] = [record_id] + new
        previous[record_id] = [record_id] + [value if value != "" else NULL_FOR_BULK for value in old]
        transitions[(old[0], new[0])] += 1
        diff_rows += [(record_id, names[i], old[i], new[i]) for i in changed]

    report = PushReport(
        mode="apply" if apply else "dry-run",
        object_name=obj,
        fields=dict(zip(roles, names)),
        customers=len(wanted),
        not_found=len(not_found),
        unchanged=len(wanted) - len(not_found) - len(to_send),
        to_change=len(to_send),
        transitions=[{"from": a, "to": b, "count": n} for (a, b), n in sorted(transitions.items(), key=lambda kv: (-kv[1], kv[0]))],
        out_dir=out_dir,
    )

    out_dir.mkdir(parents=True, exist_ok=True)
    header = ["Id"] + names
    _write_csv(out_dir / FILES["to_send"], pd.DataFrame(list(to_send.values()), columns=header))
    _write_csv(out_dir / FILES["diff"], pd.DataFrame(diff_rows, columns=["Id", "field", "from", "to"]))
    _write_csv(out_dir / FILES["not_found"], pd.DataFrame({"Id": not_found}, dtype=object))
    report.files.update({"to_send": FILES["to_send"], "diff": FILES["diff"], "not_found": FILES["not_found"]})

    outcome: dict[str, dict] = {}
    try:
        if apply and to_send:
            rollback = pd.DataFrame(list(previous.values()), columns=header)
            stamped = f"rollback-{_stamp(now)}.csv"
            _write_csv(out_dir / stamped, rollback)
            _write_csv(out_dir / FILES["rollback"], rollback)
            report.files.update({"rollback": FILES["rollback"], "rollback_copy": stamped})
            send_rows(client, obj, header, to_send, int(batch_size), int(max_retries), retry_seconds, sleep, report, outcome, progress)
    except BaseException as exc:
        report.error = str(exc) if isinstance(exc, CustsegError) else f"{type(exc).__name__}: {exc}"
        raise
    finally:
        if apply:
            _finish_apply(report, outcome, to_send, header, out_dir)
        _write_summary(report, out_dir, now, run_dir, client)
    return report


def _finish_apply(report: PushReport, outcome: dict, to_send: dict, header: list[str], out_dir: Path) -> None:
    results = [{"Id": i, **o} for i, o in outcome.items()]
    results += [{"Id": i, "status": "not sent", "attempts": 0} for i in to_send if i not in outcome]
    columns = ["Id", "status", "attempts", "error_code", "error", "job_id"]
    results_frame = pd.DataFrame(results, columns=columns)
    failed = results_frame[results_frame["status"] == "failed"].reset_index(drop=True)
    blank = [""] * len(header)
    values = pd.DataFrame([to_send.get(i, blank) for i in failed["Id"]], columns=header).drop(columns="Id")
    failures_frame = pd.concat([failed[["Id", "error_code", "error", "job_id"]], values], axis=1)
    _write_csv(out_dir / FILES["results"], results_frame)
    _write_csv(out_dir / FILES["failures"], failures_frame)
    report.files.update({"results": FILES["results"], "failures": FILES["failures"]})
    report.updated = int((results_frame["status"] == "updated").sum())
    report.failed = len(failed)


def _write_summary(report: PushReport, out_dir: Path, now: datetime, run_dir: Path, client: SalesforceClient) -> None:
    report.files["summary"] = FILES["summary"]
    report.files["audit"] = FILES["audit"]
    summary = report.to_dict()
    write_text_atomic(out_dir / FILES["summary"], json.dumps(summary, indent=2, ensure_ascii=False, default=str) + "\n")
    audit = {
        "time": now.isoformat(timespec="seconds"),
        "run_dir": str(run_dir.resolve()),
        "instance": client.instance_host,
        "api_version": client.settings.api_version,
        "auth": client.settings.auth,
        **{k: summary[k] for k in ("mode", "object_name", "fields", "customers", "not_found", "unchanged", "to_change",
                                   "updated", "failed", "retried", "jobs", "error")},
        "files": {k: v for k, v in report.files.items() if k not in ("summary", "audit")},
    }
    _append_audit(out_dir / FILES["audit"], json.loads(client.settings.redact(json.dumps(audit, default=str))))
