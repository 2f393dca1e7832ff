"""Issue 21 item 1: a pull from an org with multi-currency saves CurrencyIsoCode on the lines and the org's rates
beside them (CurrencyType, and DatedConversionRate when the org has dated rates); `run --rates` reads them."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from typer.testing import CliRunner
from sf_helpers import CURRENCY_TYPES, N_SUBSCRIPTIONS, add_currencies
from test_sf_pull import FIELDS

from custseg import segment
from custseg._errors import DataError, UsageError
from custseg._prep._rates import read_rates
from custseg._cli._salesforce import app
from custseg._salesforce import PullOptions, pull_records

DATED = [("EUR", 1.0, "0001-01-01", "9999-12-31"), ("JPY", 150.0, "2019-01-01", "2020-01-01"),
         ("JPY", 160.0, "2020-01-01", "9999-12-31")]


def test_a_multi_currency_org_gives_the_currency_column_and_its_rates(client, org, tmp_path):
    add_currencies(org)
    report = pull_records(client, tmp_path / "sales.parquet", PullOptions(page_size=1000))
    frame = pd.read_parquet(tmp_path / "sales.parquet")
    assert list(frame.columns) == FIELDS + ["CurrencyIsoCode"]
    assert frame["CurrencyIsoCode"].value_counts().to_dict() == {
        "EUR": N_SUBSCRIPTIONS - 470 - 268, "JPY": 470, "USD": 268}  # i = 0..2349: every 5th JPY (470), every 7th
    # not 5th USD (336 multiples of 7 less 68 of 35)
    assert report.rates == [tmp_path / "sales.rates.csv"]  # the org has no dated rates
    assert len([path for path in org.paths() if re.search(r"/v[0-9.]+/query/?$", path)]) == 2  # CurrencyType, Dated...
    assert (tmp_path / "sales.rates.csv").read_text() == (
        "IsoCode,ConversionRate,IsCorporate\nEUR,1.0,true\nJPY,161.2,false\nUSD,1.08,false\n")
    rates = read_rates(report.rates[0])
    assert rates.corporate == "EUR" and rates.table() == {code: rate for code, rate, _ in CURRENCY_TYPES}
    assert report.currency_note == (
        "the org has multi-currency (CurrencyIsoCode added to the fields); its conversion rates written to "
        f"{tmp_path / 'sales.rates.csv'}: give them to the run, e.g. custseg run {tmp_path / 'sales.parquet'} "
        f"--preset salesforce-cpq --rates {tmp_path / 'sales.rates.csv'}")


def test_dated_rates_are_saved_too(client, org, tmp_path):
    add_currencies(org, DATED)
    report = pull_records(client, tmp_path / "s.csv", PullOptions())
    assert report.rates == [tmp_path / "s.rates.csv", tmp_path / "s.dated-rates.csv"]
    assert (tmp_path / "s.dated-rates.csv").read_text().splitlines() == [
        "IsoCode,ConversionRate,StartDate,NextStartDate", "EUR,1.0,0001-01-01,9999-12-31",
        "JPY,150.0,2019-01-01,2020-01-01", "JPY,160.0,2020-01-01,9999-12-31"]
    assert read_rates(report.rates[1]).table()["JPY"] == [
        {"start": "2019-01-01", "end": "2020-01-01", "rate": 150.0}, {"start": "2020-01-01", "end": "9999-12-31", "rate": 160.0}]


def test_a_single_currency_org_gets_no_rates_file(client, org, tmp_path):
    report = pull_records(client, tmp_path / "s.parquet", PullOptions())
    assert report.rates == [] and sorted(p.name for p in tmp_path.iterdir()) == ["s.parquet"]
    assert report.currency_note == "SBQQ__Subscription__c has no CurrencyIsoCode: the org has one currency, no rates file written"
    assert not [path for path in org.paths() if re.search(r"/v[0-9.]+/query/?$", path)]  # no REST query: no rates


def test_an_existing_rates_file_needs_overwrite(client, org, tmp_path):
    add_currencies(org)
    (tmp_path / "s.rates.csv").write_text("old")
    with pytest.raises(UsageError, match="rates file .*s.rates.csv already exists"):
        pull_records(client, tmp_path / "s.parquet", PullOptions())
    assert not org.query_jobs and not (tmp_path / "s.parquet").exists()
    pull_records(client, tmp_path / "s.parquet", PullOptions(), overwrite=True)
    assert (tmp_path / "s.rates.csv").read_text().startswith("IsoCode,")


def test_run_reads_the_pulled_rates_only_when_told(client, org, tmp_path):
    add_currencies(org)
    sales = tmp_path / "sales.parquet"
    report = pull_records(client, sales, PullOptions())
    with pytest.raises(DataError) as info:  # the rates beside the file are not read unless given
        segment(sales, preset="salesforce-cpq", k=3)
    assert str(info.value) == (
        f"{sales}: column 'CurrencyIsoCode' (currency) holds 3 currencies (EUR 1,612 lines, JPY 470, USD 268); amounts "
        "in different currencies cannot be summed: give --rates rates.csv (Salesforce's CurrencyType export) or filter "
        "to one currency")
    result = segment(sales, preset="salesforce-cpq", k=3, rates=report.rates[0])
    totals = result.cleaning["currency"]["totals"]
    for code, rate, _ in CURRENCY_TYPES:  # each currency's kept revenue divided by its rate
        assert totals[code]["revenue_converted"] == pytest.approx(totals[code]["revenue"] / rate)
    converted = sum(t["revenue_converted"] for t in totals.values())
    assert result.assignments["TotalSales"].sum() == pytest.approx(converted)  # every customer's total in EUR


def test_the_command_prints_what_it_did_about_currencies(sf_env, org):
    add_currencies(org)
    result = CliRunner().invoke(app, ["pull", "-o", "sales.csv", "--config", "custseg.toml"])
    assert result.exit_code == 0, result.output
    assert ("Currency: the org has multi-currency (CurrencyIsoCode added to the fields); its conversion rates written to "
            "sales.rates.csv: give them to the run, e.g. custseg run sales.csv --preset salesforce-cpq --rates "
            "sales.rates.csv.") in result.output.replace("\n", "")
