"""The sign-off of a run: who approved it, when, and the SHA-256 of what they approved.

An approval holds while the approved files are byte for byte those that were approved: a
review applied afterwards, a rerun or a hand edit of the assignments makes it void.
"""

from __future__ import annotations

import datetime as dtm
from dataclasses import dataclass
from pathlib import Path

from .. import _schema as S
from .._atomic import file_sha256, read_json
from .._errors import DataError

APPROVED_FILES = (S.ASSIGNMENTS_PARQUET, S.PROFILES_CSV, S.MODEL_JSON)
"""What an approval covers: what the CRM receives (assignments, the profiles' texts) and what scores next year."""


@dataclass(frozen=True)
class Approval:
    """Whether a run is approved now; `reason` says why not (or by whom, when it is)."""

    approved: bool
    reason: str
    by: str | None = None
    at: str | None = None


def file_hashes(run_dir: str | Path) -> dict[str, str | None]:
    """SHA-256 of each approved file of `run_dir` (None for a missing one)."""
    run_dir = Path(run_dir)
    return {name: file_sha256(run_dir / name) if (run_dir / name).is_file() else None for name in APPROVED_FILES}


def approval_record(run_dir: str | Path, by: str, now: dtm.datetime) -> dict:
    """run.json's `approval`: who, when (UTC, to the second), and the hashes of the approved files."""
    return {"by": by, "at": now.astimezone(dtm.timezone.utc).isoformat(timespec="seconds"), "sha256": file_hashes(run_dir)}


def read_run_record(run_dir: str | Path) -> dict:
    """run.json of a run folder."""
    path = Path(run_dir) / S.RUN_JSON
    run = read_json(path, f"file not found; is {run_dir} a folder written by `custseg run`?", "not valid JSON ({error})")
    if not isinstance(run, dict):
        raise DataError(f"{path}: not a run record")
    return run


def approval_status(run_dir: str | Path, run: dict | None = None) -> Approval:
    """Is `run_dir` approved now? Approved when run.json holds an approval whose hashes match the files.

    >>> approval_status("out/").reason  # doctest: +SKIP
    'nobody approved it'
    """
    run = read_run_record(run_dir) if run is None else run
    record = run.get("approval")
    if not isinstance(record, dict) or not isinstance(record.get("sha256"), dict):
        return Approval(False, "nobody approved it")
    by, at = str(record.get("by", "?")), str(record.get("at", "?"))
    current = file_hashes(run_dir)
    changed = [name for name in APPROVED_FILES if record["sha256"].get(name) != current[name]]
    if changed:
        return Approval(False, f"{', '.join(changed)} changed since {by} approved it on {at[:10]}", by, at)
    return Approval(True, f"approved by {by} on {at[:10]}", by, at)
