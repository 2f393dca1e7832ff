"""Sales lines in several currencies: converted to the corporate currency right after typing.

With rates (`--rates`, `_rates`), each line's price or amount is divided by the rate of its
currency (at its date, for dated rates): a join of the lines to the rates, so cleaning,
netting, features, profiles and the report all count in the corporate currency. Lines with no
customer (and, for dated rates, no date) are left as read: cleaning drops them. Without
rates, the lines must hold one currency: money is in that currency; two or more stop.
Every line with a customer needs its currency code, and that code needs a rate at the
line's date; otherwise the run stops naming the currency, date, data row and rates file.
"""

from __future__ import annotations

import ibis
import pandas as pd
import pyarrow as pa

from .._config._columns import CURRENCY_FIELD, ColumnMapping
from .._config._dates import date_formats
from .._errors import DataError
from ._features import revenue
from ._parse import date_per_line, text_type
from ._rows import RowName, data_row, data_rows
from ._rates import RULE, Rates

MONEY_ROLES = ("price", "amount")
RATE_SCHEMA = pa.schema([("_rate_currency", pa.string()), ("_rate", pa.float64()), ("_rate_start", pa.date32()),
                         ("_rate_end", pa.date32())])


def _rate_table(rates: Rates) -> ibis.Table:
    """The periods as a small table; the corporate currency's rate is 1 on every date."""
    periods = [(rates.corporate, 1.0, None, None)] + [(p.currency, p.rate, p.start, p.end) for p in rates.periods]
    columns = list(zip(*periods))
    return ibis.memtable(pa.table([pa.array(c, type=f.type) for c, f in zip(columns, RATE_SCHEMA)], schema=RATE_SCHEMA))


def _with_rates(lines: ibis.Table, rates: Rates) -> ibis.Table:
    """`lines` with `_rate`: the rate of their currency (at their date, for dated rates); NULL where none holds."""
    table = _rate_table(rates)
    on = [lines.currency == table._rate_currency]
    if rates.dated:
        day = lines.date.cast("date")
        on += [table._rate_start.isnull() | (day >= table._rate_start), table._rate_end.isnull() | (day < table._rate_end)]
    return lines.left_join(table, on)


def _first_row(table: ibis.Table, condition: ibis.Value) -> int:
    """The first data row of the input where `condition` holds."""
    numbered = table.mutate(_row=data_rows(table), _hit=condition.fill_null(False))
    return int(numbered.filter(numbered._hit).order_by("_row").select("_row").limit(1).execute().iloc[0, 0])


def _lines_per_currency(lines: ibis.Table, table: ibis.Table, mapping: ColumnMapping, source: str,
                        row_name: RowName | None) -> dict[str, int]:
    """Lines with a customer per currency, most first; a blank currency on such a line stops."""
    with_customer = lines.filter(lines.customer.notnull())
    counts = with_customer.group_by("currency").aggregate(_n=with_customer.count()).execute()
    blank = int(counts.loc[counts["currency"].isna(), "_n"].sum())
    if blank:
        row = _first_row(table, text_type("currency")(table[mapping.currency]).isnull()
                         & text_type("customer")(table[mapping.customer]).notnull())
        raise DataError(f"{source}: column {mapping.currency!r} (currency) is blank on {blank:,} line(s) that have a "
                        f"customer, e.g. {data_row(row, row_name)}; every line needs its currency code")
    counts = counts.dropna(subset=["currency"]).sort_values(["_n", "currency"], ascending=[False, True])
    return {str(c): int(n) for c, n in zip(counts["currency"], counts["_n"])}


def _check_currencies(per_currency: dict[str, int], rates: Rates, table, mapping, source: str, row_name: RowName | None) -> None:
    """Every currency of the lines has a rate in the file."""
    missing = [c for c in per_currency if c not in rates.currencies()]
    if missing:
        currency = missing[0]
        row = _first_row(table, (text_type("currency")(table[mapping.currency]) == currency)
                         & text_type("customer")(table[mapping.customer]).notnull())
        raise DataError(f"{source}: column {mapping.currency!r} (currency) holds {currency} on {per_currency[currency]:,} "
                        f"line(s), e.g. {data_row(row, row_name)}, but {rates.path} has no rate for {currency} (it has "
                        f"{', '.join(rates.currencies())}); add it to the rates file (--rates)")


