"""Issue 12, prep level: each case is a small input made here and the right value (ids, numbers, dates, rules)."""

from __future__ import annotations

import datetime as dtm

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from custseg import ColumnMapping, DataError, preset
from custseg._config._columns import mapping_from_config
from custseg._prep._clean import clean_lines
from custseg._prep._features import customer_features
from custseg._prep._ids import case_from_checksum, checksum_letters, salesforce_forms, salesforce_id18
from custseg._prep._parse import typed_lines

AMOUNTS = ColumnMapping(customer="acct", order="inv", amount="amount", date="day", date_format="%d/%m/%Y")


def typed(frame: pd.DataFrame, mapping: ColumnMapping, delimiter: str | None = None, decimal: str = "auto"):
    con = ibis.duckdb.connect()
    return typed_lines(con.create_table("t", frame.astype("string")), mapping, "in.csv", decimal, delimiter)


def totals(frame: pd.DataFrame, mapping: ColumnMapping = AMOUNTS):
    lines, notes = typed(frame, mapping)
    kept, summary = clean_lines(lines, mapping, "in.csv")
    features = customer_features(kept, ["TotalSales", "OrderCount"])
    return features.set_index("customer"), summary | notes


def amounts(values: list[str], customers: list[str] | None = None) -> pd.DataFrame:
    n = len(values)
    return pd.DataFrame({"acct": customers or [f"c{i}" for i in range(n)], "inv": [f"i{i}" for i in range(n)],
                         "amount": values, "day": ["01/02/2023"] * n})


# item 2: a dot that may be a thousands separator or a decimal mark
def test_ambiguous_dot_in_a_semicolon_file_is_thousands_and_recorded():
    lines, notes = typed(amounts(["1.250", "980", "12.800"]), AMOUNTS, delimiter=";")
    assert lines.to_pandas()["amount"].tolist() == [1250.0, 980.0, 12800.0]
    assert notes["number_formats"]["amount"] == {
        "decimal": ",", "thousands": ".",
        "rule": "ambiguous, e.g. '1.250': read as 1250, the European convention of a semicolon-delimited file"}


def test_ambiguous_dot_elsewhere_stops_and_asks_for_decimal():
    with pytest.raises(DataError) as err:
        typed(amounts(["1.250", "980", "12.800"]), AMOUNTS, delimiter=",")
    assert str(err.value) == ("in.csv: column 'amount' (amount) is ambiguous: '1.250' may be 1250 or 1.25 "
                              "(thousands separator or decimal mark); give --decimal . or --decimal ,")
    lines, notes = typed(amounts(["1.250", "980", "12.800"]), AMOUNTS, delimiter=",", decimal=".")
    assert lines.to_pandas()["amount"].tolist() == [1.25, 980.0, 12.8]
    assert notes["number_formats"]["amount"]["rule"] == "--decimal ."


@pytest.mark.parametrize(("values", "expected"), [
    (["1.25", "980", "12.800"], [1.25, 980.0, 12.8]),  # one dotted value with two decimals: decimals
    (["0.125", "980"], [0.125, 980.0]),  # a thousands group never starts with 0
    (["1.250,5", "980"], [1250.5, 980.0]),  # a decimal comma settles it
])
def test_unambiguous_dots_are_read_without_asking(values, expected):
    lines, _ = typed(amounts(values), AMOUNTS, delimiter=",")
    assert lines.to_pandas()["amount"].tolist() == expected


# item 3: two-digit years under a four-digit format
def test_two_digit_year_is_a_bad_value_naming_column_value_and_row():
    frame = amounts(["5", "6", "7"]).assign(day=["01/02/2023", "03/01/23", "02/02/2023"])
    with pytest.raises(DataError) as err:
        typed(frame, AMOUNTS)
    assert str(err.value) == (f"in.csv: column 'day' (date) has 1 date(s) outside the years 1900 to "
                              f"{dtm.date.today().year + 1}, e.g. '03/01/23' (read as 0023-01-03) at data row 2; is the "
                              "date format right (%Y is a four-digit year, %y a two-digit one)?")
    lines, _ = typed(frame, AMOUNTS.with_overrides(date_format=("%d/%m/%Y", "%d/%m/%y")))
    assert lines.to_pandas()["date"].dt.date.tolist()[1] == dtm.date(2023, 1, 3)


