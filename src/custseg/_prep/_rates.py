"""Conversion rates to the corporate currency, read from a CSV file (`--rates`), each value checked.

Three shapes are read, by their header (names compared trimmed, in any case; other columns
ignored): Salesforce's CurrencyType export (`IsoCode, ConversionRate, IsCorporate`), its
DatedConversionRate export (`IsoCode, ConversionRate, StartDate, NextStartDate`) and a plain
`currency, rate` with optional `start` and `end`.

The direction is Salesforce's: a rate is the units of a currency per 1 unit of the corporate
currency (whose rate is 1), so an amount in the corporate currency is `amount / rate`. The
corporate currency is the one marked IsCorporate true, or, without that column, the one whose
every rate is 1. A period runs from its start (included) to its end, the next period's start
(excluded); a blank start or end leaves that side open, so an undated rate holds on every date.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "rates.csv"
>>> _ = path.write_text("IsoCode,ConversionRate,IsCorporate\\nEUR,1,true\\nJPY,161.2,false\\n")
>>> read_rates(path).table()
{'EUR': 1.0, 'JPY': 161.2}
"""

from __future__ import annotations

import csv
import datetime as dtm
import math
import re
from dataclasses import dataclass
from pathlib import Path

from .._errors import DataError

RULE = "amount in the corporate currency = amount / rate (rate: units of the currency per 1 unit of the corporate currency)"
COLUMNS = {  # part -> header names that hold it (lower case): Salesforce's first
    "currency": ("isocode", "currency"),
    "rate": ("conversionrate", "rate"),
    "start": ("startdate", "start"),
    "end": ("nextstartdate", "end"),
    "corporate": ("iscorporate",),
}
TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no", "")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ].*)?$")  # Salesforce's dates; a datetime's day


@dataclass(frozen=True)
class Period:
    """One rate of a currency, from `start` (included) to `end` (excluded); None leaves a side open."""

    currency: str
    rate: float
    start: dtm.date | None
    end: dtm.date | None
    row: int  # data row in the rates file

    def text(self) -> str:
        return f"{self.start or 'the beginning'} to {self.end or 'the end'}"


@dataclass(frozen=True)
class Rates:
    """The rates of a file: the corporate currency and the periods of the others (the corporate currency's rate is 1)."""

    path: str
    corporate: str
    periods: tuple[Period, ...]

    @property
    def dated(self) -> bool:
        """Whether some rate holds only between dates (the lines' dates choose it)."""
        return any(p.start or p.end for p in self.periods)

    def currencies(self) -> list[str]:
        return sorted({self.corporate, *(p.currency for p in self.periods)})

    def of(self, currency: str) -> list[Period]:
        return [p for p in self.periods if p.currency == currency]

    def table(self) -> dict:
        """Currency -> its rate, or its periods ({start, end, rate}, ISO dates) when dated: the table cleaning.json records."""
        out: dict = {self.corporate: 1.0}
        for currency in sorted({p.currency for p in self.periods}):
            periods = self.of(currency)
            undated = len(periods) == 1 and not (periods[0].start or periods[0].end)
            out[currency] = periods[0].rate if undated else [
                {"start": p.start.isoformat() if p.start else None, "end": p.end.isoformat() if p.end else None,
                 "rate": p.rate} for p in periods]
        return out


def _columns(header: list[str]) -> dict[str, int]:
    names = [name.strip().lower() for name in header]
    found = {part: next((names.index(n) for n in aliases if n in names), None) for part, aliases in COLUMNS.items()}
    return {part: index for part, index in found.items() if index is not None}


def _read_rows(path: Path) -> tuple[list[str], dict[str, int], list[tuple[int, list[str]]]]:
    """The header, the columns of each part, and the data rows (numbered from 1, blank rows left out)."""
    if not path.is_file():
        raise DataError(f"{path}: file not found (--rates)")
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    first = text.split("\n", 1)[0]
    for delimiter in ",;\t":
        rows = list(csv.reader(text.splitlines(), delimiter=delimiter))
        header = rows[0] if rows else []
        columns = _columns(header)
        if {"currency", "rate"} <= set(columns):
            numbered = [(n, row) for n, row in enumerate(rows[1:], 1) if any(cell.strip() for cell in row)]
            return header, columns, numbered
    raise DataError(f"{path}: no currency column (IsoCode or currency) and rate column (ConversionRate or rate) in the "
                    f"header {first.strip()!r} (--rates)")


