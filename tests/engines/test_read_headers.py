"""Issue 21 item 4, readers: spaces around column names (no-break, BOM, zero-width...) are trimmed in every reader,
and a workbook's id column holding 16-digit numbers stops (a workbook keeps 15 significant digits)."""

from __future__ import annotations

import sys
from pathlib import Path

import ibis
import pandas as pd
import pytest

from custseg import ColumnMapping, DataError
from custseg._config import RunConfig
from custseg._engines._read import open_source
from custseg._prep._prepare import prepare

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hardening"))
from hardening_data import write_xlsx  # noqa: E402

MAPPING = ColumnMapping(customer="Account", order="Invoice", quantity="Qty", price="Price")
KINDS = MAPPING.column_kinds()
UNTIDY = ["\ufeffAccount", "Invoice\u00a0", "\u200bQty", " Price\u3000", "Note"]
ROWS = [["a", "i1", 1.0, 10.0, "x"], ["a", "i2", 2.0, 5.0, "y"], ["b", "i3", 1.0, 7.5, "z"], ["c", "i4", 3.0, 1.0, "w"]]
# TotalSales by hand: a 1 x 10 + 2 x 5 = 20, b 7.5, c 3
TOTALS = {"a": 20.0, "b": 7.5, "c": 3.0}
CONFIG = RunConfig(mapping=MAPPING, features=("TotalSales", "OrderCount"))


def _csv(path: Path, header: list[str]) -> Path:
    body = "\n".join(",".join(str(v) for v in row) for row in ROWS)
    path.write_bytes((",".join(header) + "\n" + body + "\n").encode("utf-8"))  # a leading \ufeff is a UTF-8 BOM
    return path


def _totals(data) -> dict[str, float]:
    customers = prepare(data, CONFIG).customers
    return dict(zip(customers["customer"], customers["TotalSales"]))


@pytest.mark.parametrize("kind", ["csv", "xlsx", "xlsx-two-sheets", "parquet", "dataframe"])
def test_untidy_headers_match_the_mapping_in_every_reader(tmp_path, kind):
    frame = pd.DataFrame(ROWS, columns=UNTIDY)
    if kind == "csv":
        data = _csv(tmp_path / "s.csv", UNTIDY)
    elif kind.startswith("xlsx"):  # a second sheet: a missing column would stop naming the sheets
        other = {"Notes": [["made by hand"]]} if kind == "xlsx-two-sheets" else {}
        data = write_xlsx(tmp_path / "s.xlsx", {"Sales": [UNTIDY, *ROWS], **other})
    elif kind == "parquet":
        data = tmp_path / "s.parquet"
        frame.to_parquet(data, index=False)
    else:
        data = frame
    assert list(open_source(data, ibis.duckdb.connect(), columns=KINDS).table.columns) == [
        "Account", "Invoice", "Qty", "Price", "Note"]
    assert _totals(data) == TOTALS


def test_a_workbook_with_untidy_headers_keeps_its_typed_columns(tmp_path):
    path = write_xlsx(tmp_path / "s.xlsx", {"Sales": [UNTIDY, *ROWS]})
    schema = open_source(path, ibis.duckdb.connect(), columns=KINDS).table.schema()
    assert schema["Account"].is_string() and schema["Qty"].is_floating()


def test_names_equal_once_trimmed_are_kept_as_written(tmp_path):
    path = _csv(tmp_path / "s.csv", ["Account", "Invoice", "Qty", "Price", "Account\u200b"])
    assert list(open_source(path, ibis.duckdb.connect()).table.columns) == ["Account", "Invoice", "Qty", "Price", "Account\u200b"]


def _workbook_ids(tmp_path: Path, ids: list, text: bool = False) -> Path:
    """A workbook whose Account cells are `ids`, written as numbers (or as text)."""
    import xlsxwriter

    path = tmp_path / "ids.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Sales")
    for c, name in enumerate(UNTIDY[:4]):
        sheet.write_string(0, c, name)
    for r, (account, row) in enumerate(zip(ids, ROWS), 1):
        (sheet.write_string if text or isinstance(account, str) else sheet.write_number)(r, 0, str(account) if text else account)
        for c, value in enumerate(row[1:4], 1):
            sheet.write(r, c, value)
    book.close()
    return path


def test_a_workbook_id_of_16_digits_in_a_number_cell_stops(tmp_path):
    # 6271234567890123 typed in Excel is kept as 6271234567890120 (15 significant digits): its last digit is lost
    path = _workbook_ids(tmp_path, [1001, 6271234567890120, 1003, 1004])
    with pytest.raises(DataError) as err:
        prepare(path, CONFIG)
    assert str(err.value) == (f"{path}: column 'Account' (customer) has number cells and ids of 16 digits or more, e.g. "
                              "'6271234567890120' at data row 2: a workbook keeps 15 significant digits of a number, so "
                              "their last digits may be lost; format the column as text in the export and read it again")


def test_a_workbook_id_of_16_digits_among_text_cells_and_numbers_stops(tmp_path):
    path = _workbook_ids(tmp_path, ["A-1", 6271234567890120, "A-3", "A-4"])
    with pytest.raises(DataError, match=r"has number cells and ids of 16 digits or more, e.g. '6271234567890120' at data"):
        prepare(path, CONFIG)


def test_a_workbook_id_of_16_digits_as_text_is_exact(tmp_path):
    path = _workbook_ids(tmp_path, ["6271234567890123", "6271234567890124", "1003", "1004"], text=True)
    assert _totals(path) == {"6271234567890123": 10.0, "6271234567890124": 10.0, "1003": 7.5, "1004": 3.0}


def test_a_workbook_id_of_15_digits_in_a_number_cell_is_exact(tmp_path):
    path = _workbook_ids(tmp_path, [999999999999999, 1002, 1003, 1004])
    assert _totals(path)["999999999999999"] == 10.0


def test_a_per_customer_workbook_id_is_checked_too(tmp_path):
    import xlsxwriter

    path = tmp_path / "c.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("C")
    for r, row in enumerate([["id\u00a0", "spend"], [6271234567890120, 1], [2, 2], [3, 3]]):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    book.close()
    with pytest.raises(DataError, match=r"c\.xlsx: column 'id' has number cells and ids of 16 digits or more, e\.g\. "
                                        r"'6271234567890120' at data row 1"):
        prepare(path, RunConfig(customers=True, id_column="id"))
