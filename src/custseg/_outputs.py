"""Every folder custseg writes (docs/outputs.md): a run, RFM segments, a method comparison, a migration; all files at once, or nothing."""

from __future__ import annotations

import functools
import itertools
import json
import math
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd

from . import _schema as S
from ._atomic import FORMULA_TRIGGERS, NEUTRAL_PREFIX, neutralise_frame, staged_directory
from ._report import dendrogram_figure, render_report, sankey_figure
from ._result import RFMResult, SegmentationResult


RUN_FILES = (S.ASSIGNMENTS_CSV, S.ASSIGNMENTS_PARQUET, S.PROFILES_CSV, S.K_SELECTION_CSV, S.TOP_PRODUCTS_CSV,
             S.PRODUCT_REVENUE_PARQUET, S.CLEANING_JSON, S.MODEL_JSON, S.RUN_JSON, S.REPORT_HTML)
"""The files of a run folder (`write_run`); report.html and product_revenue.parquet may be absent."""


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
    if isinstance(value, list | tuple):  # model.json's lists hold millions of numbers or ids
        try:
            if all(map(math.isfinite, value)):  # numbers only, all finite: a C loop
                return value
        except TypeError:  # not numbers only
            if all(map(isinstance, value, itertools.repeat(str))):
                return value
        return [_finite(v) for v in value]
    if isinstance(value, float | np.floating) and not math.isfinite(value):
        return None
    return value


def _encode(value, depth: int) -> str:
    """Indented JSON; a list of plain values on one line, by the C encoder (fast for millions of numbers)."""
    pad, inner = "  " * depth, "  " * (depth + 1)
    if isinstance(value, dict) and value:
        items = (f"{inner}{json.dumps(k if isinstance(k, str) else json.dumps(k), ensure_ascii=False)}: "
                 f"{_encode(v, depth + 1)}" for k, v in value.items())
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list | tuple) and any(map(isinstance, value, itertools.repeat((dict, list, tuple)))):
        return "[\n" + ",\n".join(inner + _encode(v, depth + 1) for v in value) + "\n" + pad + "]"
    return json.dumps(value, ensure_ascii=False, default=_json_default, allow_nan=False)


def dump_json(data: dict) -> str:
    """Readable JSON, NaN written as null (key order is kept: it is meaningful)."""
    return _encode(_finite(data), 0) + "\n"


def write_csv(frame, path: Path) -> None:
    """CSV with spreadsheet formulas neutralised."""
    neutralise_frame(frame).to_csv(path, index=False, lineterminator="\n")


def write_large_csv(frame: pd.DataFrame, path: Path) -> None:
    """CSV of a large table through Arrow's writer (800k customers: ~1 s instead of ~15 s with pandas).

    The same cells as `write_csv`: text neutralised, missing values empty, booleans True/False;
    Arrow quotes every text cell and may spell a number differently (0.00001 for 1e-05).
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pa_csv

    table = pa.Table.from_pandas(frame, preserve_index=False)  # NaN becomes missing
    columns = []
    for column in table.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            live = functools.reduce(pc.or_, (pc.starts_with(column, trigger) for trigger in FORMULA_TRIGGERS))
            prefix, nothing = pa.scalar(NEUTRAL_PREFIX, column.type), pa.scalar("", column.type)
            column = pc.if_else(live, pc.binary_join_element_wise(prefix, column, nothing), column)
        elif pa.types.is_boolean(column.type):
            column = pc.if_else(column, "True", "False")
        columns.append(column)
    pa_csv.write_csv(pa.table(columns, names=table.column_names), path)


def write_run(result: SegmentationResult, out_dir: str | Path, overwrite: bool = False, report: bool = True,
              keep_others: bool = False) -> Path:
    """Write every output of `result` into `out_dir`; returns the directory.

    The directory is built beside `out_dir` and renamed into place when complete. With
    `keep_others` (a review rewriting its run), what other commands wrote in the old folder
    (the push history in salesforce/, PNG charts, migration tables) is copied into the new one.
    """
    out_dir = Path(out_dir)
    start = time.perf_counter()
    with staged_directory(out_dir, overwrite) as staging:
        write_large_csv(result.assignments, staging / S.ASSIGNMENTS_CSV)
        result.assignments.to_parquet(staging / S.ASSIGNMENTS_PARQUET, index=False)
        write_csv(result.profiles, staging / S.PROFILES_CSV)
        write_csv(result.k_selection, staging / S.K_SELECTION_CSV)
        write_csv(result.top_products, staging / S.TOP_PRODUCTS_CSV)
        if result.product_revenue is not None:
            result.product_revenue.to_parquet(staging / S.PRODUCT_REVENUE_PARQUET, index=False)
        (staging / S.CLEANING_JSON).write_text(dump_json(result.cleaning), encoding="utf-8")
        (staging / S.MODEL_JSON).write_text(dump_json(result.model), encoding="utf-8")
        if report:
            render_report(result, staging / S.REPORT_HTML, lang=result.run["lang"])
        result.run["timings"]["write"] = round(time.perf_counter() - start, 4)
        (staging / S.RUN_JSON).write_text(dump_json(result.run), encoding="utf-8")
        if keep_others and out_dir.is_dir():
            _copy_others(out_dir, staging)
    result.directory = out_dir
    return out_dir


def _copy_others(old: Path, staging: Path) -> None:
    """Copy into `staging` every entry of `old` that the run does not write (an old report.html stays out)."""
    for entry in old.iterdir():
        if (staging / entry.name).exists() or entry.name in RUN_FILES:
            continue
        if entry.is_dir():
            shutil.copytree(entry, staging / entry.name, symlinks=True)
        else:
            shutil.copy2(entry, staging / entry.name, follow_symlinks=False)


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
