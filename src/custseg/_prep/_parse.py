"""Give the mapped columns their types: numbers (decimal comma aware) and dates.

Every value that does not convert is an error naming the file, column, value and row.
"""

from __future__ import annotations

import datetime as dtm

import ibis
import ibis.expr.datatypes as dt

from .._config._columns import ColumnMapping
from .._engines._connect import parse_timestamp
from .._errors import DataError

NUMERIC_ROLES = ("quantity", "price", "amount")
DATE_ROLES = ("date", "end_date")
TEXT_ROLES = ("customer", "order", "product", "product_label", "country")
ISO_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S.%f")
DOT_THOUSANDS = r"^[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?$"
SPACES = r"[ \x{00a0}\x{202f}']"
EXAMPLES = 3


def _blank_to_null(column: ibis.Value) -> ibis.Value:
    stripped = column.strip()
    return ibis.ifelse(stripped == "", ibis.null(dt.string), stripped)


def _number_dot(text: ibis.Value) -> ibis.Value:
    text = text.re_replace(SPACES, "")
    return ibis.ifelse(text.re_search(DOT_THOUSANDS), text.replace(",", ""), text).try_cast(dt.float64)


def _number_comma(text: ibis.Value) -> ibis.Value:
    return text.re_replace(SPACES, "").replace(".", "").replace(",", ".").try_cast(dt.float64)


EXCEL_SERIAL = r"^[1-9][0-9]{4}(\.[0-9]+)?$"  # 10000..99999: 1927-05-18 to 2173-10-14
EXCEL_EPOCH = dtm.datetime(1899, 12, 30)


def _excel_serial(text: ibis.Value) -> ibis.Value:
    """An Excel serial day number written as text ('43831' is 2020-01-01), else NULL."""
    seconds = (text.try_cast(dt.float64) * 86400).round().cast(dt.int64)
    return ibis.ifelse(text.re_search(EXCEL_SERIAL), ibis.literal(EXCEL_EPOCH) + seconds.as_interval("s"),
                       ibis.null(dt.timestamp))


def require_columns(table: ibis.Table, mapping: ColumnMapping, source: str) -> None:
    """Stop with a message listing the expected and the available columns when one is missing."""
    have = list(table.columns)
    missing = [f"{column} ({role})" for role, column in mapping.roles().items() if column not in have]
    if missing:
        hint = ""
        if len(have) == 1 and any(mark in have[0] for mark in ",;\t|"):
            hint = " (read as a single column: is the delimiter right, or do some lines have more fields than the header?)"
        raise DataError(
            f"{source}: missing column(s) {', '.join(missing)}; the file has: {', '.join(have) or '(no columns)'}{hint}"
        )


def _failures(table: ibis.Table, checks: dict[str, tuple[ibis.Value, ibis.Value]]) -> dict[str, int]:
    """Count, per check, rows where the raw value is present but did not convert."""
    if not checks:
        return {}
    aggregates = {name: (raw.notnull() & value.isnull()).sum() for name, (raw, value) in checks.items()}
    row = table.aggregate(**aggregates).execute().iloc[0]
    return {name: int(row[name] or 0) for name in checks}


def _examples(table: ibis.Table, raw: ibis.Value, value: ibis.Value) -> str:
    numbered = table.mutate(_raw=raw, _value=value, _row=ibis.row_number() + 1)
    bad = numbered.filter(numbered._raw.notnull() & numbered._value.isnull()).select("_row", "_raw").limit(EXAMPLES)
    return ", ".join(f"{value!r} at data row {row}" for row, value in bad.execute().itertuples(index=False))


def typed_lines(table: ibis.Table, mapping: ColumnMapping, source: str, decimal: str = "auto") -> tuple[ibis.Table, dict]:
    """Select the mapped columns, renamed to their roles and typed; return it with notes on decimals."""
    require_columns(table, mapping, source)
    roles = mapping.roles()
    schema = table.schema()
    columns: dict[str, ibis.Value] = {}
    raw_text: dict[str, ibis.Value] = {}
    for role, name in roles.items():
        column = table[name]
        if role in TEXT_ROLES:
            columns[role] = _blank_to_null(column.cast(dt.string)) if not schema[name].is_string() else _blank_to_null(column)
        elif schema[name].is_string():
            raw_text[role] = _blank_to_null(column)
        elif role in NUMERIC_ROLES:
            columns[role] = column.cast(dt.float64)
        else:
            columns[role] = column.cast(dt.timestamp)

    numeric_text = {r: raw for r, raw in raw_text.items() if r in NUMERIC_ROLES}
    modes = ("dot", "comma") if decimal == "auto" else ("comma",) if decimal == "," else ("dot",)
    parsers = {"dot": _number_dot, "comma": _number_comma}
    formats = [mapping.date_format, *ISO_FORMATS] if mapping.date_format else list(ISO_FORMATS)
    for role, raw in raw_text.items():
        if role in DATE_ROLES:
            columns[role] = parse_timestamp(raw, formats).coalesce(_excel_serial(raw))  # engine-specific: _engine
    # One scan counts the failures of every candidate number parse and of the dates.
    counts = _failures(
        table,
        {f"{r}|{mode}": (raw, parsers[mode](raw)) for r, raw in numeric_text.items() for mode in modes}
        | {role: (raw, columns[role]) for role, raw in raw_text.items() if role in DATE_ROLES},
    )
    decimals, failures = {}, {}
    for role, raw in numeric_text.items():
        mode = modes[0] if len(modes) == 1 else "comma" if counts[f"{role}|comma"] < counts[f"{role}|dot"] else "dot"
        decimals[roles[role]] = "," if mode == "comma" else "."
        columns[role] = parsers[mode](raw)
        failures[role] = counts[f"{role}|{mode}"]
    failures |= {role: counts[role] for role in raw_text if role in DATE_ROLES}
    failures = {role: failures[role] for role in raw_text}  # the mapping's order, as before
    for role, count in failures.items():
        if count:
            what = "dates that do not parse" if role in DATE_ROLES else "non-numeric values"
            expected = f" (expected {mapping.date_format or 'YYYY-MM-DD'})" if role in DATE_ROLES else ""
            raise DataError(
                f"{source}: column {roles[role]!r} ({role}) has {count:,} {what}{expected}, e.g. "
                f"{_examples(table, raw_text[role], columns[role])}"
            )
    return table.select(**columns), {"decimal_marks": decimals}
