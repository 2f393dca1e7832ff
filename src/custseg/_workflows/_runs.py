"""Run history: every run directory describes itself in run.json."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .. import _schema as S
from .._errors import DataError

MAX_DEPTH = 3


def list_runs(directory: str | Path) -> pd.DataFrame:
    """One row per run found under `directory` (itself included, up to 3 levels down), oldest first."""
    directory = Path(directory)
    if not directory.is_dir():
        raise DataError(f"{directory}: not a directory")
    rows = []
    for run_json in sorted(directory.glob("**/" + S.RUN_JSON)):
        if len(run_json.relative_to(directory).parts) > MAX_DEPTH + 1 or run_json.parent.name.startswith("."):
            continue
        try:
            run = json.loads(run_json.read_text(encoding="utf-8"))
            chosen = pd.read_csv(run_json.parent / S.K_SELECTION_CSV).query("chosen")
        except (OSError, ValueError):
            continue
        rows.append({
            "run": str(run_json.parent), "created": run.get("created"), "mode": run.get("mode", "run"),
            "input": run.get("input", {}).get("name"), "period": f"{run.get('date_min') or ''}..{run.get('date_max') or ''}",
            "customers": run.get("n_customers"), "k": run.get("k", {}).get("chosen"),
            "silhouette": float(chosen["silhouette"].iloc[0]) if len(chosen) else None,
        })
    return pd.DataFrame(rows, columns=["run", "created", "mode", "input", "period", "customers", "k", "silhouette"]).sort_values("created", kind="stable").reset_index(drop=True)
