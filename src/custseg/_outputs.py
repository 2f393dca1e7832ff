"""Every folder custseg writes (docs/outputs.md): a run, RFM segments, a method comparison, a migration; all files at once, or nothing."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np

from . import _schema as S
from ._atomic import neutralise_frame, staged_directory
from ._report import dendrogram_figure, render_report, sankey_figure
from ._result import RFMResult, SegmentationResult


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def _finite(value):
    """NaN and infinities become null (JSON has no such numbers)."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, float | np.floating) and not math.isfinite(value):
        return None
    return value


def dump_json(data: dict) -> str:
    """Readable JSON, NaN written as null (key order is kept: it is meaningful)."""
    return json.dumps(_finite(data), indent=2, ensure_ascii=False, default=_json_default, allow_nan=False) + "\n"


def write_csv(frame, path: Path) -> None:
    """CSV with spreadsheet formulas neutralised."""
    neutralise_frame(frame).to_csv(path, index=False, lineterminator="\n")


def write_run(result: SegmentationResult, out_dir: str | Path, overwrite: bool = False, report: bool = True) -> Path:
    """Write every output of `result` into `out_dir`; returns the directory.

    The directory is built beside `out_dir` and renamed into place when complete.
    """
    out_dir = Path(out_dir)
    start = time.perf_counter()
    with staged_directory(out_dir, overwrite) as staging:
        write_csv(result.assignments, staging / S.ASSIGNMENTS_CSV)
        result.assignments.to_parquet(staging / S.ASSIGNMENTS_PARQUET, index=False)
        write_csv(result.profiles, staging / S.PROFILES_CSV)
        write_csv(result.k_selection, staging / S.K_SELECTION_CSV)
        write_csv(result.top_products, staging / S.TOP_PRODUCTS_CSV)
        (staging / S.CLEANING_JSON).write_text(dump_json(result.cleaning), encoding="utf-8")
        (staging / S.MODEL_JSON).write_text(dump_json(result.model), encoding="utf-8")
        if report:
            render_report(result, staging / S.REPORT_HTML, lang=result.run["lang"])
        result.run["timings"]["write"] = round(time.perf_counter() - start, 4)
        (staging / S.RUN_JSON).write_text(dump_json(result.run), encoding="utf-8")
    result.directory = out_dir
    return out_dir


def write_rfm(result: RFMResult, out_dir: str | Path, overwrite: bool = False) -> Path:
    """rfm_customers.csv, rfm_segments.csv and rfm.json, written atomically."""
    with staged_directory(out_dir, overwrite) as staging:
        write_csv(result.customers.rename(columns={"customer": S.CUSTOMER_ID}), staging / "rfm_customers.csv")
        write_csv(result.segments, staging / "rfm_segments.csv")
        (staging / "rfm.json").write_text(dump_json(result.info | {"cleaning": result.cleaning}), encoding="utf-8")
    return Path(out_dir)


def write_comparison(comparison, out_dir: str | Path, lang: str = "en", overwrite: bool = False) -> Path:
    """A method comparison (`compare_methods`): tables, JSON and Ward's dendrogram, written atomically."""
    with staged_directory(out_dir, overwrite) as staging:
        write_csv(comparison.table, staging / "comparison.csv")
        write_csv(comparison.agreement.reset_index(names="method"), staging / "agreement.csv")
        write_csv(comparison.labels, staging / "labels.csv")
        write_csv(comparison.k_selection, staging / S.K_SELECTION_CSV)
        document = {"info": comparison.info, "recommendation": comparison.recommendation,
                    "dendrogram": comparison.dendrogram}
        (staging / "comparison.json").write_text(dump_json(document), encoding="utf-8")
        if comparison.dendrogram:
            dendrogram_figure(comparison.dendrogram, lang).write_html(staging / "dendrogram.html", include_plotlyjs=True)
    return Path(out_dir)


def write_migration(migration, out_dir: str | Path, overwrite: bool = False) -> Path:
    """CSV matrices, the movers, a JSON summary and an offline HTML Sankey, written atomically."""
    with staged_directory(out_dir, overwrite) as staging:
        write_csv(migration.counts.rename_axis("from \\ to").reset_index(), staging / "migration_counts.csv")
        if migration.revenue is not None:
            write_csv(migration.revenue.rename_axis("from \\ to").reset_index(), staging / "migration_revenue.csv")
        write_csv(migration.movers, staging / "movers.csv")
        (staging / "migration.json").write_text(dump_json(migration.summary), encoding="utf-8")
        figure = sankey_figure(migration, "Customer migration between segments")
        figure.write_html(staging / "migration.html", include_plotlyjs=True, full_html=True)
    return Path(out_dir)
