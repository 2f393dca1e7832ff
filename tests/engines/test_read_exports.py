"""Issue 12 item 10: file shapes from exports (mixed line endings, a title block above an xlsx table)."""

from __future__ import annotations

import ibis
import pytest

from custseg import DataError
from custseg._engines._read import ReadOptions, open_source


def write_xlsx(path, rows):
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Export")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value)
    book.close()
    return path


def test_mixed_crlf_and_lf_line_endings_are_read(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"acct,amount\r\na,1\nb,2\r\nc,3\n")
    source = open_source(path, ibis.duckdb.connect())
    assert source.table.to_pandas().values.tolist() == [["a", "1"], ["b", "2"], ["c", "3"]]
    assert source.notes == {"line_endings": "mixed CRLF and LF (read with DuckDB's strict_mode off)", "delimiter": ",",
                            "encoding": "utf-8", "encoding_rule": "valid UTF-8"}


TITLED = [["Sales export"], ["made 2024-01-05"], [], ["acct", "amount"], ["a", 1], ["b", 2], ["c", 3]]


def test_xlsx_header_below_a_title_block_is_named_and_read_with_header_row(tmp_path):
    path = write_xlsx(tmp_path / "titled.xlsx", TITLED)
    con = ibis.duckdb.connect()
    with pytest.raises(DataError) as err:
        open_source(path, con, columns=["acct", "amount"])
    assert str(err.value) == (f"{path}: sheet 'Export' has no column(s) acct, amount; row 4 looks like the header: "
                              "use --header-row 4")
    source = open_source(path, con, ReadOptions(header_row=4), columns=["acct", "amount"])
    assert source.table.to_pandas().values.tolist() == [["a", "1"], ["b", "2"], ["c", "3"]]


def test_header_row_must_be_a_row_number():
    from custseg import UsageError

    with pytest.raises(UsageError, match="header row must be a row number >= 1; got 0"):
        ReadOptions(header_row=0)
