"""The one number parser: text -> float with a decimal mark chosen per column by a stated rule.

Sales lines (`_parse.typed_lines`) and per-customer tables (`_customers.customer_table`) both
use it. Per column, two readings are tried: "dot" (decimal point, comma or space thousands:
`1,234.5`) and "comma" (decimal comma, dot or space thousands: `1.234,5`). A separator is a
thousands separator only in groups of three digits after a first group that does not start
with 0. The reading with fewer values that do not convert wins. When both read every value
but differently (`1.250`, `980`, `12.800`: every dotted value has three digits after the dot),
the column is ambiguous: a semicolon-delimited file follows the European convention (dot =
thousands), any other file stops with one line asking for `--decimal`.

Formatted numbers, as spreadsheets and ERPs write them, are read by the same readings once
their marks are stripped (and recorded per column, `FORMAT_MARKS`): a currency symbol
(`$12,500.00`, `1.234,50 €`: money in that unit; a column mixing two symbols stops), a percent
(`12.5%` is 0.125: divided by 100; a column mixing percentages and plain numbers stops),
accounting parentheses (`(1,234.00)` is -1234) and SAP's trailing minus (`234,00-` is -234).
`$ -`, the Accounting format's zero, is 0.

>>> DOT_READING, COMMA_READING
('dot', 'comma')
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt

from .._errors import DataError
from ._rows import RowName, data_row, data_rows

DOT_READING, COMMA_READING = "dot", "comma"
COMMA_GROUPS = r"^[+-]?[1-9][0-9]{0,2}(,[0-9]{3})+(\.[0-9]+)?$"  # 1,234.5
DOT_GROUPS = r"^[+-]?[1-9][0-9]{0,2}(\.[0-9]{3})+(,[0-9]+)?$"  # 1.234,5
GAPS = r"\x{00a0}\x{202f}\x{2007}\x{2009}"  # no-break, narrow no-break, figure and thin spaces: thousands separators
SPACES = rf"[ {GAPS}']"
MARKS = {DOT_READING: {"decimal": ".", "thousands": ","}, COMMA_READING: {"decimal": ",", "thousands": "."}}
CURRENCIES = "$€£¥₹"
_GAP = rf"[ {GAPS}]*"
_CUR = f"[{CURRENCIES}]?"
# where the marks may stand: a symbol before or after, a sign, parentheses around, % and a trailing minus after
FORMATTED = (rf"^{_CUR}{_GAP}\(?{_GAP}[+-]?{_GAP}{_CUR}{_GAP}[+-]?[0-9.,' {GAPS}]*[0-9]{_GAP}{_CUR}{_GAP}%?{_GAP}"
             rf"\)?{_GAP}{_CUR}-?$")
ACCOUNTING_ZERO = rf"^[{CURRENCIES}]{_GAP}-$|^-{_GAP}[{CURRENCIES}]$"  # '$ -': zero in Excel's Accounting format
STRIPPED = MARKED = rf"[{CURRENCIES}%()]|-$"
FORMAT_MARKS = ("currency", "percent", "parentheses", "trailing_minus")


def _dot(text: ibis.Value) -> ibis.Value:
    text = text.re_replace(SPACES, "")
    return ibis.ifelse(text.re_search(COMMA_GROUPS), text.replace(",", ""), text).try_cast(dt.float64)


def _comma(text: ibis.Value) -> ibis.Value:
    text = text.re_replace(SPACES, "")
    plain = ibis.ifelse(text.contains(".") & ~text.re_search(DOT_GROUPS), ibis.null(dt.string), text)
    return plain.replace(".", "").replace(",", ".").try_cast(dt.float64)


READINGS = {DOT_READING: _dot, COMMA_READING: _comma}


def _marked(text: ibis.Value) -> ibis.Value:
    """Whether a text carries a format mark: a currency symbol, %, a parenthesis or a trailing minus (one regular
    expression: 4x faster on DuckDB than the ten tests it replaces)."""
    return text.re_search(MARKED)


def _formatted(text: ibis.Value, reading: str) -> ibis.Value:
    """A marked text's number: its marks stripped, read by `reading`, negated for parentheses or a trailing minus,
    divided by 100 for a percent; NULL when the marks stand elsewhere or a negative has a sign of its own."""
    negative = text.contains("(") | text.endswith("-")
    divisor = ibis.ifelse(negative, -1.0, 1.0) * ibis.ifelse(text.contains("%"), 100.0, 1.0)  # exact: +-1, +-100
    valid = text.re_search(FORMATTED) & (text.contains("(") == text.contains(")")) & ~(
        negative & text.re_search(rf"[+-]{_GAP}[0-9.]"))
    zero = ibis.ifelse(text.re_search(ACCOUNTING_ZERO), 0.0, ibis.null(dt.float64))
    return ibis.ifelse(valid, READINGS[reading](text.re_replace(STRIPPED, "")) / divisor, zero)


def parse_number(text: ibis.Value, reading: str, formatted: bool = True, marked: ibis.Value | None = None) -> ibis.Value:
    """`text` as a number read by `reading` ("dot" or "comma"); format marks stripped when `formatted` (the column has
    some), through regular expressions on the marked values only (a CASE evaluates a branch on its rows only).
    `marked`: `_marked(text)` when already a column."""
    if not formatted:
        return READINGS[reading](text)
    return ibis.ifelse(_marked(text) if marked is None else marked, _formatted(text, reading), READINGS[reading](text))


def number_of(text: ibis.Value, decision: dict) -> ibis.Value:
    """`text` parsed as `choose_readings` decided for its column."""
    return parse_number(text, reading_of(decision["decimal"]), bool(decision.get("stripped")))


def reading_of(decimal: str) -> str | None:
    """The reading a --decimal value forces ('.' or ','), None for auto."""
    return {".": DOT_READING, ",": COMMA_READING}.get(decimal)


def weighted_count(condition: ibis.Value, weight: ibis.Value) -> ibis.Value:
    """The sum of `weight` where `condition` holds (a count of lines, over a table of distinct values)."""
    return condition.fill_null(False).ifelse(weight, 0).sum()


def number_probes(table: ibis.Table, raw: dict[str, ibis.Value], weight: ibis.Value | None = None,
                  formatted: bool = False) -> ibis.Table:
    """A one-row table counting, per column of `raw` (text of `table`), the values each reading fails on, those they
    read differently and the values with a format mark (each value counting `weight`, e.g. its lines, when given).

    Run first with `formatted` False (plain readings: a marked value fails them), then again with it for the
    columns that have marked values, which also counts each mark: the marks' regular expressions and their
    CASE cost a plain column nothing (1M distinct prices: 0.3 s; the SQL three times as long). The texts and
    their readings are columns of a subquery: as expressions repeated in each count, the SQL grew to 44 KB.
    """
    names = {name: f"_t{i}" for i, name in enumerate(raw)}
    texts = table.select(**{names[name]: text for name, text in raw.items()}, _w=weight if weight is not None else 1)
    texts = texts.mutate(**{f"{column}_marked": _marked(texts[column]).fill_null(False) for column in names.values()})
    readings = texts.mutate(**{f"{column}_{reading}": parse_number(texts[column], reading, formatted, texts[f"{column}_marked"])
                               for column in names.values() for reading in READINGS})

    def count(condition: ibis.Value) -> ibis.Value:
        return weighted_count(condition, readings._w)

    probes = {}
    for name, column in names.items():
        text, dot, comma = readings[column], readings[f"{column}_{DOT_READING}"], readings[f"{column}_{COMMA_READING}"]
        marked = readings[f"{column}_marked"]
        probes[f"{name}|{DOT_READING}"] = count(text.notnull() & dot.isnull())
        probes[f"{name}|{COMMA_READING}"] = count(text.notnull() & comma.isnull())
        probes[f"{name}|differ"] = count(dot.notnull() & comma.notnull() & (dot != comma))
        probes[f"{name}|values"] = count(text.notnull())
        probes[f"{name}|marked"] = count(marked)
        if formatted:  # each mark, counted on the marked values only
            probes |= {f"{name}|currency {symbol}": count(marked & text.contains(symbol)) for symbol in CURRENCIES}
            probes[f"{name}|percent"] = count(marked & text.contains("%"))
            probes[f"{name}|parentheses"] = count(marked & text.contains("("))
            probes[f"{name}|trailing_minus"] = count(marked & text.re_search("[0-9]-$"))
    return readings.aggregate(**probes)


def marked_columns(counts) -> list[str]:
    """The columns whose plain `number_probes` found marked values: to probe again with `formatted`."""
    return [key.rsplit("|", 1)[0] for key, value in counts.items() if key.endswith("|marked") and value]


def _example(table: ibis.Table, text: ibis.Value) -> tuple[str, float, float]:
    """The first value the two readings read differently, and its two readings."""
    probed = table.select(_raw=text, _dot=parse_number(text, DOT_READING), _comma=parse_number(text, COMMA_READING))
    found = probed.filter((probed._dot != probed._comma).fill_null(False)).limit(1).execute()
    return found["_raw"].iloc[0], found["_dot"].iloc[0], found["_comma"].iloc[0]


def _first(table: ibis.Table, text: ibis.Value, condition: ibis.Value, row_name: RowName | None) -> str:
    """The first value where `condition` holds, with its data row: "'€3.00' at data row 4"."""
    numbered = table.select(_raw=text, _hit=condition.fill_null(False), _row=data_rows(table))
    found = numbered.filter(numbered._hit).order_by("_row").limit(1).execute()
    return f"{found['_raw'].iloc[0]!r} at {data_row(int(found['_row'].iloc[0]), row_name)}"


def _format_marks(table: ibis.Table, name: str, text: ibis.Value, counts, source: str, label: str,
                  row_name: RowName | None) -> dict:
    """What the column's values carried and was stripped (recorded with its decision); a stop for a column mixing two
    currencies, or percentages and plain numbers."""
    if not int(counts[f"{name}|marked"] or 0):
        return {}
    symbols = [symbol for symbol in CURRENCIES if int(counts[f"{name}|currency {symbol}"] or 0)]
    if len(symbols) > 1:
        first, second = (_first(table, text, text.contains(symbol), row_name) for symbol in symbols[:2])
        raise DataError(f"{source}: column {label} mixes currencies: {first} and {second}; amounts in different "
                        "currencies cannot be added: convert them to one currency first")
    percent = int(counts[f"{name}|percent"] or 0)
    if 0 < percent < int(counts[f"{name}|values"] or 0):
        raise DataError(f"{source}: column {label} mixes percentages and plain numbers: "
                        f"{_first(table, text, text.contains('%'), row_name)} and {_first(table, text, ~text.contains('%'), row_name)}; "
                        "write every value with % (read as divided by 100) or none")
    stripped = {mark: int(counts[f"{name}|{mark}"] or 0) for mark in FORMAT_MARKS[1:]}
    stripped = {"currency": sum(int(counts[f"{name}|currency {symbol}"] or 0) for symbol in symbols)} | stripped
    return {"stripped": stripped} | ({"currency": symbols[0]} if symbols else {})


def choose_readings(table: ibis.Table, raw: dict[str, ibis.Value], counts, decimal: str, delimiter: str | None,
                    source: str, labels: dict[str, str] | None = None,
                    row_name: RowName | None = None) -> tuple[dict[str, ibis.Value], dict[str, dict], dict[str, int]]:
    """Per column: the parsed expression, the recorded decision and the count of values that do not convert.

    `counts` holds the executed `number_probes` (formatted for the `marked_columns`); `labels` names columns in messages (e.g. "price (price)").
    """
    forced = reading_of(decimal)
    parsed, decisions, failures = {}, {}, {}
    for name, text in raw.items():
        label = (labels or {}).get(name, repr(name))
        dot, comma = int(counts[f"{name}|{DOT_READING}"] or 0), int(counts[f"{name}|{COMMA_READING}"] or 0)
        if forced:
            reading, rule = forced, f"--decimal {MARKS[forced]['decimal']}"
        elif dot == comma == 0 and int(counts[f"{name}|differ"] or 0):
            example, as_dot, as_comma = _example(table, text)
            if delimiter != ";":
                raise DataError(f"{source}: column {label} is ambiguous: {example!r} may be {as_comma:g} or {as_dot:g} "
                                f"(thousands separator or decimal mark); give --decimal . or --decimal ,")
            reading = COMMA_READING
            rule = (f"ambiguous, e.g. {example!r}: read as {as_comma:g}, the European convention of a "
                    "semicolon-delimited file")
        else:
            reading = COMMA_READING if comma < dot else DOT_READING
            rule = "detected"
        failures[name] = comma if reading == COMMA_READING else dot
        parsed[name] = parse_number(text, reading, bool(counts[f"{name}|marked"]))
        decisions[name] = {**MARKS[reading], "rule": rule}
        if not failures[name]:  # the marks of a column of numbers (text that does not convert is reported instead)
            decisions[name] |= _format_marks(table, name, text, counts, source, label, row_name)
    return parsed, decisions, failures