def _check_dates(lines: ibis.Table, rates: Rates, table, mapping, source: str, row_name: RowName | None) -> None:
    """Every dated line has a period of its currency that holds its date."""
    if "date" not in lines.columns:
        raise DataError(f"{rates.path} holds dated rates (start and end dates) but no date column is mapped to choose "
                        "them (--date)")
    joined = _with_rates(lines.filter(lines.customer.notnull() & lines.date.notnull()), rates)
    outside = joined.filter(joined._rate.isnull())
    found = outside.group_by("currency").aggregate(_n=outside.count(), _first=outside.date.min()).execute()
    if found.empty:
        return
    worst = found.sort_values(["_n", "currency"], ascending=[False, True]).iloc[0]
    currency, day = str(worst["currency"]), pd.Timestamp(worst["_first"]).date()
    line_day = date_per_line(table[mapping.date], date_formats(mapping.date_format)).cast("date")
    row = _first_row(table, (text_type("currency")(table[mapping.currency]) == currency) & (line_day == day)
                     & text_type("customer")(table[mapping.customer]).notnull())
    periods = rates.of(currency)
    starts, ends = [p.start for p in periods], [p.end for p in periods]
    span = f"{min(starts) if all(starts) else 'the beginning'} to {max(ends) if all(ends) else 'the end'}"
    raise DataError(f"{source}: {int(worst['_n']):,} line(s) in {currency} are dated outside every {currency} period of "
                    f"{rates.path}, e.g. {day} at {data_row(row, row_name)} (its periods run from {span}); add a period that holds "
                    "that date (--rates)")


def convert_currencies(lines: ibis.Table, table: ibis.Table, mapping: ColumnMapping, rates: Rates | None, source: str,
                       declared: str | None = None, row_name: RowName | None = None) -> tuple[ibis.Table, dict | None]:
    """Typed `lines` with their money in the corporate currency, and the record of what was done (None: no currency role).

    `table` is the input as read (for the data rows in messages), `mapping` the one it was
    typed with (`ColumnMapping.present_in`), `declared` the currency column asked for,
    present or not.
    """
    if mapping.currency is None:
        if rates is not None:
            raise DataError(f"{source}: --rates {rates.path} was given but the input has no currency column to convert by; "
                            f"map one with --currency (the salesforce-cpq preset reads {CURRENCY_FIELD} when the file has it)")
        if declared is None:
            return lines, None
        return lines, {"column": declared, "present": False,
                       "rule": f"no column {declared!r} in the input: every amount is taken as in one currency"}
    per_currency = _lines_per_currency(lines, table, mapping, source, row_name)
    record = {"column": mapping.currency, "present": True, "lines_read": per_currency}
    if rates is None:
        if len(per_currency) > 1:
            counts = ", ".join(f"{c} {n:,}" + (" lines" if i == 0 else "") for i, (c, n) in enumerate(per_currency.items()))
            raise DataError(f"{source}: column {mapping.currency!r} (currency) holds {len(per_currency)} currencies "
                            f"({counts}); amounts in different currencies cannot be summed: give --rates rates.csv "
                            "(Salesforce's CurrencyType export) or filter to one currency")
        only = next(iter(per_currency), None)
        return lines, record | {"money_in": only, "corporate": None, "rates_file": None,
                                "rule": f"one currency and no rates: money amounts are in {only}"}
    _check_currencies(per_currency, rates, table, mapping, source, row_name)
    if rates.dated:
        _check_dates(lines, rates, table, mapping, source, row_name)
    joined = _with_rates(lines, rates)
    kept_as_read = joined.customer.isnull() | (joined.date.isnull() if rates.dated else ibis.literal(False))
    money = {role: ibis.ifelse(kept_as_read, joined[role], joined[role] / joined._rate)
             for role in MONEY_ROLES if role in lines.columns}
    converted = joined.mutate(**money).select(*lines.columns)
    return converted, record | {"money_in": rates.corporate, "corporate": rates.corporate, "rates_file": rates.path,
                                "rule": RULE, "rates": rates.table()}


def currency_totals(kept: ibis.Table, rates: Rates | None) -> dict[str, dict]:
    """Per currency, the kept lines and their revenue as read and (with rates) converted."""
    if rates is None:
        found = kept.group_by("currency").aggregate(lines=kept.count(), revenue=revenue(kept).sum()).execute()
        return {str(r.currency): {"lines": int(r.lines), "revenue": _money(r.revenue)} for r in found.itertuples()}
    joined = _with_rates(kept, rates)
    converted = revenue(joined)
    found = joined.group_by("currency").aggregate(lines=joined.count(), revenue=(converted * joined._rate).sum(),
                                                  converted=converted.sum()).execute()
    return {str(r.currency): {"lines": int(r.lines), "revenue": _money(r.revenue), "revenue_converted": _money(r.converted)}
            for r in found.sort_values("currency").itertuples()}


def _money(value) -> float:
    """A total as recorded: 6 decimals (16,120 yen read back from 100 EUR x 161.2 is not 16,119.999999999998)."""
    return round(float(value or 0.0), 6)