def _date(path: Path, row: int, name: str, text: str) -> dtm.date | None:
    text = text.strip()
    if not text:
        return None
    try:
        if ISO_DATE.match(text):
            return dtm.date.fromisoformat(text[:10])
    except ValueError:
        pass
    raise DataError(f"{path}: data row {row}: {name} {text!r} is not a date like 2024-01-31 (--rates)")


def _period(path: Path, header: list[str], columns: dict[str, int], row: int, cells: list[str]) -> tuple[Period, bool]:
    """One row as a Period, and whether it is marked IsCorporate true."""
    def cell(part: str) -> str:
        index = columns.get(part)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    currency = cell("currency")
    if not currency:
        raise DataError(f"{path}: data row {row}: no currency code in column {header[columns['currency']].strip()!r} (--rates)")
    text = cell("rate")
    try:
        rate = float(text)
    except ValueError:
        rate = math.nan
    if not (math.isfinite(rate) and rate > 0):
        raise DataError(f"{path}: data row {row}: the rate of {currency} in column {header[columns['rate']].strip()!r} "
                        f"is {text!r}, not a number > 0 (--rates)")
    start = _date(path, row, header[columns["start"]].strip(), cell("start")) if "start" in columns else None
    end = _date(path, row, header[columns["end"]].strip(), cell("end")) if "end" in columns else None
    if start and end and end <= start:
        raise DataError(f"{path}: data row {row}: the period of {currency} ends on {end}, not after its start {start} "
                        "(the end is the first day the rate no longer holds) (--rates)")
    flag = cell("corporate").lower()
    if flag not in TRUE + FALSE:
        raise DataError(f"{path}: data row {row}: IsCorporate {cell('corporate')!r} is not true or false (--rates)")
    return Period(currency, rate, start, end, row), flag in TRUE


def _check_overlaps(path: Path, periods: list[Period]) -> None:
    """Each date has at most one rate per currency."""
    for currency in sorted({p.currency for p in periods}):
        ordered = sorted((p for p in periods if p.currency == currency), key=lambda p: (p.start or dtm.date.min, p.row))
        for before, after in zip(ordered, ordered[1:]):
            if before.end is None or after.start is None or before.end > after.start:
                if not (before.start or before.end or after.start or after.end):
                    raise DataError(f"{path}: {currency} has two rates (data rows {before.row} and {after.row}); give one "
                                    "rate per currency, or periods with StartDate and NextStartDate (--rates)")
                raise DataError(f"{path}: the rates of {currency} at data rows {before.row} and {after.row} overlap "
                                f"({before.text()}, {after.text()}); each date needs one rate (--rates)")


def _corporate(path: Path, periods: list[Period], flagged: list[Period], has_flag: bool) -> str:
    """The one corporate currency: marked IsCorporate true, or else the only one whose every rate is 1."""
    if has_flag:
        found = sorted({p.currency for p in flagged})
    else:
        currencies = {p.currency for p in periods}
        found = sorted(c for c in currencies if all(p.rate == 1 for p in periods if p.currency == c))
    if len(found) != 1:
        what = f"{len(found)}: {', '.join(found)}" if found else "none"
        raise DataError(f"{path}: exactly one corporate currency is needed (marked IsCorporate true, or else the only one "
                        f"whose rate is 1); found {what} (--rates)")
    odd = next((p for p in periods if p.currency == found[0] and p.rate != 1), None)
    if odd:
        raise DataError(f"{path}: data row {odd.row}: the corporate currency {odd.currency} has rate {odd.rate:g}; its "
                        "rate is 1 (rates are units of a currency per 1 unit of the corporate currency) (--rates)")
    return found[0]


def read_rates(path: str | Path) -> Rates:
    """The rates of `path`, every value checked; an error naming the file, row and value otherwise."""
    path = Path(path)
    header, columns, rows = _read_rows(path)
    if not rows:
        raise DataError(f"{path}: no rates (the file has a header only) (--rates)")
    read = [_period(path, header, columns, row, cells) for row, cells in rows]
    periods = [period for period, _ in read]
    _check_overlaps(path, periods)
    corporate = _corporate(path, periods, [p for p, flag in read if flag], "corporate" in columns)
    return Rates(str(path), corporate, tuple(p for p in periods if p.currency != corporate))
