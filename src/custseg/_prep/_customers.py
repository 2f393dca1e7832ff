"""Per-customer tables (one row per customer already): choose, type and impute the columns."""

from __future__ import annotations

import re

import ibis
import numpy as np
import pandas as pd

from .._errors import DataError, UsageError

ID_NAME = re.compile(r"(^id$|_id$|^id_|id$|number$|code$)", re.IGNORECASE)
CATEGORICAL_MODES = ("ignore", "onehot")
MAX_CATEGORIES = 20


def _as_numbers(column: pd.Series, decimal: str) -> pd.Series | None:
    """The column as floats, or None if some non-empty value is not a number."""
    if pd.api.types.is_numeric_dtype(column):
        return column.astype(float)
    text = column.astype("string").str.strip().replace("", pd.NA)
    comma = decimal == "," or (decimal == "auto" and text.str.contains(r"^-?\d+,\d+$", regex=True, na=False).any())
    if comma:
        text = text.str.replace(r"[ .\u00a0]", "", regex=True).str.replace(",", ".", regex=False)
    numbers = pd.to_numeric(text, errors="coerce")
    if (numbers.isna() & text.notna()).any():
        return None
    return numbers.astype(float)


def _looks_like_id(name: str, values: pd.Series) -> bool:
    return bool(ID_NAME.search(name)) and values.dropna().is_unique


def customer_table(table: ibis.Table, source: str, id_column: str | None = None, columns: list[str] | None = None,
                   categorical: str = "ignore", decimal: str = "auto",
                   imputation: dict[str, float] | None = None) -> tuple[pd.DataFrame, list[str], dict]:
    """Return (frame with `customer` + feature columns, feature names, preparation notes).

    Numeric columns are used (or `columns`); id-like numeric columns are excluded;
    missing values are imputed with the column median (or the given `imputation` values,
    e.g. the training medians when scoring); text columns are ignored or one-hot
    encoded. The notes record every such decision.
    """
    if categorical not in CATEGORICAL_MODES:
        raise UsageError(f"categorical must be one of {', '.join(CATEGORICAL_MODES)}; got {categorical!r}")
    frame = table.to_pandas()
    if frame.empty:
        raise DataError(f"{source}: no data rows (the file has a header only)")
    if id_column is not None and id_column not in frame.columns:
        raise DataError(f"{source}: missing id column {id_column!r}; the file has: {', '.join(map(str, frame.columns))}")
    if columns:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise DataError(f"{source}: missing column(s) {', '.join(missing)}; the file has: {', '.join(map(str, frame.columns))}")
    ids = frame[id_column].astype("string").str.strip() if id_column else pd.Series(np.arange(1, len(frame) + 1)).astype(str)
    if ids.isna().any() or (ids == "").any():
        raise DataError(f"{source}: column {id_column!r} has {int((ids.isna() | (ids == '')).sum())} empty customer id(s)")
    duplicated = ids[ids.duplicated()]
    if len(duplicated):
        raise DataError(f"{source}: column {id_column!r} is not one row per customer: {duplicated.iloc[0]!r} appears more than once")
    notes = {"excluded_id_like": [], "ignored_text": [], "one_hot": {}, "imputed": {}}
    features: dict[str, pd.Series] = {}
    for name in columns or [c for c in frame.columns if c != id_column]:
        numbers = _as_numbers(frame[name], decimal)
        if numbers is None:
            if columns and categorical == "ignore":
                bad = frame[name][pd.to_numeric(frame[name], errors="coerce").isna() & frame[name].notna()].iloc[0]
                raise DataError(f"{source}: column {name!r} is not numeric (e.g. {bad!r}); use --categorical onehot to encode it")
            if categorical == "onehot" and frame[name].nunique() <= MAX_CATEGORIES:
                dummies = pd.get_dummies(frame[name].astype("string").fillna("(missing)"), prefix=name, prefix_sep="=", dtype=float)
                features |= {c: dummies[c] for c in dummies.columns}
                notes["one_hot"][name] = list(dummies.columns)
            else:
                notes["ignored_text"].append(name)
            continue
        if not columns and _looks_like_id(name, numbers):
            notes["excluded_id_like"].append(name)
            continue
        if numbers.isna().all():
            raise DataError(f"{source}: column {name!r} is empty")
        if numbers.isna().any():
            median = float(imputation[name]) if imputation and name in imputation else float(numbers.median())
            notes["imputed"][name] = {"missing": int(numbers.isna().sum()), "median": median}
            numbers = numbers.fillna(median)
        if not np.isfinite(numbers).all():
            raise DataError(f"{source}: column {name!r} has infinite values")
        features[name] = numbers
    if not features:
        raise DataError(f"{source}: no numeric column to segment on (text columns: {', '.join(notes['ignored_text']) or 'none'})")
    result = pd.DataFrame({"customer": ids.astype(str).to_numpy(), **{k: v.to_numpy() for k, v in features.items()}})
    return result, list(features), notes
