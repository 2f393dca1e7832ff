"""Rollback: put back the values `rollback.csv` holds (those from before the first push) where they differ."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from .._errors import DataError
from ._client import SalesforceClient
from ._push import (
    FILES,
    NULL_FOR_BULK,
    Progress,
    PushReport,
    PushJob,
    no_progress,
    send_values,
    stamp,
    check_send_settings,
    locked,
    output_dir,
    read_rollback,
)
from ._soql import check_record_id
from ._targets import TargetField

UNDO_PREFIX = "undo_"


def _targets(describe: dict, columns: list[str], path: Path) -> dict[str, TargetField]:
    """The fields of the rollback file's columns, as `describe` gives them; DataError if one is not editable."""
    by_name = {f["name"].lower(): f for f in describe.get("fields", [])}
    out = {}
    for name in columns:
        info = by_name.get(name.lower())
        if info is None or not info.get("updateable"):
            raise DataError(f"{path}: column {name} is not an editable field of {describe.get('name')} for this user; nothing was sent")
        out[name] = TargetField(name, info["name"], info["type"], int(info.get("length") or 0), int(info.get("scale") or 0), None)
    return out


def _cell(value: str) -> str | None:
    """A rollback cell as a wanted value: '' = not known (leave it), '#N/A' = empty."""
    if value == "":
        return None
    return "" if value == NULL_FOR_BULK else value


def rollback_segments(
    run_dir: str | Path,
    client: SalesforceClient,
    apply: bool = False,
    out_dir: str | Path | None = None,
    object_name: str = "Account",
    batch_size: int = 10_000,
    max_retries: int = 3,
    retry_seconds: float = 5.0,
    progress: Progress | None = None,
    sleep: Callable[[float], None] = time.sleep,
    now: datetime | None = None,
    force: bool = False,
) -> PushReport:
    """Restore the values of `<out_dir>/rollback.csv` where the org differs; dry run unless `apply`.

    A record that no longer holds what custseg wrote (`written.csv`: changed since by someone else or
    another push) is left as it is unless `force`, and listed in `undo_changed_since.csv`.
    Writes `undo_to_send.csv`, `undo_diff.csv`, ... beside the push files and one audit line;
    the values it overwrites go to a stamped `rollback-<time>.csv`.

    >>> rollback_segments("out/", connect(settings_from_env())).to_change  # doctest: +SKIP
    120
    """
    settings = check_send_settings(batch_size, max_retries, retry_seconds)
    now = now or datetime.now(timezone.utc)
    run_dir = Path(run_dir)
    out_dir = output_dir(run_dir, out_dir)
    path = out_dir / FILES["rollback"]
    if not path.is_file():
        raise DataError(f"{path}: file not found; nothing was pushed with --apply from {run_dir} (or use -o for another folder)")
    with locked(run_dir, out_dir):
        frame = read_rollback(path)
        columns = [c for c in frame.columns if c != "Id"]
        targets = _targets(client.describe(object_name), columns, path)
        wanted = [(check_record_id(row[0], f"{path}, column Id"), [_cell(v) for v in row[1:]])
                  for row in frame[["Id"] + columns].itertuples(index=False)]
        report = PushReport(mode="rollback" if apply else "rollback dry-run", object_name=object_name,
                            fields={c: targets[c].name for c in columns}, customers=len(wanted), not_found=0, unchanged=0,
                            to_change=0, transitions=[], out_dir=out_dir, push_id=stamp(now))
        job = PushJob(client, run_dir, out_dir, targets, wanted, prefix=UNDO_PREFIX, guard=True, force=force)
        return send_values(job, report, apply, settings, progress or no_progress, sleep, now)
