"""Typing of mapped columns: decimal marks, dates, and the errors for bad values."""

import datetime as dtm

import ibis
import pandas as pd
import pytest

from custseg import ColumnMapping, DataError
from custseg._prep._parse import typed_lines

MAPPING = ColumnMapping(customer="cust", quantity="qty", price="price", date="day", date_format="%d/%m/%Y")


def typed(frame: pd.DataFrame, decimal: str = "auto", mapping: ColumnMapping = MAPPING) -> pd.DataFrame:
    con = ibis.duckdb.connect()
    table = con.create_table("t", frame)
    lines, notes = typed_lines(table, mapping, "input.csv", decimal)
    return lines.to_pandas(), notes


def frame(**overrides) -> pd.DataFrame:
    data = {"cust": ["a", "b", "c"], "qty": ["1", "2", "3"], "price": ["10.5", "2", "3"], "day": ["01/02/2020", "15/03/2020", "31/12/2020"]}
    return pd.DataFrame(data | overrides)


def test_text_numbers_and_ddmmyyyy_dates_are_typed():
    lines, notes = typed(frame())
    assert lines["price"].tolist() == [10.5, 2.0, 3.0]
    assert lines["date"].dt.date.tolist() == [dtm.date(2020, 2, 1), dtm.date(2020, 3, 15), dtm.date(2020, 12, 31)]
    assert notes["decimal_marks"] == {"qty": ".", "price": "."}


def test_iso_dates_are_accepted_beside_the_preset_format():
    lines, _ = typed(frame(day=["2020-02-01", "15/03/2020", "2020-12-31 10:00:00"]))
    assert lines["date"].dt.date.tolist() == [dtm.date(2020, 2, 1), dtm.date(2020, 3, 15), dtm.date(2020, 12, 31)]


@pytest.mark.parametrize(("days", "joined"), [
    (["01/02/2020", "15/03/2020", "31/12/2020"], False),  # the first format reads every value: typed line by line
    (["2020-02-01", "15/03/2020", "2020-12-31 10:00:00"], True),  # ISO values need the full parser: joined by value
    (["01/02/2020", "15/03/2020", "44196"], True),  # an Excel serial (44196 is 2020-12-31) likewise
])
def test_dates_typed_by_their_first_format_only_when_it_reads_every_value_alike(days, joined):
    con = ibis.duckdb.connect()
    lines, _ = typed_lines(con.create_table("t", frame(day=days)), MAPPING, "input.csv")
    assert ('"_raw_date"' in str(ibis.to_sql(lines))) is joined
    assert lines.to_pandas()["date"].dt.date.tolist() == [dtm.date(2020, 2, 1), dtm.date(2020, 3, 15), dtm.date(2020, 12, 31)]


@pytest.mark.parametrize("days", [
    [" 01/02/2020", "15/03/2020\u00a0", "31/12/2020"],  # spaces around a value (one a no-break space)
    ["01/02/2020", "15/03/2020", "\u200b31/12/2020 "],
])
def test_dates_and_numbers_with_spaces_are_typed_as_without(days):
    """Spaces are trimmed once per distinct value; the lines are joined to their typed value by the value as read."""
    lines, _ = typed(frame(day=days, qty=[" 1", "2\u00a0", "3"], price=["10.5 ", "2", "\t3"]))
    assert lines["date"].dt.date.tolist() == [dtm.date(2020, 2, 1), dtm.date(2020, 3, 15), dtm.date(2020, 12, 31)]
    assert lines["quantity"].tolist() == [1.0, 2.0, 3.0] and lines["price"].tolist() == [10.5, 2.0, 3.0]


def test_blank_dates_are_missing_on_the_line_by_line_path():
    con = ibis.duckdb.connect()
    lines, _ = typed_lines(con.create_table("t", frame(day=["01/02/2020", "", "  "])), MAPPING, "input.csv")
    assert '"_raw_date"' not in str(ibis.to_sql(lines))  # '' and '  ' read as no date by the first format alone
    assert lines.to_pandas()["date"].isna().tolist() == [False, True, True]


@pytest.mark.parametrize(
    ("values", "decimal", "expected"),
    [
        (["1,5", "2", "1 234,25"], "auto", [1.5, 2.0, 1234.25]),
        (["1\u00a0234,5", "0,5", "7"], "auto", [1234.5, 0.5, 7.0]),
        (["1,234.5", "2.5", "3"], "auto", [1234.5, 2.5, 3.0]),
        (["1,234", "2", "3"], ",", [1.234, 2.0, 3.0]),
        (["1,234", "2", "3"], ".", [1234.0, 2.0, 3.0]),
    ],
)
def test_decimal_marks(values, decimal, expected):
    lines, _ = typed(frame(price=values), decimal)
    assert lines["price"].tolist() == pytest.approx(expected)


def test_decimal_comma_is_detected_and_reported():
    _, notes = typed(frame(price=["1,5", "2,25", "3"]))
    assert notes["decimal_marks"]["price"] == ","


def test_non_numeric_quantity_names_column_value_and_row():
    with pytest.raises(DataError) as err:
        typed(frame(qty=["1", "N/A", "abc"]))
    message = str(err.value)
    assert message.startswith("input.csv: column 'qty' (quantity) has 2 non-numeric values")
    assert "'N/A' at data row 2" in message and "'abc' at data row 3" in message


def test_unparseable_dates_are_an_error():
    with pytest.raises(DataError, match=r"column 'day' \(date\) has 1 dates that do not parse \(expected %d/%m/%Y\), e.g. '2020/31/12' at data row 3"):
        typed(frame(day=["01/02/2020", "15/03/2020", "2020/31/12"]))


def test_missing_column_lists_expected_and_available():
    with pytest.raises(DataError) as err:
        typed(frame().drop(columns="price"))
    assert str(err.value) == "input.csv: missing column(s) price (price); the file has: cust, qty, day"


def test_empty_cells_become_nulls_not_errors():
    lines, _ = typed(frame(qty=["1", "", " "], cust=["a", "", "c"]))
    assert lines["quantity"].isna().tolist() == [False, True, True]
    assert lines["customer"].isna().tolist() == [False, True, False]
