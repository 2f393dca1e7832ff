"""Workbooks: number and date columns read in their own types when every cell has that type; otherwise as text."""

from __future__ import annotations

import datetime as dtm
import sys
from pathlib import Path

import ibis
import pandas as pd
import pytest

from custseg import ColumnMapping, DataError, preset, segment
from custseg._engines import _xlsx
from custseg._engines._read import open_source

from shared_data import shared_file

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hardening"))
from hardening_data import write_xlsx  # noqa: E402

HEADER = ["Account", "Invoice", "Qty", "Price", "Day", "Note"]
KINDS = {"Account": "text", "Invoice": "text", "Qty": "number", "Price": "number", "Day": "date"}
MAPPING = ColumnMapping(customer="Account", order="Invoice", quantity="Qty", price="Price", date="Day")
COLUMNS = ["customer_id", "TotalSales", "OrderCount", "AvgOrderValue"]


def _rows(n: int = 40) -> list[list]:
    return [[1000 + i % 7, f"INV{i}", float(1 + i % 3), 2.5 + i, dtm.date(2021, 1, 1 + i % 28), "x"] for i in range(n)]


def _types(path: Path, kinds: dict[str, str] = KINDS) -> dict[str, str]:
    table = open_source(path, ibis.duckdb.connect(), columns=kinds).table
    return {name: str(dtype).lstrip("!") for name, dtype in table.schema().items()}


def test_clean_columns_keep_their_types_and_ids_stay_text(tmp_path):
    types = _types(write_xlsx(tmp_path / "s.xlsx", {"Sales": [HEADER, *_rows()]}))
    assert types["Account"] == "string" and types["Invoice"] == "string"  # numeric ids stay text: '1000', not 1000.0
    assert types["Qty"] == "float64" and types["Price"] == "float64" and types["Day"].startswith("timestamp")
    assert types["Note"] == "string"  # kept: duplicates are judged on whole rows


@pytest.mark.parametrize(("row", "column", "cell", "role", "shown"), [
    (5, "Price", "n/a", "price", "'n/a'"),  # read again as text, not emptied (fastexcel empties "n/a")
    (7, "Qty", True, "quantity", "'true'"),  # TRUE among numbers: not taken for 1
])
def test_a_cell_of_another_kind_in_a_number_column_is_reported_with_its_row(tmp_path, row, column, cell, role, shown):
    rows = _rows()
    rows[row][HEADER.index(column)] = cell
    path = write_xlsx(tmp_path / "s.xlsx", {"Sales": [HEADER, *rows]})
    assert _types(path)[column] == "string"
    with pytest.raises(DataError, match=rf"'{column}' \({role}\) has 1 non-numeric values.*{shown} at data row {row + 1}"):
        segment(path, mapping=MAPPING, k=2, seed=0)


def test_blank_cells_go_through_the_text_path_and_are_counted_as_missing(tmp_path):
    rows = _rows()
    rows[3][3] = None
    path = write_xlsx(tmp_path / "s.xlsx", {"Sales": [HEADER, *rows]})
    assert _types(path)["Price"] == "string" and _types(path)["Qty"] == "float64"
    result = segment(path, mapping=MAPPING, k=2, seed=0)
    assert result.cleaning["dropped"]["missing_or_non_finite_price"] == 1


def test_serial_numbers_in_a_date_column_are_read_as_text_then_as_the_same_dates(tmp_path):
    rows = _rows()
    serials = [[*row[:4], (dtm.datetime.combine(row[4], dtm.time()) - dtm.datetime(1899, 12, 30)).days, row[5]]
               for row in rows]
    dates = write_xlsx(tmp_path / "d.xlsx", {"Sales": [HEADER, *rows]})
    numbers = write_xlsx(tmp_path / "n.xlsx", {"Sales": [HEADER, *serials]})
    assert _types(numbers)["Day"] == "string"  # not a date type: the text path (`_prep._dates` reads serials)
    from_dates, from_numbers = (segment(path, mapping=MAPPING, k=2, seed=0).cleaning for path in (dates, numbers))
    assert (from_numbers["date_min"], from_numbers["date_max"]) == (from_dates["date_min"], from_dates["date_max"]) \
        == ("2021-01-01", "2021-01-28")


def test_a_mixed_column_the_run_does_not_use_still_counts_for_duplicates(tmp_path):
    rows = _rows()
    rows[1] = list(rows[0])  # an exact duplicate of the first line
    rows[2][5] = 3.5  # the note column mixes text and a number: the sheet is read as text
    path = write_xlsx(tmp_path / "s.xlsx", {"Sales": [HEADER, *rows]})
    assert _types(path)["Qty"] == "string"
    result = segment(path, mapping=MAPPING, k=2, seed=0)
    assert result.cleaning["dropped"]["duplicate_line"] == 1


def test_prefetched_sheet_is_the_one_read_and_is_used_once(tmp_path, monkeypatch):
    path = write_xlsx(tmp_path / "s.xlsx", {"Sales": [HEADER, *_rows()]})
    _xlsx.prefetch_workbook(path, None, None, KINDS)
    calls = []
    monkeypatch.setattr("custseg._engines._read.typed_sheet", lambda *a: calls.append(a))
    assert _types(path)["Qty"] == "float64" and calls == []  # from the background parse
    assert _types(path)["Qty"] == "string" and len(calls) == 1  # not prefetched again: parsed in the foreground


def _online_retail_xlsx(tmp_path: Path, n: int) -> tuple[Path, Path]:
    """The first `n` lines of the real Online Retail data, as CSV and as a workbook with real numbers and dates."""
    lines = pd.read_csv(shared_file("online_retail.csv"), nrows=n, dtype=str, encoding="latin-1")
    csv = tmp_path / "retail.csv"
    lines.to_csv(csv, index=False)
    cells = lines.astype(object).where(lines.notna(), None)
    for column in ("Quantity", "UnitPrice"):
        cells[column] = pd.to_numeric(lines[column])
    cells["InvoiceDate"] = pd.to_datetime(lines["InvoiceDate"]).dt.to_pydatetime()
    rows = [list(lines.columns), *cells.itertuples(index=False, name=None)]
    return csv, write_xlsx(tmp_path / "retail.xlsx", {"Sales": rows}, date_format="yyyy-mm-dd hh:mm:ss")


def test_real_retail_lines_give_the_same_segments_from_the_typed_workbook_and_the_csv(tmp_path):
    csv, xlsx = _online_retail_xlsx(tmp_path, 20_000)
    assert _types(xlsx, preset("online-retail").column_kinds())["Quantity"] == "float64"  # the fast path was taken
    options = {"mapping": preset("online-retail"), "k": 3, "seed": 0}
    from_xlsx, from_csv = segment(xlsx, **options), segment(csv, **options)
    assert from_xlsx.cleaning["dropped"] == from_csv.cleaning["dropped"]
    assert from_xlsx.cleaning["rows_out"] == from_csv.cleaning["rows_out"] == 12_826
    pd.testing.assert_frame_equal(from_xlsx.assignments[COLUMNS], from_csv.assignments[COLUMNS])

