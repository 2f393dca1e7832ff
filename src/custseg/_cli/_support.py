"""What every CLI command shares: turning library errors into one line and an exit code."""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console

from .._config._options import ALL_SHEETS
from .._engines._xlsx import prefetch_workbook
from .._errors import CustsegError

console = Console(highlight=False)
error_console = Console(stderr=True, highlight=False)


def prefetch_input(path, config) -> None:
    """Start parsing a workbook of sales lines (one sheet of one file) while the command's libraries load (see `_engines._xlsx`)."""
    if (config.mapping and not config.customers and config.engine == "duckdb" and isinstance(path, str | Path)
            and config.read.sheet != ALL_SHEETS):
        prefetch_workbook(path, config.read.sheet, config.read.header_row, config.mapping.column_kinds())


@contextmanager
def reported_errors(debug: bool = False) -> Iterator[None]:
    """Run a command body; a custseg error becomes `Error: ...` and its exit code (with `debug`, after the traceback)."""
    try:
        yield
    except CustsegError as exc:
        _traceback(debug)
        error_console.print(f"Error: {exc}", markup=False, soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        error_console.print("Interrupted.", markup=False)
        raise typer.Exit(130) from None
    except OSError as exc:
        _traceback(debug)
        where = f" {exc.filename}" if exc.filename else ""
        error_console.print(f"Error:{where} {exc.strerror or exc}", markup=False, soft_wrap=True)
        raise typer.Exit(1) from None


def _traceback(debug: bool) -> None:
    """The traceback of the exception being handled, on stderr, when `debug`."""
    if debug:
        error_console.print(traceback.format_exc().rstrip(), markup=False, soft_wrap=True)


def split_list(text: str | None) -> tuple[str, ...] | None:
    """'a, b,c' -> ('a', 'b', 'c'); None stays None."""
    return tuple(part.strip() for part in text.split(",") if part.strip()) if text else None


def _file_text(file: dict) -> str:
    """'b.csv: 45 rows, encoding cp1252 (why)': one file of several, as the summary lists it."""
    sheet = f" sheet {file['sheet']!r}" if file.get("sheet") is not None else ""
    encoding = (f", encoding {file['encoding']} ({file['encoding_rule']})"
                if file.get("encoding_rule", "valid UTF-8") != "valid UTF-8" else "")
    endings = f", line endings {file['line_endings']}" if file.get("line_endings") else ""
    return f"{file['name']}{sheet}: {file['rows']:,} rows{encoding}{endings}"


STRIPPED_WORDS = {"currency": "currency symbol {currency!r}", "percent": "% (divided by 100)",
                  "parentheses": "parentheses (negative)", "trailing_minus": "trailing minus (negative)"}


def _stripped(chosen: dict) -> str:
    """'; stripped: currency symbol '$' from 180 value(s), ...' for a column of formatted numbers (`_prep._numbers`)."""
    marks = [f"{STRIPPED_WORDS[mark].format(currency=chosen.get('currency'))} from {count:,}"
             for mark, count in (chosen.get("stripped") or {}).items() if count]
    return f"; stripped: {', '.join(marks)} value(s)" if marks else ""


def summary_lines(cleaning: dict) -> list[str]:
    """Every reading and cleaning decision of a run, one line each, as `custseg run` prints them."""
    lines = [f"  dropped {count:,} line(s): {cleaning['rules'][rule]}" for rule, count in cleaning["dropped"].items() if count]
    if cleaning.get("customers_after_as_of"):
        lines.append(f"  {cleaning['customers_after_as_of']:,} customer(s) left out: every line on or after the as-of day "
                     f"{cleaning['as_of']}")
    for column, chosen in (cleaning.get("number_formats") or {}).items():
        lines.append(f"  numbers in {column!r}: decimal {chosen['decimal']!r}, thousands {chosen['thousands']!r} ({chosen['rule']})"
                     + _stripped(chosen))
    for column, count in (cleaning.get("missing_tokens") or {}).items():
        lines.append(f"  {count:,} value(s) in {column!r} written n/a, NA, null, none or nan: read as missing (imputed)")
    for column, count in (cleaning.get("spaces_trimmed") or {}).items():
        lines.append(f"  spaces trimmed around {count['values']:,} value(s) in {column!r}"
                     + (f", {count['unicode']:,} of them Unicode spaces (no-break, zero-width, BOM...)" if count["unicode"] else ""))
    files = cleaning.get("files") or []
    if len(files) > 1:
        parts = "sheets" if len({f["path"] for f in files}) == 1 else "files"
        lines.append(f"  read {len(files)} {parts}, stacked by column name: {'; '.join(map(_file_text, files))}")
    file = cleaning.get("file") or {}
    if len(files) <= 1 and file.get("encoding_rule", "valid UTF-8") != "valid UTF-8":
        lines.append(f"  encoding: {file['encoding']} ({file['encoding_rule']})")
    if len(files) <= 1 and file.get("line_endings"):
        lines.append(f"  line endings: {file['line_endings']}")
    report = cleaning.get("grouped_report") or {}
    if report.get("fill_down"):
        lines.append(f"  customer filled down in {report['column']!r} (--fill-down): {report['customer_filled_down']:,} blank "
                     f"cell(s) took the customer of the nearest line or group header above; "
                     f"{report.get('left_blank_at_top', 0):,} above the first customer left blank")
    if report.get("grand_total_records") is not None:
        lines.append(f"  grand total row: {report['grand_total_records']:,} records, as many lines read")
    ids = cleaning.get("salesforce_ids")
    if ids:
        lines.append(f"  Salesforce ids in {ids['column']!r}: {ids['converted_15_to_18']:,} converted from 15 to 18 "
                     f"characters, {ids['already_18']:,} already 18")
    if cleaning.get("currency"):
        lines.append(currency_line(cleaning["currency"]))
    cancellations = cleaning.get("cancellations") or {}
    if cancellations.get("rule") == "net":
        lines.append(f"  cancellations netted: {cancellations['matched']:,} matched to an earlier purchase "
                     f"(revenue {cancellations['revenue_netted']:,.2f}), {cancellations['unmatched']:,} unmatched (dropped); "
                     f"revenue beyond the purchases, not netted: {cancellations['revenue_not_netted']:,.2f}")
    elif cancellations.get("rule") == "signed":
        lines.append(f"  cancellations summed signed: {cancellations['amendments']:,} amendment line(s) (negative quantity) "
                     f"kept in revenue and units, not as orders (revenue {cancellations['revenue']:,.2f}); "
                     f"{cancellations['customers_dropped']:,} customer(s) with a negative total or amendments only dropped")
    elif cancellations.get("rule") == "drop":
        lines.append("  cancellations: dropped with every line of quantity <= 0 (the study's rule)")
    zero = cleaning.get("zero_price_lines") or {}
    if zero.get("kept"):
        lines.append(f"  {zero['kept']:,} zero-price line(s) kept as orders (free items; --drop-zero-price drops them)")
    return lines



def currency_line(currency: dict) -> str:
    """The console line of cleaning.json's `currency`: which currency money is in, and each currency converted."""
    if not currency["present"]:
        return f"  currency: {currency['rule']}"
    if currency["corporate"] is None:
        money = currency["money_in"]
        return f"  currency: every line in {money} (column {currency['column']!r}): money amounts are in {money}"
    corporate = currency["corporate"]
    parts = []
    for code, total in currency["totals"].items():
        rate = currency["rates"].get(code)
        at = "" if code == corporate else f" at {rate:g}" if isinstance(rate, float) else f" at {len(rate)} dated rates"
        parts.append(f"{code} {total['lines']:,} lines{at} ({total['revenue']:,.2f} -> {total['revenue_converted']:,.2f})")
    return (f"  currency: money converted to {corporate}, the corporate currency, with the rates of {currency['rates_file']} "
            f"(amount / rate, a rate being units per 1 {corporate}): {'; '.join(parts)}")


def stability_cell(row, lang: str) -> str:
    """A segment's bootstrap Jaccard and its word (profiles' `stability_jaccard`, `stability_<lang>`) for the
    console's segment table ("" when the run measured none; the word alone for a segment merged after the bootstrap).

    >>> stability_cell({"stability_jaccard": 0.684, "stability_en": "tentative"}, "en"), stability_cell({}, "en")
    ('0.68 tentative', '')
    >>> stability_cell({"stability_jaccard": float("nan"), "stability_en": "not measured"}, "en")
    'not measured'
    """
    jaccard = row.get("stability_jaccard")
    if jaccard is None or jaccard != jaccard:
        word = row.get(f"stability_{lang}")
        return word if jaccard is not None and isinstance(word, str) else ""
    return f"{jaccard:.2f} {row[f'stability_{lang}']}"
