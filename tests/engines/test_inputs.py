"""Issue 21 item 3: several files, a glob, a folder of parts and workbook sheets, read as one input."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import ibis
import pandas as pd
import pytest

from custseg import ColumnMapping, DataError, UsageError
from custseg._config._run import RunConfig
from custseg._engines._inputs import file_labels, input_files, stacked
from custseg._engines._read import ReadOptions, Source, open_source
from custseg._prep._prepare import prepare

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hardening"))
from hardening_data import write_xlsx  # noqa: E402

MAPPING = ColumnMapping(customer="cust", order="inv", quantity="qty", price="price")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_lists_patterns_and_folders_name_their_files_in_order(tmp_path):
    for name in ("2023-02.csv", "2023-01.csv", "notes.md"):
        write(tmp_path / name, "a\n1\n")
    parts = tmp_path / "parts"
    for name in ("part-1.parquet", "part-0.parquet", "_SUCCESS", ".part-0.parquet.crc", "year=2023/part-2.parquet",
                 "_temporary/part-9.parquet", "~$book.xlsx"):
        write(parts / name, "x")
    given, files = input_files([tmp_path / "2023-02.csv", tmp_path / "2023-01.csv"])
    assert [f.name for f in files] == ["2023-02.csv", "2023-01.csv"] and len(given) == 2  # a list keeps its order
    assert [f.name for f in input_files(str(tmp_path / "2023-*.csv"))[1]] == ["2023-01.csv", "2023-02.csv"]  # sorted
    found = input_files(parts)[1]
    assert [str(f.relative_to(parts)) for f in found] == ["part-0.parquet", "part-1.parquet", "year=2023/part-2.parquet"]
    with pytest.raises(DataError, match=r"2024-\*\.csv: no file matches$"):
        input_files(str(tmp_path / "2024-*.csv"))
    with pytest.raises(UsageError, match=r"2023-01.csv: given twice; each file is read once$"):
        input_files([tmp_path / "2023-01.csv", str(tmp_path / "2023-01.csv")])


def test_files_are_labelled_by_their_path_below_the_folder_they_share(tmp_path):
    assert file_labels([tmp_path / "a.csv", tmp_path / "b.csv"]) == ["a.csv", "b.csv"]
    assert file_labels([tmp_path / "2023" / "s.csv", tmp_path / "2024" / "s.csv"]) == ["2023/s.csv", "2024/s.csv"]


def test_columns_are_matched_by_name_and_a_column_of_two_types_is_read_as_text(tmp_path):
    pd.DataFrame({"cust": ["a", "b"], "qty": [1, 2]}).to_parquet(tmp_path / "a.parquet", index=False)
    pd.DataFrame({"qty": ["3"], "cust": ["c"]}).to_parquet(tmp_path / "b.parquet", index=False)
    con = ibis.duckdb.connect()
    table = stacked([(name, con.read_parquet(tmp_path / name)) for name in ("a.parquet", "b.parquet")])
    assert table.columns == ("cust", "qty") and table.schema()["qty"].is_string()
    assert table.to_pandas().values.tolist() == [["a", "1"], ["b", "2"], ["c", "3"]]


def test_a_data_row_is_named_by_its_file_and_its_own_row():
    files = [{"name": "a.csv", "rows": 3}, {"name": "b.csv", "rows": 5}, {"name": "book.xlsx", "sheet": "Q2", "rows": 2}]
    source = Source(None, "a.csv + b.csv + book.xlsx", "csv", None, files=files)
    # rows 1-3 are a.csv's, 4-8 b.csv's 1-5, 9-10 the sheet's 1-2
    assert [source.row_name(n) for n in (3, 4, 8, 10)] == [
        "a.csv data row 3", "b.csv data row 1", "b.csv data row 5", "book.xlsx sheet 'Q2' data row 2"]
    assert Source(None, "a.csv", "csv", None, files=files[:1]).row_name(3) == "data row 3"


def test_two_files_give_the_sum_over_the_files_and_are_each_recorded(tmp_path):
    a = write(tmp_path / "a.csv", "cust,inv,qty,price\nA,1,2,10\nB,2,1,5\n")
    b = write(tmp_path / "b.csv", "inv,cust,price,qty\n3,A,7,1\n4,B,4,3\n5,C,9,1\n")  # other column order
    prepared = prepare([a, b], RunConfig(mapping=MAPPING, features=("TotalSales",)))
    totals = dict(zip(prepared.customers["customer"], prepared.customers["TotalSales"]))
    assert totals == {"A": 2 * 10 + 1 * 7, "B": 1 * 5 + 3 * 4, "C": 9}  # 27, 17, 9
    files = prepared.cleaning["files"]
    assert [(f["name"], f["rows"]) for f in files] == [("a.csv", 2), ("b.csv", 3)]
    assert [f["sha256"] for f in files] == [hashlib.sha256(p.read_bytes()).hexdigest() for p in (a, b)]
    assert prepared.source.name == f"{a} + {b}" and prepared.source.title == "a.csv + b.csv"


def test_sheet_all_reads_the_sheets_with_the_same_columns_and_leaves_the_others(tmp_path):
    header = ["cust", "inv", "qty", "price"]
    book = write_xlsx(tmp_path / "book.xlsx", {"Cover": [["Sales 2023"]], "Q1": [header, ["A", "1", 2.0, 10.0]],
                                               "Q2": [header[::-1], [5.0, 1.0, "2", "B"], [7.0, 1.0, "3", "A"]],
                                               "Pivot": [["cust", "total"], ["A", 27.0]]})
    kinds = {"cust": "text", "inv": "text", "qty": "number", "price": "number"}
    source = open_source(book, ibis.duckdb.connect(), ReadOptions(sheet="all"), kinds)
    assert [(f["sheet"], f["rows"]) for f in source.files] == [("Q1", 1), ("Q2", 2)]
    assert source.table.select("cust", "price").to_pandas().values.tolist() == [["A", 10.0], ["B", 5.0], ["A", 7.0]]
    with pytest.raises(DataError, match="sheet 'Cover' has no column"):
        open_source(book, ibis.duckdb.connect(), columns=kinds)
    with pytest.raises(DataError, match=r"sheet\(s\) 'Q2' have the same columns as sheet 'Q1', the one read; --sheet all"):
        write_xlsx(tmp_path / "two.xlsx", {"Q1": [header, ["A", "1", 2.0, 10.0]], "Q2": [header, ["B", "2", 1.0, 5.0]]})
        open_source(tmp_path / "two.xlsx", ibis.duckdb.connect())


def test_the_engine_takes_lists_only_of_one_kind(tmp_path):
    csv = write(tmp_path / "a.csv", "cust\nA\n")
    pd.DataFrame({"cust": ["B"]}).to_parquet(tmp_path / "b.parquet", index=False)
    with pytest.raises(UsageError, match=r"files of different kinds \(csv: a.csv; parquet: b.parquet\)"):
        open_source([csv, tmp_path / "b.parquet"], ibis.duckdb.connect())


def test_spark_refuses_what_only_duckdb_reads(tmp_path):
    from types import SimpleNamespace

    from custseg._engines._spark import _spark_frame, open_spark_source

    with pytest.raises(UsageError, match="--max-line-size applies to the duckdb engine"):
        open_spark_source(tmp_path / "a.csv", SimpleNamespace(_session=None), ReadOptions(max_line_size="8MB"))
    with pytest.raises(UsageError, match="--sheet all reads with the duckdb engine"):
        _spark_frame(None, tmp_path / "a.xlsx", "xlsx", ReadOptions(sheet="all"), {})
