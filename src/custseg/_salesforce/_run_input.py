"""The push's input: a run directory's assignments, checked, as the values to send per role."""

from __future__ import annotations

import hashlib
import json
import math
from datetime import date
from pathlib import Path

import pandas as pd

from .. import _schema as S
from .._atomic import restore_frame
from .._errors import DataError, UsageError
from ._soql import check_record_id
from ._targets import PushFields


def _model_label(run_dir: Path) -> str:
    path = run_dir / S.MODEL_JSON
    if not path.is_file():
        raise DataError(f"{path}: file not found (needed for the model field)")
    return "custseg:" + hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def _run_record(run_dir: Path, needed: str) -> dict:
    path = run_dir / S.RUN_JSON
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{path}: file not found (needed for the {needed} field)") from None
    except ValueError:
        raise DataError(f"{path}: not valid JSON (needed for the {needed} field)") from None


def _run_day(run_dir: Path) -> str:
    try:
        created = str(_run_record(run_dir, "date")["created"])
        return date.fromisoformat(created[:10]).isoformat()
    except (KeyError, ValueError, TypeError):
        raise DataError(f"{run_dir / S.RUN_JSON}: no valid 'created' date (needed for the date field)") from None


def _actions(run_dir: Path, segment_ids: pd.Series) -> pd.Series:
    """Each customer's action: its segment's `action_<lang>` in profiles.csv (the run's language)."""
    lang = _run_record(run_dir, "action").get("lang", "en")
    path = run_dir / S.PROFILES_CSV
    try:
        profiles = restore_frame(pd.read_csv(path, keep_default_na=False, dtype={f"action_{lang}": str}))
    except FileNotFoundError:
        raise DataError(f"{path}: file not found (needed for the action field)") from None
    if f"action_{lang}" not in profiles.columns or S.SEGMENT_ID not in profiles.columns:
        raise DataError(f"{path}: no column {S.SEGMENT_ID} or action_{lang} (needed for the action field)")
    actions = dict(zip(profiles[S.SEGMENT_ID].astype(int), profiles[f"action_{lang}"].astype(str).str.strip()))
    missing = sorted(set(segment_ids.astype(int)) - set(actions))
    if missing:
        raise DataError(f"{path}: no row for segment {missing[0]} (needed for the action field)")
    return segment_ids.astype(int).map(actions)


def read_assignments(run_dir: str | Path, targets: PushFields) -> pd.DataFrame:
    """One row per customer: `Id` (18 characters) and one column per pushed role, as Python values: the segment's
    name and id (assignments.parquet), its action (profiles.csv, in the run's language), the run's day, the
    distance, the model's identifier."""
    run_dir = Path(run_dir)
    path = run_dir / S.ASSIGNMENTS_PARQUET
    if not run_dir.is_dir():
        raise UsageError(f"run directory {run_dir} not found")
    if not path.is_file():
        raise DataError(f"{path}: file not found; is {run_dir} a directory written by `custseg run`?")
    columns = [S.CUSTOMER_ID, S.SEGMENT_NAME] + ([S.SEGMENT_ID] if targets.segment_id or targets.action else []) + (
        [targets.score_column] if targets.score else [])
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several kinds for a bad file
        raise DataError(f"{path}: cannot read ({type(exc).__name__})") from None
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        raise DataError(f"{path}: no column {', '.join(absent)}")
    if frame.empty:
        raise DataError(f"{path}: no customers")
    ids = [check_record_id(v, f"{path}, column {S.CUSTOMER_ID}") for v in frame[S.CUSTOMER_ID]]
    duplicated = pd.Series(ids)[pd.Series(ids).duplicated()]
    if not duplicated.empty:
        raise DataError(f"{path}, column {S.CUSTOMER_ID}: {duplicated.iloc[0]!r} appears more than once")
    out = pd.DataFrame({"Id": ids})
    names = frame[S.SEGMENT_NAME].astype("string").str.strip()
    empty = names.isna() | (names == "")
    if empty.any():
        raise DataError(f"{path}, column {S.SEGMENT_NAME}: empty for customer {ids[int(empty.to_numpy().argmax())]}")
    out["segment"] = names.astype(str).to_numpy()  # Salesforce trims text values: compare trimmed
    if targets.segment_id:
        out["segment_id"] = frame[S.SEGMENT_ID].astype(int).to_numpy()
    if targets.action:
        out["action"] = _actions(run_dir, frame[S.SEGMENT_ID]).to_numpy()
    if targets.score:
        scores = pd.to_numeric(frame[targets.score_column], errors="coerce").astype(float)
        bad = ~scores.map(math.isfinite)
        if bad.any():
            raise DataError(f"{path}, column {targets.score_column}: not a finite number for customer {ids[int(bad.to_numpy().argmax())]}")
        out["score"] = scores.to_numpy()
    if targets.date:
        out["date"] = _run_day(run_dir)
    if targets.model:
        out["model"] = _model_label(run_dir)
    return out
