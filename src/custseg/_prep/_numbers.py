"""The one number parser: text -> float with a decimal mark chosen per column by a stated rule.

Sales lines (`_parse.typed_lines`) and per-customer tables (`_customers.customer_table`) both
use it. Per column, two readings are tried: "dot" (decimal point, comma or space thousands:
`1,234.5`) and "comma" (decimal comma, dot or space thousands: `1.234,5`). A separator is a
thousands separator only in groups of three digits after a first group that does not start
with 0. The reading with fewer values that do not convert wins. When both read every value
but differently (`1.250`, `980`, `12.800`: every dotted value has three digits after the dot),
the column is ambiguous: a semicolon-delimited file follows the European convention (dot =
thousands), any other file stops with one line asking for `--decimal`.

>>> DOT_READING, COMMA_READING
('dot', 'comma')
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt

from .._errors import DataError

DOT_READING, COMMA_READING = "dot", "comma"
COMMA_GROUPS = r"^[+-]?[1-9][0-9]{0,2}(,[0-9]{3})+(\.[0-9]+)?$"  # 1,234.5
DOT_GROUPS = r"^[+-]?[1-9][0-9]{0,2}(\.[0-9]{3})+(,[0-9]+)?$"  # 1.234,5
SPACES = r"[ \x{00a0}\x{202f}']"
MARKS = {DOT_READING: {"decimal": ".", "thousands": ","}, COMMA_READING: {"decimal": ",", "thousands": "."}}


def _dot(text: ibis.Value) -> ibis.Value:
    text = text.re_replace(SPACES, "")
    return ibis.ifelse(text.re_search(COMMA_GROUPS), text.replace(",", ""), text).try_cast(dt.float64)


def _comma(text: ibis.Value) -> ibis.Value:
    text = text.re_replace(SPACES, "")
    plain = ibis.ifelse(text.contains(".") & ~text.re_search(DOT_GROUPS), ibis.null(dt.string), text)
    return plain.replace(".", "").replace(",", ".").try_cast(dt.float64)


READINGS = {DOT_READING: _dot, COMMA_READING: _comma}


def reading_of(decimal: str) -> str | None:
    """The reading a --decimal value forces ('.' or ','), None for auto."""
    return {".": DOT_READING, ",": COMMA_READING}.get(decimal)


def weighted_count(condition: ibis.Value, weight: ibis.Value) -> ibis.Value:
    """The sum of `weight` where `condition` holds (a count of lines, over a table of distinct values)."""
    return condition.fill_null(False).ifelse(weight, 0).sum()


def number_probes(raw: dict[str, ibis.Value], weight: ibis.Value | None = None) -> dict[str, ibis.Value]:
    """Aggregates, per column, counting the values each reading fails on and those they read differently
    (each value counting `weight`, e.g. its number of lines, when given)."""
    def count(condition: ibis.Value) -> ibis.Value:
        return condition.sum() if weight is None else weighted_count(condition, weight)

    probes = {}
    for name, text in raw.items():
        dot, comma = _dot(text), _comma(text)
        probes[f"{name}|{DOT_READING}"] = count(text.notnull() & dot.isnull())
        probes[f"{name}|{COMMA_READING}"] = count(text.notnull() & comma.isnull())
        probes[f"{name}|differ"] = count(dot.notnull() & comma.notnull() & (dot != comma))
    return probes


def _example(table: ibis.Table, text: ibis.Value) -> tuple[str, float, float]:
    """The first value the two readings read differently, and its two readings."""
    probed = table.select(_raw=text, _dot=_dot(text), _comma=_comma(text))
    found = probed.filter((probed._dot != probed._comma).fill_null(False)).limit(1).execute()
    return found["_raw"].iloc[0], found["_dot"].iloc[0], found["_comma"].iloc[0]


def choose_readings(table: ibis.Table, raw: dict[str, ibis.Value], counts, decimal: str, delimiter: str | None,
                    source: str, labels: dict[str, str] | None = None) -> tuple[dict[str, ibis.Value], dict[str, dict], dict[str, int]]:
    """Per column: the parsed expression, the recorded decision and the count of values that do not convert.

    `counts` holds the executed `number_probes`; `labels` names columns in messages (e.g. "price (price)").
    """
    forced = reading_of(decimal)
    parsed, decisions, failures = {}, {}, {}
    for name, text in raw.items():
        dot, comma = int(counts[f"{name}|{DOT_READING}"] or 0), int(counts[f"{name}|{COMMA_READING}"] or 0)
        if forced:
            reading, rule = forced, f"--decimal {MARKS[forced]['decimal']}"
        elif dot == comma == 0 and int(counts[f"{name}|differ"] or 0):
            example, as_dot, as_comma = _example(table, text)
            if delimiter != ";":
                label = (labels or {}).get(name, repr(name))
                raise DataError(f"{source}: column {label} is ambiguous: {example!r} may be {as_comma:g} or {as_dot:g} "
                                f"(thousands separator or decimal mark); give --decimal . or --decimal ,")
            reading = COMMA_READING
            rule = (f"ambiguous, e.g. {example!r}: read as {as_comma:g}, the European convention of a "
                    "semicolon-delimited file")
        else:
            reading = COMMA_READING if comma < dot else DOT_READING
            rule = "detected"
        parsed[name] = READINGS[reading](text)
        decisions[name] = {**MARKS[reading], "rule": rule}
        failures[name] = comma if reading == COMMA_READING else dot
    return parsed, decisions, failures
