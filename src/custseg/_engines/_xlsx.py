"""A workbook's sheet as Arrow, number and date columns in their own types; parsed ahead while the libraries load.

Light on purpose (fastexcel and pyarrow are imported when used): the command line calls
`prefetch_workbook` before importing scikit-learn, ibis and DuckDB, and the parse (Rust,
without the GIL) runs on another core meanwhile.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from ._spaces import trim, trimmed_names

NATIVE_TYPES = {"number": ("is_floating", "is_integer"), "date": ("is_timestamp", "is_date")}
_AHEAD: dict[tuple, tuple[threading.Thread, list]] = {}


def sheet_key(sheet: str | int | None) -> str | int:
    """The sheet option as fastexcel takes it: an index (default 0, digits too) or a name."""
    sheet = sheet if sheet is not None else 0
    return int(sheet) if isinstance(sheet, str) and sheet.isdigit() else sheet


def typed_sheet(reader, sheet: str | int, header_row: int, kinds: dict[str, str]):
    """Every column of the sheet as Arrow, typed by strict inference on all rows; None when the sheet refuses it.

    `kinds` maps the columns the run uses to "text", "number" or "date". Text columns are
    read as text (an id 1000 stays '1000'). Every other column takes the one type all its
    cells share; a column whose cells mix types (numbers and text, or TRUE/FALSE among
    numbers) makes the whole sheet None, and the caller reads it as text, where
    `_prep._parse` reports each bad cell with its row. A number or date column that came
    out in another type (dates in a quantity column, serial numbers in a date column), or
    with empty cells (fastexcel also empties the text "n/a", "NA" and "#N/A"), is read
    again as text, for the same reports and the same missing values as a CSV. A header with
    spaces around it is found under its trimmed name (the reader trims the names, `_spaces`).
    """
    import pyarrow as pa

    logging.getLogger("fastexcel").setLevel(logging.ERROR)  # "falling back to string" for an empty column
    try:
        arrow = reader.load_sheet(sheet, header_row=header_row, schema_sample_rows=None, dtype_coercion="strict",
                                  dtypes={c: "string" for c, kind in kinds.items() if kind == "text"}).to_arrow()
    except Exception:  # a column of mixed types (or a sheet the text path reports on)
        return None
    untidy = {c: kinds[trim(c)] for c in arrow.column_names if c not in kinds and trim(c) in kinds}
    if untidy:  # headers with spaces around them ('Account\u00a0'): read again with the kinds under those names
        return typed_sheet(reader, sheet, header_row, kinds | untidy)
    as_text = [c for c, kind in kinds.items() if kind != "text" and c in arrow.column_names and (
        arrow.column(c).null_count or not any(getattr(pa.types, test)(arrow.column(c).type) for test in NATIVE_TYPES[kind]))]
    if as_text:
        text = reader.load_sheet(sheet, header_row=header_row, use_columns=as_text, dtypes="string").to_arrow()
        arrow = pa.table({c: text.column(c) if c in as_text else arrow.column(c) for c in arrow.column_names})
    return arrow


def number_cells(path, sheet, header_row: int, name: str) -> str:
    """What the cells of column `name` (its header trimmed) hold, by strict inference over every row: "numbers",
    "text", "mixed" (numbers and text) or "other" (dates, booleans). Parses the sheet once more."""
    import fastexcel
    import pyarrow as pa

    reader = fastexcel.read_excel(str(path))
    try:
        column = reader.load_sheet(sheet_key(sheet), header_row=header_row, schema_sample_rows=None, dtype_coercion="strict",
                                   use_columns=lambda info: trim(info.name) == name).to_arrow().column(0)
    except Exception:  # cells of several types
        return "mixed"
    return "numbers" if pa.types.is_floating(column.type) or pa.types.is_integer(column.type) else (
        "text" if pa.types.is_string(column.type) or pa.types.is_large_string(column.type) else "other")


def _key(path, sheet, header_row: int, kinds: dict[str, str]) -> tuple:
    return str(Path(path).resolve()), sheet_key(sheet), header_row, tuple(kinds.items())


def prefetch_workbook(path, sheet, header_row: int | None, kinds: dict[str, str]) -> None:
    """Start `typed_sheet` for an .xlsx input in a background thread (nothing for other inputs)."""
    if not kinds or Path(path).suffix.lower() not in (".xlsx", ".xlsm") or not Path(path).is_file():
        return
    result: list = []
    row = (header_row or 1) - 1

    def parse() -> None:
        try:
            import fastexcel

            result.append(typed_sheet(fastexcel.read_excel(str(path)), sheet_key(sheet), row, kinds))
        except Exception:  # the reader, run again in the foreground, reports it
            result.append(None)

    thread = threading.Thread(target=parse, name="custseg-xlsx", daemon=True)
    _AHEAD[_key(path, sheet, row, kinds)] = (thread, result)
    thread.start()


def prefetched(path, sheet, header_row: int, kinds: dict[str, str]):
    """What `prefetch_workbook` parsed for these arguments (waiting for it), or None."""
    thread, result = _AHEAD.pop(_key(path, sheet, header_row, kinds), (None, None))
    if thread is None:
        return None
    thread.join()
    return result[0] if result else None


def sheet_header(reader, sheet: str | int, header_row: int) -> list[str] | None:
    """A sheet's column names, trimmed as every reader trims them (None for an empty sheet or one that does not read)."""
    try:
        return trimmed_names(reader.load_sheet(sheet, header_row=header_row, n_rows=0, dtypes="string").to_arrow().column_names)
    except Exception:  # an empty or unreadable sheet has no header to compare
        return None

