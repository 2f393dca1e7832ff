"""Issue 21 item 4: ids with Unicode spaces around them are one id (counted); ids whose digits are lost stop."""

from __future__ import annotations

import ibis
import pandas as pd
import pytest

from custseg import ColumnMapping, DataError
from custseg._cli._support import summary_lines
from custseg._engines._spaces import SPACES, UNICODE_SPACES, trim
from custseg._prep._clean import clean_lines
from custseg._prep._customers import customer_table
from custseg._prep._features import customer_features
from custseg._prep._ids import blank_to_null
from custseg._prep._parse import typed_lines

MAPPING = ColumnMapping(customer="acct", order="inv", product="sku", amount="amount")
# the spaces the issue names: no-break, narrow no-break, figure, thin, ideographic, zero-width, BOM
NAMED = ["\u00a0", "\u202f", "\u2007", "\u2009", "\u3000", "\u200b", "\ufeff"]


def lines(acct: list, inv: list | None = None, sku: list | None = None, amount: list | None = None) -> pd.DataFrame:
    n = len(acct)
    return pd.DataFrame({"acct": acct, "inv": inv or [f"i{i}" for i in range(n)], "sku": sku or ["p"] * n,
                         "amount": amount or ["10"] * n})


def typed(frame: pd.DataFrame):
    return typed_lines(ibis.duckdb.connect().create_table("t", frame), MAPPING, "in.csv")


def totals(frame: pd.DataFrame) -> tuple[dict[str, float], dict]:
    typed_frame, notes = typed(frame)
    kept, summary = clean_lines(typed_frame, MAPPING, "in.csv")
    features = customer_features(kept, ["TotalSales"])
    return dict(zip(features["customer"], features["TotalSales"])), summary | notes


def test_every_named_space_is_trimmed_by_the_sql_and_by_python_alike():
    assert set(NAMED) <= set(UNICODE_SPACES) and set(" \t\r\n") <= set(SPACES)
    values = [f"{space}A B{space}" for space in NAMED] + [" \u00a0A B\t", "A B", "\u00a0", "", None, "é", "\u00a0é"]
    table = ibis.memtable({"v": values})
    got = table.select(v=blank_to_null(table.v)).to_pyarrow()["v"].to_pylist()
    assert got == ["A B"] * 9 + [None, None, None, "é", "é"]  # the space inside is kept
    assert [trim(v) for v in values[:9]] == ["A B"] * 9


def test_an_id_with_unicode_spaces_is_the_same_customer_and_is_counted():
    # 'A\u00a0' (2 lines), '\ufeffA' and ' A' are A: 4 lines of 10 = 40; '\u200bB' and 'B' are B: 20
    frame = lines(["A", "A\u00a0", "A\u00a0", "\ufeffA", " A", "\u200bB", "B", "C\u3000"])
    by_customer, summary = totals(frame)
    assert by_customer == {"A": 50.0, "B": 20.0, "C": 10.0}
    # lines with spaces around the id: 2 + 1 + 1 + 1 + 1 = 6, all Unicode but ' A'
    assert summary["spaces_trimmed"] == {"acct": {"values": 6, "unicode": 5}}
    assert "  spaces trimmed around 6 value(s) in 'acct', 5 of them Unicode spaces (no-break, zero-width, BOM...)" \
        in summary_lines(summary)


def test_order_and_product_ids_are_trimmed_too():
    frame = lines(["a", "a", "b"], inv=["o1", "o1\u00a0", "o2"], sku=["p\u2009", "p", "p"])
    typed_frame, notes = typed(frame)
    got = typed_frame.to_pandas()
    assert got["order"].tolist() == ["o1", "o1", "o2"] and got["product"].tolist() == ["p", "p", "p"]
    assert notes["spaces_trimmed"] == {"inv": {"values": 1, "unicode": 1}, "sku": {"values": 1, "unicode": 1}}


def test_clean_ids_record_no_trimming():
    _, notes = typed(lines(["a", "b"]))
    assert notes["spaces_trimmed"] == {}


@pytest.mark.parametrize(("column", "role", "row"), [("acct", "customer", 3), ("inv", "order", 2), ("sku", "product", 1)])
def test_excel_scientific_notation_in_an_id_stops(column, role, row):
    frame = lines(["a", "b", "c"])
    frame.loc[row - 1, column] = "6.27123E+15"
    with pytest.raises(DataError) as err:
        typed(frame)
    assert str(err.value) == (f"in.csv: column '{column}' ({role}) has 1 id(s) in Excel's scientific notation, e.g. "
                              f"'6.27123E+15' at data row {row}: their digits are lost; export the column formatted as "
                              "text and read it again")


def test_scientific_notation_is_found_with_spaces_around_and_in_lower_case():
    with pytest.raises(DataError, match=r"has 2 id\(s\) in Excel's scientific notation, e.g. ' 1\.23457E\+11' at data "
                                        r"row 1, '1\.2e\+11' at data row 3"):
        typed(lines([" 1.23457E+11", "b", "1.2e+11"]))


def test_ids_that_only_look_like_exponents_are_ids():
    by_customer, _ = totals(lines(["12E5", "1E-05", "E+15", "AB1E+5"]))  # no '+' or not a number: part codes
    assert set(by_customer) == {"12E5", "1E-05", "E+15", "AB1E+5"}


def test_a_float_id_of_16_digits_stops_and_15_digits_is_exact():
    # 6271234567890123 > 1e15: a float holds it, Excel would not; 999,999,999,999,999 (15 digits) is exact
    frame = pd.DataFrame({"acct": [999_999_999_999_999.0, 6_271_234_567_890_123.0], "inv": ["i1", "i2"], "sku": ["p", "p"],
                          "amount": ["1", "2"]})
    with pytest.raises(DataError) as err:
        typed(frame)
    assert str(err.value) == ("in.csv: column 'acct' (customer) has 1 id(s) held as floating-point numbers of 16 digits or "
                              "more, e.g. 6271234567890123.0 at data row 2: their last digits may be lost (a float keeps "
                              "15 to 17 significant digits, Excel 15); give the column as text or whole numbers")
    ok, _ = typed(frame.iloc[:1])
    assert ok.to_pandas()["customer"].tolist() == ["999999999999999"]


def test_integer_ids_of_any_length_are_exact():
    frame = pd.DataFrame({"acct": [6_271_234_567_890_123, 5], "inv": ["i1", "i2"], "sku": ["p", "p"], "amount": ["1", "2"]})
    got, _ = typed(frame)
    assert got.to_pandas()["customer"].tolist() == ["6271234567890123", "5"]


def test_per_customer_table_ids_are_trimmed_counted_and_checked():
    frame = pd.DataFrame({"id": ["k1\u00a0", "\ufeffk2", "k3"], "spend": ["1", "2", "3"]})
    table, _, notes = customer_table(ibis.memtable(frame), "c.csv", id_column="id")
    assert table["customer"].tolist() == ["k1", "k2", "k3"]
    assert notes["spaces_trimmed"] == {"id": {"values": 2, "unicode": 2}}
    with pytest.raises(DataError) as err:
        customer_table(ibis.memtable(frame.assign(id=["k1", "6.27123E+15", "k3"])), "c.csv", id_column="id")
    assert str(err.value) == ("c.csv: column 'id' has 1 id(s) in Excel's scientific notation, e.g. '6.27123E+15' at data "
                              "row 2: their digits are lost; export the column formatted as text and read it again")
