"""Cleaning rules: each line dropped is counted under the first rule that drops it."""

import ibis
import pandas as pd
import pytest

from custseg import CleaningRules, ColumnMapping, DataError
from custseg._prep._clean import _order_hashes, _orders_unique, clean_lines
from custseg._prep._parse import typed_lines

MAPPING = ColumnMapping(customer="cust", order="inv", quantity="qty", price="price", cancellation_prefix="C",
                        cancellations="drop")  # the study's rule; netting: tests/prep/test_netting.py


def clean(rows: list[tuple], rules: CleaningRules | None = None):
    frame = pd.DataFrame(rows, columns=["cust", "inv", "qty", "price"], dtype="string")
    con = ibis.duckdb.connect()
    lines, _ = typed_lines(con.create_table("t", frame), MAPPING, "sales.csv")
    kept, summary = clean_lines(lines, MAPPING, "sales.csv", rules)
    return kept.to_pandas(), summary


ROWS = [
    ("a", "1", "2", "5"),       # kept
    ("a", "1", "2", "5"),       # duplicate of the first
    (None, "2", "1", "5"),      # no customer
    ("b", "C3", "-1", "5"),     # cancellation (also quantity <= 0: counted once, as cancellation)
    ("b", "4", "0", "5"),       # quantity <= 0
    ("b", "5", "1", "NaN"),     # non-finite price
    ("b", "6", "1", "inf"),     # non-finite price
    ("c", "7", "1", "-3"),      # negative price
    ("c", "8", "1", "0"),       # free item: kept
]


def test_each_rule_is_counted_once_in_order():
    kept, summary = clean(ROWS)
    assert summary["dropped"] == {
        "total_row": 0, "missing_customer": 1, "missing_order": 0, "cancellation": 1, "quantity_not_positive": 1,
        "missing_or_non_finite_price": 2, "negative_price": 1, "duplicate_line": 1,
    }
    assert summary["rows_in"] == 9 and summary["rows_out"] == 2 == len(kept)
    assert summary["customers_in"] == 3 and summary["customers_kept"] == 2
    assert sorted(kept["order"]) == ["1", "8"]


def test_rules_can_be_switched_off():
    kept, summary = clean(ROWS, CleaningRules(drop_duplicates=False, drop_negative_price=False))
    assert "duplicate_line" not in summary["dropped"] and "negative_price" not in summary["dropped"]
    assert summary["rows_out"] == 4 == len(kept)


def test_all_lines_filtered_out_says_why():
    with pytest.raises(DataError, match=r"sales.csv: all 2 lines were filtered out \(quantity <= 0: 2\)"):
        clean([("a", "1", "0", "5"), ("b", "2", "-2", "5")])


def test_header_only_is_an_error():
    with pytest.raises(DataError, match="no data rows"):
        clean([])


def test_online_retail_counts(retail_csv):
    from custseg import preset
    from custseg._engines._read import open_source

    con = ibis.duckdb.connect()
    mapping = preset("online-retail").with_overrides(cancellations="drop")  # the study's rule (netting: test_netting.py)
    source = open_source(retail_csv, con)
    lines, _ = typed_lines(source.table, mapping, source.name)
    _, summary = clean_lines(lines, mapping, source.name)
    # facts from ../shared/data/README.md: 541,909 rows, 135,080 without CustomerID, 4,372 customers
    assert summary["rows_in"] == 541_909
    assert summary["dropped"]["missing_customer"] == 135_080
    assert summary["customers_in"] == 4_372
    # 8,905 of the 9,288 cancellation lines have a customer id; 33 customers only ever cancelled
    assert summary["dropped"]["cancellation"] == 8_905
    assert summary["customers_kept"] == 4_339
    assert summary["date_min"] == "2010-12-01" and summary["date_max"] == "2011-12-09"


@pytest.mark.parametrize("sort_max", [0, 2**26])  # 0: the hashes grouped by DuckDB, not sorted in memory
@pytest.mark.parametrize("probe", [2, 100_000])  # 2: the repeat lies beyond the first lines probed
@pytest.mark.parametrize(("orders", "dropped", "unique"), [
    (["a", "b", "c", "d"], [], True), (["a", "b", "c", "a"], [], False), (["a", "a", "c", "d"], [], False),
    (["a", "b", None, "c"], [2], True),  # rule missing_order drops a line without an order id
    (["a", "b", "c", "a"], [0], True),  # the repeat is on a dropped line: the exact check on the kept lines
])
def test_order_uniqueness_from_a_probe_then_hashes(orders, dropped, unique, probe, sort_max, monkeypatch):
    monkeypatch.setattr("custseg._prep._clean.ORDER_PROBE_LINES", probe)
    monkeypatch.setattr("custseg._prep._clean.ORDER_SORT_MAX", sort_max)
    frame = pd.DataFrame({"order": pd.Series(orders, dtype="string"), "line": range(len(orders))})
    lines = ibis.duckdb.connect().create_table("t", frame)
    kept = lines.filter(~lines.line.isin(dropped))
    assert _orders_unique(kept, _order_hashes(lines)) is unique
