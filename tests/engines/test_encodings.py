"""Issue 21 item 8: Windows-1252 CSV from Excel, any --encoding codec, a line longer than the reader's limit."""

from __future__ import annotations

from pathlib import Path

import ibis
import pytest

from custseg import ColumnMapping, DataError, segment
from custseg._config._run import RunConfig
from custseg._engines._read import ReadOptions, open_source
from custseg._prep._prepare import prepare

PACK = "Caf\u00e9 \u2013 \u20ac5 pack"  # Café – €5 pack: bytes E9, 96 and 80 in Windows-1252
MAPPING = ColumnMapping(customer="cust", order="inv", quantity="qty", price="price", product="product")


def sales(n: int = 90) -> list[str]:
    """Nine customers; every third line is the pack (price 5), the others tea (price 2 + customer number)."""
    return [f"c{i % 9},i{i},1,{5 if i % 3 == 0 else 2 + i % 9},{PACK if i % 3 == 0 else 'Tea'}" for i in range(n)]


def write(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\n".join(["cust,inv,qty,price,product", *lines]) + "\n").encode(encoding))
    return path


def test_an_excel_windows_1252_csv_reads_back_exactly(tmp_path):
    path = write(tmp_path / "excel.csv", sales(), "cp1252")
    assert b"\x96 \x805 pack" in path.read_bytes()  # – and € are bytes latin-1 reads as control characters
    result = segment(path, mapping=MAPPING, k=3)
    assert PACK in set(result.top_products["product"])
    # the pack is 30 lines at 5 (150); tea 60 lines at 2 + i % 9, i.e. 20 x (2 + 4 + 3 + ... ) for the non-multiples of 3
    tea = sum(2 + i % 9 for i in range(90) if i % 3)
    assert result.assignments["TotalSales"].sum() == pytest.approx(150 + tea)
    assert result.cleaning["file"]["encoding"] == "cp1252"
    assert result.cleaning["file"]["encoding_rule"] == ("not UTF-8 (byte 0xE9 on line 2): read as Windows-1252, Excel's "
                                                        "encoding for CSV")


def test_bytes_windows_1252_leaves_undefined_are_read_as_latin_1(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_bytes(b"id\nA\x92\nB\x81\n")  # 0x92 is a right quote in cp1252; 0x81 is undefined there
    table = open_source(path, ibis.duckdb.connect()).table
    assert table.to_pandas()["id"].tolist() == ["A\u2019", "B\x81"]


def test_any_python_codec_reads_through_a_utf8_copy_that_is_removed(tmp_path):
    path = write(tmp_path / "jp.csv", [f"\u6771\u4eac{i},i{i},1,{i + 1},\u8336" for i in range(3)], "shift_jis")
    temp = tmp_path / "temp"
    source = open_source(path, ibis.duckdb.connect(), ReadOptions(encoding="shift_jis"), temp_directory=str(temp))
    assert source.table.to_pandas()["cust"].tolist() == ["\u6771\u4eac0", "\u6771\u4eac1", "\u6771\u4eac2"]  # 東京0..2
    assert source.notes["encoding"] == "shift_jis" and source.notes["encoding_rule"] == "given with --encoding"
    assert list(temp.iterdir()) == []
    with pytest.raises(DataError, match=r"excel.csv: not ascii text \(byte 0xE9 on line 2\); is --encoding right\?$"):
        open_source(write(tmp_path / "excel.csv", sales(), "cp1252"), ibis.duckdb.connect(), ReadOptions(encoding="ascii"),
                    temp_directory=str(temp))
    assert list(temp.iterdir()) == []


LONG = "x" * 3000


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252"])  # read by DuckDB itself, and from a UTF-8 copy
def test_a_line_over_the_limit_names_its_row_and_the_option(tmp_path, encoding):
    lines = sales(9)
    path = write(tmp_path / "long.csv", lines[:4] + [f"c1,i99,1,5,{PACK} {LONG}"] + lines[4:], encoding)
    size = len(f"c1,i99,1,5,{PACK} {LONG}".encode())  # 3,029 bytes in UTF-8
    with pytest.raises(DataError) as caught:
        open_source(path, ibis.duckdb.connect(), ReadOptions(max_line_size="1KB"), temp_directory=str(tmp_path / "t"))
    assert str(caught.value) == (f"{path}: data row 5 is {size:,} bytes long, more than the reader's limit of 1,000 (a cell "
                                 "holding a long text, or line breaks the reader does not see); read it with "
                                 "--max-line-size 1MB")
    table = open_source(path, ibis.duckdb.connect(), ReadOptions(max_line_size="4KB")).table
    assert table.count().execute() == 10


def test_a_long_line_past_the_readers_sample_is_named_when_a_query_meets_it(tmp_path):
    lines = [f"c{i % 9},i{i},1,{1 + i % 5},Tea" for i in range(25_000)]
    path = write(tmp_path / "late.csv", lines[:24_000] + [f"c1,i-1,1,5,{LONG}"] + lines[24_000:])  # beyond DuckDB's sniffing
    config = RunConfig(mapping=MAPPING, read=ReadOptions(max_line_size=1000))  # the line: 11 + 3,000 bytes
    with pytest.raises(DataError, match=r"late.csv: data row 24001 is 3,011 bytes long, more than the reader's limit of "
                                        r"1,000 .*; read it with --max-line-size 1MB$"):
        prepare(path, config)