# item 4: Salesforce date-times, and lists of formats
def test_salesforce_date_times_read_as_utc_dates_without_a_format():
    frame = amounts(["1", "2", "3"]).assign(
        day=["2023-05-04T23:30:00.000+0000", "2023-05-04T23:30:00Z", "2023-05-05T01:30:00+02:00"])
    lines, _ = typed(frame, AMOUNTS.with_overrides(date_format=()))
    assert lines.to_pandas()["date"].tolist() == [pd.Timestamp("2023-05-04 23:30:00")] * 3


def test_several_date_formats_from_toml_are_tried_in_order():
    mapping = mapping_from_config({"columns": {"customer": "acct", "amount": "amount", "date": "day",
                                               "date_format": ["%d/%m/%Y", "%m-%d-%Y"]}})
    assert mapping.date_format == ("%d/%m/%Y", "%m-%d-%Y")
    lines, _ = typed(amounts(["1", "2"]).assign(day=["31/12/2020", "12-30-2020"]), mapping)
    assert lines.to_pandas()["date"].dt.date.tolist() == [dtm.date(2020, 12, 31), dtm.date(2020, 12, 30)]
    assert ColumnMapping.from_dict(mapping.to_dict()) == mapping


# item 5: 15- and 18-character Salesforce ids
def test_salesforce_ids_15_and_18_characters_are_one_account():
    assert salesforce_id18("001Dn00000AbCdE") == "001Dn00000AbCdEIAV"
    frame = amounts(["200", "250", "300", "400", "50"],
                    ["001Dn00000AbCdE", "001Dn00000AbCdE", "001Dn00000AbCdEIAV", "001Dn00000AbCdEIAV", "other"])
    customers, summary = totals(frame, AMOUNTS.with_overrides(salesforce_ids=True))
    assert customers.loc["001Dn00000AbCdEIAV", "TotalSales"] == 1150.0
    assert len(customers) == 2
    assert summary["salesforce_ids"] == {"column": "acct", "converted_15_to_18": 2, "already_18": 2}
    assert preset("salesforce-cpq").salesforce_ids and not preset("online-retail").salesforce_ids


def test_salesforce_ids_are_counted_after_typing_when_typing_changes_them():
    frame = amounts(["200", "250", "300", "5"], [" 001Dn00000AbCdE", "001Dn00000AbCdE ", "001Dn00000AbCdEIAV", " "])
    customers, summary = totals(frame, AMOUNTS.with_overrides(salesforce_ids=True))
    assert customers["TotalSales"].to_dict() == {"001Dn00000AbCdEIAV": 750.0}
    assert summary["salesforce_ids"] == {"column": "acct", "converted_15_to_18": 2, "already_18": 1}


def test_salesforce_id_with_changed_case_says_so():
    frame = amounts(["1", "2"], ["001Dn00000AbCdEIAV", "001DN00000ABCDEIAV"])
    with pytest.raises(DataError) as err:
        typed(frame, AMOUNTS.with_overrides(salesforce_ids=True))
    assert str(err.value) == ("in.csv: column 'acct' (customer) has 1 Salesforce id(s) whose letter case does not match "
                              "their checksum, e.g. '001DN00000ABCDEIAV' at data row 2 (its checksum says "
                              "'001Dn00000AbCdEIAV'); was the case changed by a spreadsheet? Export the ids again")
    assert case_from_checksum("001dn00000abcdeiav") == "001Dn00000AbCdEIAV"


