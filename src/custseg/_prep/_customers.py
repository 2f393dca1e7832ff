"""Per-customer tables (one row per customer already): choose, type and impute the columns."""

from __future__ import annotations

import re

import ibis
import numpy as np
import pandas as pd

from .._errors import DataError, UsageError
from ._ids import blank_to_null, id_text, lost_digits, space_counts
from ._numbers import choose_readings, marked_columns, number_probes
from ._parse import examples, lost_digits_error, one_row, salesforce_customers
from ._rows import RowName

ID = "_custseg_id"

ID_NAME = re.compile(r"(^id$|_id$|^id_|id$|number$|code$)", re.IGNORECASE)
CATEGORICAL_MODES = ("ignore", "onehot")
MAX_CATEGORIES = 20
MISSING_TOKENS = ("n/a", "na", "#n/a", "null", "none", "nan")  # in a column of numbers: missing, like an empty cell
MOSTLY_NUMBERS = 0.9  # a column whose values are this share numbers is numeric: the others stop the run


def _id_probes(column: ibis.Value | None) -> dict[str, ibis.Value]:
    """Aggregates on the id column: ids whose digits are lost, values with spaces (Unicode ones) around them."""
    if column is None:
        return {}
    lost = lost_digits(column)
    probes = {"_lost": lost.fill_null(False).sum()} if lost is not None else {}
    if column.type().is_string():
        probes["_spaced"], probes["_unicode"] = space_counts(column, blank_to_null(column))
    return probes


def _typed_columns(table: ibis.Table, names: list[str], decimal: str, delimiter: str | None, source: str,
                   id_column: str | None, row_name: RowName | None = None) -> tuple[pd.DataFrame, dict[str, bool], dict]:
    """One scan, then one frame: `customer` plus each column as numbers (by the shared parser) or as text.

    Returns the frame, column -> whether it is numeric, and notes: the number formats chosen, the values read as
    missing (`MISSING_TOKENS`) and the spaces trimmed around ids. A column of mostly numbers (`MOSTLY_NUMBERS`)
    with other values stops, naming them.
    """
    schema = table.schema()
    aliases = {name: f"_c{i}" for i, name in enumerate(n for n in names if schema[n].is_string())}
    # the trimmed texts as columns of a subquery: expressions repeated in each count make long SQL
    table = table.mutate(**{alias: blank_to_null(table[name]) for name, alias in aliases.items()})
    text = {name: table[alias] for name, alias in aliases.items()}
    tokens = {name: cells.lower().isin(MISSING_TOKENS) for name, cells in text.items()}
    numbers = {name: ibis.ifelse(tokens[name], ibis.null("string"), cells) for name, cells in text.items()}
    probes = {"_rows": table.count(), **_id_probes(table[id_column] if id_column else None),
              **{f"{name}|tokens": token.fill_null(False).sum() for name, token in tokens.items()}}
    counts = one_row([table.aggregate(**probes), *([number_probes(table, numbers)] if numbers else [])])
    if formatted := marked_columns(counts):  # numbers with currency symbols, %, parentheses...: probed again
        counts |= one_row([number_probes(table, {name: numbers[name] for name in formatted}, formatted=True)])
    if not counts["_rows"]:
        raise DataError(f"{source}: no data rows (the file has a header only)")
    if counts.get("_lost"):
        raise lost_digits_error(table, table[id_column], repr(id_column), counts["_lost"], source, row_name)
    parsed, formats, failures = choose_readings(table, numbers, counts, decimal, delimiter, source, None, row_name)
    for name, cells in numbers.items():
        values = counts[f"{name}|values"]
        if failures[name] and values - failures[name] >= MOSTLY_NUMBERS * values:
            raise DataError(f"{source}: column {name!r} is numbers but for {failures[name]:,} of {values:,} values, e.g. "
                            f"{examples(table, cells, cells.notnull() & parsed[name].isnull(), None, row_name)}; write them as numbers "
                            "or leave the cells empty (missing values are imputed with the median)")
    numeric = {name: name not in text or not failures[name] for name in names}
    values = {name: parsed[name] if name in text and numeric[name] else text.get(name, table[name].cast("float64"))
              for name in names}
    frame = table.select(customer=table[ID], **values).to_pandas()
    notes = {"number_formats": {name: formats[name] for name in text if numeric[name]},
             "missing_tokens": {name: counts[f"{name}|tokens"] for name in text if numeric[name] and counts[f"{name}|tokens"]},
             "spaces_trimmed": ({id_column: {"values": counts["_spaced"], "unicode": counts["_unicode"]}}
                                if counts.get("_spaced") else {})}
    return frame, numeric, notes


def _looks_like_id(name: str, values: pd.Series) -> bool:
    return bool(ID_NAME.search(name)) and values.dropna().is_unique


def customer_table(table: ibis.Table, source: str, id_column: str | None = None, columns: list[str] | None = None,
                   categorical: str = "ignore", decimal: str = "auto", imputation: dict[str, float] | None = None,
                   delimiter: str | None = None, salesforce_ids: bool = False,
                   row_name: RowName | None = None) -> tuple[pd.DataFrame, list[str], dict]:
    """Return (frame with `customer` + feature columns, feature names, preparation notes).

    Numeric columns are used (or `columns`); numbers are read by the same parser as sales
    lines (`_numbers`); id-like numeric columns are excluded; missing values are imputed
    with the column median (or the given `imputation` values, e.g. the training medians
    when scoring); text columns are ignored or one-hot encoded. Ids are normalised as in
    sales lines (`_ids`). The notes record every such decision.
    """
    if categorical not in CATEGORICAL_MODES:
        raise UsageError(f"categorical must be one of {', '.join(CATEGORICAL_MODES)}; got {categorical!r}")
    have = list(table.columns)
    if id_column is not None and id_column not in have:
        raise DataError(f"{source}: missing id column {id_column!r}; the file has: {', '.join(map(str, have))}")
    if columns:
        missing = [c for c in columns if c not in have]
        if missing:
            raise DataError(f"{source}: missing column(s) {', '.join(missing)}; the file has: {', '.join(map(str, have))}")
    notes = {"excluded_id_like": [], "ignored_text": [], "one_hot": {}, "imputed": {}}
    table = table.mutate(**{ID: id_text(table[id_column]) if id_column else (ibis.row_number() + 1).cast("string")})
    if id_column and salesforce_ids:
        table, notes["salesforce_ids"] = salesforce_customers(table, ID, id_column, source, row_name=row_name)
    frame, numeric, typing = _typed_columns(table, columns or [c for c in have if c != id_column], decimal, delimiter,
                                            source, id_column, row_name)
    notes |= typing
    ids = frame["customer"].astype("string")
    if ids.isna().any():
        raise DataError(f"{source}: column {id_column!r} has {int(ids.isna().sum())} empty customer id(s)")
    duplicated = ids[ids.duplicated()]
    if len(duplicated):
        raise DataError(f"{source}: column {id_column!r} is not one row per customer: {duplicated.iloc[0]!r} appears more than once")
    features: dict[str, pd.Series] = {}
    for name in columns or [c for c in have if c != id_column]:
        if not numeric[name]:
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
        numbers = frame[name].astype(float)
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
