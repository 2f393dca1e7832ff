"""The org's conversion rates, saved beside the pulled lines for `custseg run --rates`.

An org with multi-currency has `CurrencyIsoCode` on its records: the pull adds that field to
the lines, and saves the org's rates with the REST query API (the Bulk API does not serve
these objects): CurrencyType as `<output stem>.rates.csv` (IsoCode, ConversionRate,
IsCorporate) and, when the org has dated rates (advanced currency management),
DatedConversionRate as `<output stem>.dated-rates.csv` (IsoCode, ConversionRate, StartDate,
NextStartDate). Both are read by `custseg run --rates` (`_prep._rates`); `run` uses them
only when told. An org without multi-currency gets no file, and a note.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from simple_salesforce.exceptions import SalesforceMalformedRequest

from .._atomic import write_text_atomic
from .._config._columns import CURRENCY_FIELD
from .._errors import UsageError
from ._client import SalesforceClient, error_text

RATE_TABLES = {  # file suffix -> (object, fields)
    ".rates.csv": ("CurrencyType", ("IsoCode", "ConversionRate", "IsCorporate")),
    ".dated-rates.csv": ("DatedConversionRate", ("IsoCode", "ConversionRate", "StartDate", "NextStartDate")),
}


def has_currencies(describe: dict) -> bool:
    """Whether the object described has `CurrencyIsoCode` (the org has multi-currency)."""
    return any(f["name"].lower() == CURRENCY_FIELD.lower() for f in describe.get("fields", []))


def with_currency(fields: tuple[str, ...], describe: dict) -> tuple[str, ...]:
    """`fields` and, for an org with multi-currency, `CurrencyIsoCode` (each line's amounts are in its currency)."""
    if has_currencies(describe) and CURRENCY_FIELD.lower() not in (f.lower() for f in fields):
        return (*fields, CURRENCY_FIELD)
    return fields


def rates_paths(output: Path) -> dict[str, Path]:
    """Suffix -> the path of that rates file beside `output` (`sales_2020.parquet`: `sales_2020.rates.csv`...)."""
    return {suffix: output.with_name(output.stem + suffix) for suffix in RATE_TABLES}


def check_rates_paths(output: Path, overwrite: bool) -> None:
    """Refuse to replace a rates file without --overwrite."""
    for path in rates_paths(output).values():
        if path.exists() and (path.is_dir() or not overwrite):
            raise UsageError(f"rates file {path} already exists (use --overwrite to replace it)")


def _cell(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def fetch_rates(client: SalesforceClient) -> dict[str, list[list[str]]]:
    """Suffix -> the rows of its object (header first); an object the org lacks or leaves empty is left out."""
    out = {}
    for suffix, (name, fields) in RATE_TABLES.items():
        soql = f"SELECT {', '.join(fields)} FROM {name}"

        def query(sf, soql=soql):
            try:
                return sf.query_all(soql)["records"]
            except SalesforceMalformedRequest as exc:  # the org has no such object (no dated rates)
                if "INVALID_TYPE" in error_text(exc):
                    return []
                raise

        records = client.call(query, f"query {name}", idempotent=True)
        if records:
            out[suffix] = [list(fields)] + [[_cell(record.get(f)) for f in fields] for record in records]
    return out


def write_rates(output: Path, tables: dict[str, list[list[str]]]) -> list[Path]:
    """Write each table beside `output`; return the paths written."""
    written = []
    for suffix, path in rates_paths(output).items():
        if suffix in tables:
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\n").writerows(tables[suffix])
            write_text_atomic(path, buffer.getvalue())
            written.append(path)
    return written
