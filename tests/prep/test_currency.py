"""Issue 21 item 1: lines in several currencies converted to the corporate currency (`_prep._currency`), values by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from custseg import ColumnMapping, RunConfig, segment
from custseg._cli._support import summary_lines
from custseg._errors import DataError
from custseg._prep._prepare import prepare

LINES = ColumnMapping(customer="acct", order="line", quantity="qty", price="price", date="day", currency="cur")
COLUMNS = ["acct", "line", "qty", "price", "day", "cur"]
CURRENCY_TYPE = "IsoCode,ConversionRate,IsCorporate\nEUR,1,true\nJPY,161.2,false\nUSD,1.25,false\n"
DATED = ("IsoCode,ConversionRate,StartDate,NextStartDate\nEUR,1,0001-01-01,9999-12-31\n"
         "JPY,150,2023-01-01,2024-01-01\nJPY,160,2024-01-01,2025-01-01\n")


def prepared(rows: list[tuple], rates: str | None = None, tmp_path=None, mapping: ColumnMapping = LINES):
    """customers (TotalSales by account) and cleaning.json of `rows` read with `rates` (a CSV text), via prepare()."""
    path = None
    if rates is not None:
        path = tmp_path / "rates.csv"
        path.write_text(rates)
    columns = [c for c in COLUMNS if c in mapping.roles().values()]
    frame = pd.DataFrame(rows, columns=columns, dtype="string")
    result = prepare(frame, RunConfig(mapping=mapping, rates=str(path) if path else None, features=("TotalSales",)))
    return result.customers.set_index("customer")["TotalSales"].to_dict(), result.cleaning


OTHERS = [("B", "b1", "1", "300", "2023-03-01", "EUR"), ("C", "c1", "2", "50", "2023-03-01", "EUR")]


def test_the_issue_example_1000_eur_and_16120_jpy_is_1100_eur(tmp_path):
    totals, cleaning = prepared([("A", "a1", "1", "1000", "2023-01-01", "EUR"),
                                 ("A", "a2", "1", "16120", "2023-02-01", "JPY"),  # 16,120 / 161.2 = 100 EUR
                                 *OTHERS], CURRENCY_TYPE, tmp_path)
    assert totals == {"A": pytest.approx(1100.0), "B": 300.0, "C": 100.0}
    currency = cleaning["currency"]
    assert currency["column"] == "cur" and currency["corporate"] == currency["money_in"] == "EUR"
    assert currency["lines_read"] == {"EUR": 3, "JPY": 1}
    assert currency["rates"] == {"EUR": 1.0, "JPY": 161.2, "USD": 1.25}
    assert currency["totals"] == {"EUR": {"lines": 3, "revenue": 1400.0, "revenue_converted": 1400.0},
                                  "JPY": {"lines": 1, "revenue": 16120.0, "revenue_converted": 100.0}}
    assert currency["rule"].startswith("amount in the corporate currency = amount / rate")
    assert (f"  currency: money converted to EUR, the corporate currency, with the rates of {tmp_path / 'rates.csv'} "
            "(amount / rate, a rate being units per 1 EUR): EUR 3 lines (1,400.00 -> 1,400.00); "
            "JPY 1 lines at 161.2 (16,120.00 -> 100.00)") in summary_lines(cleaning)


def test_dated_rates_are_chosen_by_the_line_date(tmp_path):
    totals, cleaning = prepared([("A", "a1", "1", "15000", "2023-06-30", "JPY"),   # 2023: 150 -> 100 EUR
                                 ("A", "a2", "2", "8000", "2024-01-01", "JPY"),    # 2024 from its first day: 160 -> 100 EUR
                                 ("A", "a3", "1", "16", "2024-12-31", "JPY"),      # 160 -> 0.1 EUR
                                 *OTHERS], DATED, tmp_path)
    assert totals == {"A": pytest.approx(200.1), "B": 300.0, "C": 100.0}
    assert cleaning["currency"]["rates"]["JPY"] == [{"start": "2023-01-01", "end": "2024-01-01", "rate": 150.0},
                                                    {"start": "2024-01-01", "end": "2025-01-01", "rate": 160.0}]
    assert cleaning["currency"]["totals"]["JPY"] == {"lines": 3, "revenue": 31016.0, "revenue_converted": 200.1}
    assert any(line.endswith("JPY 3 lines at 2 dated rates (31,016.00 -> 200.10)") for line in summary_lines(cleaning))


def test_line_amounts_are_converted_and_a_refund_nets_in_the_corporate_currency(tmp_path):
    mapping = ColumnMapping(customer="acct", order="line", amount="price", date="day", currency="cur")
    rows = [("A", "a1", "1250", "2023-01-01", "USD"),   # 1,250 / 1.25 = 1,000 EUR
            ("A", "a2", "-250", "2023-02-01", "USD"),   # a refund of 250 USD = 200 EUR, netted: A 800 EUR
            ("B", "b1", "300", "2023-03-01", "EUR"), ("C", "c1", "100", "2023-03-01", "EUR")]
    totals, cleaning = prepared(rows, CURRENCY_TYPE, tmp_path, mapping)
    assert totals == {"A": pytest.approx(800.0), "B": 300.0, "C": 100.0}
    assert cleaning["cancellations"]["revenue_netted"] == pytest.approx(-200.0)


def test_one_currency_without_rates_is_recorded_and_printed(tmp_path):
    totals, cleaning = prepared([("A", "a1", "1", "1000", "2023-01-01", " EUR "), *OTHERS])  # trimmed, as every text role
    assert totals == {"A": 1000.0, "B": 300.0, "C": 100.0}
    assert cleaning["currency"] | {"totals": None} == {
        "column": "cur", "present": True, "lines_read": {"EUR": 3}, "money_in": "EUR", "corporate": None,
        "rates_file": None, "rule": "one currency and no rates: money amounts are in EUR", "totals": None}
    assert cleaning["currency"]["totals"] == {"EUR": {"lines": 3, "revenue": 1400.0}}
    assert "  currency: every line in EUR (column 'cur'): money amounts are in EUR" in summary_lines(cleaning)


def test_several_currencies_without_rates_stop_naming_them_and_their_lines():
    rows = [(f"c{i}", f"l{i}", "1", "10", "2023-01-01", "USD" if i % 10 == 1 else "EUR") for i in range(30)]
    rows += [("c0", "j1", "1", "1000", "2023-01-02", "JPY")]  # USD: i = 1, 11, 21 (3 lines); EUR: the other 27
    with pytest.raises(DataError) as info:
        prepared(rows)
    assert str(info.value) == (
        "DataFrame: column 'cur' (currency) holds 3 currencies (EUR 27 lines, USD 3, JPY 1); amounts in different "
        "currencies cannot be summed: give --rates rates.csv (Salesforce's CurrencyType export) or filter to one currency")


def test_a_currency_without_a_rate_stops_naming_it_its_row_and_the_file(tmp_path):
    with pytest.raises(DataError) as info:
        prepared([*OTHERS, ("A", "a1", "1", "10", "2023-01-01", "GBP"), ("A", "a2", "1", "10", "2023-01-01", "GBP")],
                 CURRENCY_TYPE, tmp_path)
    assert str(info.value) == (
        f"DataFrame: column 'cur' (currency) holds GBP on 2 line(s), e.g. data row 3, but {tmp_path / 'rates.csv'} has "
        "no rate for GBP (it has EUR, JPY, USD); add it to the rates file (--rates)")


def test_a_line_dated_outside_every_period_stops_naming_currency_date_row_and_file(tmp_path):
    with pytest.raises(DataError) as info:
        prepared([*OTHERS, ("A", "a1", "1", "10", "2024-05-01", "JPY"), ("A", "a2", "1", "10", "2022-12-31", "JPY")],
                 DATED, tmp_path)
    assert str(info.value) == (
        f"DataFrame: 1 line(s) in JPY are dated outside every JPY period of {tmp_path / 'rates.csv'}, e.g. 2022-12-31 at "
        "data row 4 (its periods run from 2023-01-01 to 2025-01-01); add a period that holds that date (--rates)")


def test_a_blank_currency_stops_unless_the_line_has_no_customer(tmp_path):
    totals, cleaning = prepared([*OTHERS, ("A", "a1", "1", "10", "2023-01-01", "EUR"), ("", "", "1", "99", "2023-01-01", "")],
                                CURRENCY_TYPE, tmp_path)  # a total row: no customer, no currency, dropped by cleaning
    assert totals["A"] == 10.0 and cleaning["dropped"]["total_row"] == 1
    with pytest.raises(DataError) as info:
        prepared([*OTHERS, ("A", "a1", "1", "10", "2023-01-01", "EUR"), ("A", "a2", "1", "10", "2023-01-01", " ")])
    assert str(info.value) == ("DataFrame: column 'cur' (currency) is blank on 1 line(s) that have a customer, e.g. data "
                               "row 4; every line needs its currency code")


def test_rates_without_a_currency_column_stop(tmp_path):
    mapping = ColumnMapping(customer="acct", order="line", quantity="qty", price="price", date="day")
    with pytest.raises(DataError) as info:
        prepared([row[:5] for row in OTHERS] + [("A", "a1", "1", "10", "2023-01-01")], CURRENCY_TYPE, tmp_path, mapping)
    assert str(info.value) == (
        f"DataFrame: --rates {tmp_path / 'rates.csv'} was given but the input has no currency column to convert by; map "
        "one with --currency (the salesforce-cpq preset reads CurrencyIsoCode when the file has it)")


def test_dated_rates_need_a_date_column(tmp_path):
    mapping = ColumnMapping(customer="acct", order="line", quantity="qty", price="price", currency="cur")
    rows = [(a, line, q, p, c) for a, line, q, p, _, c in [*OTHERS, ("A", "a1", "1", "10", "", "JPY")]]
    with pytest.raises(DataError, match=r"rates.csv holds dated rates \(start and end dates\) but no date column is mapped"):
        prepared(rows, DATED, tmp_path, mapping)


def test_through_segment_with_several_currencies(tmp_path):
    (tmp_path / "rates.csv").write_text(CURRENCY_TYPE)
    rows = [(f"c{i}", f"l{i}", "1", str(100 * (1 + i)), "2023-01-05", "EUR") for i in range(12)]
    rows += [("A", "a1", "1", "1000", "2023-01-01", "EUR"), ("A", "a2", "1", "16120", "2023-02-01", "JPY"),
             ("U", "u1", "3", "250", "2023-02-01", "USD")]  # 3 x 250 USD = 750 / 1.25 = 600 EUR
    frame = pd.DataFrame(rows, columns=COLUMNS)
    result = segment(frame, mapping=LINES, k=2, rates=tmp_path / "rates.csv")
    spend = result.assignments.set_index("customer_id")
    assert spend.loc["A", "TotalSales"] == pytest.approx(1100.0) and spend.loc["U", "TotalSales"] == pytest.approx(600.0)
    assert spend.loc["U", "AvgOrderValue"] == pytest.approx(600.0)
    assert result.run["config"]["rates"] == str(tmp_path / "rates.csv")
    assert result.cleaning["currency"]["lines_read"] == {"EUR": 13, "JPY": 1, "USD": 1}
