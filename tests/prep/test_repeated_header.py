"""Issue 21 item 3: a header line repeated inside the data (two CSV exports joined with `cat`) is dropped and counted."""

from __future__ import annotations

import ibis
import pandas as pd

from custseg import ColumnMapping
from custseg._prep._clean import clean_lines
from custseg._prep._parse import REPEATED_HEADER, flag_repeated_headers, typed_lines

MAPPING = ColumnMapping(customer="cust", order="inv", quantity="qty", price="price")
HEADER = ["cust", "inv", "qty", "price"]


def test_repeated_headers_are_dropped_before_typing_and_counted():
    rows = [["a", "1", "2", "10"], HEADER, ["b", "2", "1", "5"], ["\ufeffcust", "inv", "qty", "price"], ["c", "3", "3", "1"]]
    table = ibis.duckdb.connect().create_table("t", pd.DataFrame(rows, columns=HEADER, dtype="string"))
    lines, _ = typed_lines(table, MAPPING, "cat.csv")  # 'qty' and 'price' would be non-numeric values
    kept, summary = clean_lines(lines, MAPPING, "cat.csv")
    assert summary["dropped"]["repeated_header"] == 2 and summary["rows_in"] == 5 and summary["rows_out"] == 3
    assert REPEATED_HEADER not in kept.columns
    assert sorted(kept.to_pandas()["price"].tolist()) == [1.0, 5.0, 10.0]


def test_only_text_tables_are_checked_and_a_row_equal_in_part_is_data():
    frame = pd.DataFrame({"cust": ["cust", "cust"], "qty": ["qty", "2"]}, dtype="string")
    flagged = flag_repeated_headers(ibis.memtable(frame), ["cust", "qty"])
    assert flagged.to_pandas()[REPEATED_HEADER].tolist() == [True, False]
    typed = ibis.memtable(pd.DataFrame({"cust": ["cust"], "qty": [2.0]}))
    assert REPEATED_HEADER not in flag_repeated_headers(typed, ["cust", "qty"]).columns