# item 6: integral ids are the same id in every reader
def test_integral_number_ids_are_one_form():
    con = ibis.duckdb.connect()
    as_text = pd.DataFrame({"acct": ["10001.0", "10002", "0003"], "amount": ["1", "2", "3"]})
    as_float = pd.DataFrame({"acct": [10001.0, 10002.0, 3.0], "amount": [1.0, 2.0, 3.0]})
    mapping = ColumnMapping(customer="acct", amount="amount")
    ids = [typed_lines(con.create_table(f"t{i}", f), mapping, "x")[0].to_pandas()["customer"].tolist()
           for i, f in enumerate((as_text, as_float))]
    assert ids == [["10001", "10002", "0003"], ["10001", "10002", "3"]]


# item 8: duplicates judged on the whole row
def test_lines_equal_on_the_mapped_columns_but_not_the_row_are_kept():
    frame = amounts(["100", "100", "5"], ["a", "a", "b"]).assign(inv=["i1", "i1", "i2"], row_id=["1", "2", "3"])
    customers, summary = totals(frame)
    assert summary["dropped"]["duplicate_line"] == 0 and customers.loc["a", "TotalSales"] == 200.0
    customers, summary = totals(frame.assign(row_id="1"))
    assert summary["dropped"]["duplicate_line"] == 1 and customers.loc["a", "TotalSales"] == 100.0


def test_saas_sales_has_no_duplicate_rows():
    from shared_data import shared_file

    con = ibis.duckdb.connect()
    table = con.read_csv(shared_file("saas_sales.csv"), all_varchar=True)
    mapping = ColumnMapping(customer="Customer ID", order="Order ID", product="License", amount="Sales",
                            date="Order Date", date_format="%m/%d/%Y")
    lines, _ = typed_lines(table, mapping, "saas_sales.csv")
    _, summary = clean_lines(lines, mapping, "saas_sales.csv")
    assert summary["dropped"]["duplicate_line"] == 0 and summary["rows_out"] == 9_994


# item 9: rows that are not sales
def test_total_row_and_line_without_order_id_are_dropped_by_their_rules():
    frame = pd.concat([amounts(["100", "200", "300"], ["a", "b", "c"]),
                       pd.DataFrame({"acct": [None, "a"], "inv": [None, None], "amount": ["99999", "500"],
                                     "day": ["31/01/2023", "02/01/2023"]})], ignore_index=True)
    customers, summary = totals(frame)
    assert summary["dropped"]["total_row"] == 1 and summary["dropped"]["missing_customer"] == 0
    assert summary["dropped"]["missing_order"] == 1
    assert customers["TotalSales"].to_dict() == {"a": 100.0, "b": 200.0, "c": 300.0}
    assert (customers["OrderCount"] == 1).all()


def test_generated_cpq_account_ids_carry_the_same_checksum():
    from custseg._workflows._demo_data import generate_cpq_export

    ids = generate_cpq_export(n_lines=200, n_accounts=20, seed=1)[preset("salesforce-cpq").customer].unique()
    assert all(salesforce_id18(i[:15]) == i for i in ids)


def test_salesforce_forms_agree_with_the_one_id_functions_on_every_kind_of_value():
    ids = ["0011r00002M4hxD", "0011r00002M4hxDAAR", "0011R00002M4HXDAAR", "0011r00002M4hxDaar", "001Dn00000AbCdE",
           "001Dn00000AbCdEIAV", "short", "0011r00002M4hx-", "", None, "0011r00002M4hxDAARX"]
    flags, id18 = salesforce_forms(pa.array(ids))
    assert flags["converted_15_to_18"].tolist() == [True, False, False, False, True, False, False, False, False, False, False]
    assert flags["already_18"].tolist() == [False, True, True, True, False, True, False, False, False, False, False]
    assert flags["bad_checksum"].tolist() == [False, False, True, True, False, False, False, False, False, False, False]
    assert id18.to_pylist() == [salesforce_id18("0011r00002M4hxD"), salesforce_id18("001Dn00000AbCdE")] == \
        ["0011r00002M4hxDAAR", "001Dn00000AbCdEIAV"]
    assert case_from_checksum("0011R00002M4HXDAAR") == "0011r00002M4hxDAAR"
    assert bytes(checksum_letters(np.frombuffer(b"0011r00002M4hxD", np.uint8).reshape(1, 15))[0]) == b"AAR"
