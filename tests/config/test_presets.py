"""Issue 21 item 1: a preset maps a column only when the input has it (`ColumnMapping.when_present`): the
salesforce-cpq preset reads CurrencyIsoCode from a multi-currency org's export and still reads one without it."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from custseg import ColumnMapping, preset, segment
from custseg._config import build_run_config
from custseg._config._columns import SALESFORCE_CPQ_FIELDS
from custseg._errors import DataError
from custseg._salesforce._soql import id18
from custseg.cli import app

CPQ = preset("salesforce-cpq")
RATES = "IsoCode,ConversionRate,IsCorporate\nEUR,1,true\nUSD,1.25,false\n"


def cpq_export(currencies: list[str] | None = None) -> pd.DataFrame:
    """Six accounts, one subscription line each (account n: n + 1 seats at 100), CPQ column names."""
    rows = []
    for n in range(6):
        values = {"Name": f"SUB-{n}", "SBQQ__ProductName__c": "seat", "SBQQ__Quantity__c": str(n + 1), "Description__c": "",
                  "Code_Produit__c": "1", "SBQQ__Account__c": id18(f"001{n:012d}"), "SBQQ__Contract__c": "",
                  "SBQQ__ContractNumber__c": "", "SBQQ__StartDate__c": "01/02/2023", "SBQQ__EndDate__c": "31/12/2023",
                  "SBQQ__NetPrice__c": "100", "SBQQ__Contract__r.BillingCountry": "France"}
        rows.append([values[f] for f in SALESFORCE_CPQ_FIELDS] + ([currencies[n]] if currencies else []))
    return pd.DataFrame(rows, columns=list(SALESFORCE_CPQ_FIELDS) + (["CurrencyIsoCode"] if currencies else []))


def test_the_rule_when_present():
    assert CPQ.currency == "CurrencyIsoCode" and CPQ.when_present == ("currency",)
    assert CPQ.present_in(list(SALESFORCE_CPQ_FIELDS)).currency is None  # absent: unmapped
    assert CPQ.present_in([*SALESFORCE_CPQ_FIELDS, "CurrencyIsoCode"]).roles()["currency"] == "CurrencyIsoCode"
    assert CPQ.optional_columns() == ["CurrencyIsoCode"]
    given = CPQ.with_overrides(currency="CurrencyIsoCode")  # asked for by name: required again
    assert given.when_present == () and given.present_in(["Name"]).currency == "CurrencyIsoCode"
    assert CPQ.with_overrides(salesforce_ids=True).when_present == ("currency",)  # other options leave it
    assert preset("online-retail").currency is None
    assert ColumnMapping.from_dict(CPQ.to_dict()) == CPQ
    saved = CPQ.to_dict()
    del saved["when_present"], saved["currency"]  # a model saved before the currency role
    assert ColumnMapping.from_dict(saved).when_present == ()


def test_a_file_without_the_column_is_read_and_the_absence_recorded(tmp_path):
    path = tmp_path / "cpq.csv"
    cpq_export().to_csv(path, index=False)
    result = segment(path, preset="salesforce-cpq", k=2)
    assert result.assignments["TotalSales"].sort_values().tolist() == [100.0 * n for n in range(1, 7)]
    assert result.cleaning["currency"] == {"column": "CurrencyIsoCode", "present": False, "rule": (
        "no column 'CurrencyIsoCode' in the input: every amount is taken as in one currency")}


def test_a_workbook_with_other_sheets_is_read_without_the_column(tmp_path):
    path = tmp_path / "cpq.xlsx"
    with pd.ExcelWriter(path) as writer:
        cpq_export().to_excel(writer, sheet_name="Sales", index=False)
        pd.DataFrame({"note": ["made by hand"]}).to_excel(writer, sheet_name="Notes", index=False)
    result = segment(path, preset="salesforce-cpq", k=2)
    assert len(result.assignments) == 6 and not result.cleaning["currency"]["present"]


def test_a_file_with_the_column_is_converted(tmp_path):
    path, rates = tmp_path / "cpq.csv", tmp_path / "rates.csv"
    cpq_export(["EUR", "EUR", "USD", "EUR", "EUR", "USD"]).to_csv(path, index=False)
    rates.write_text(RATES)
    with pytest.raises(DataError, match=r"holds 2 currencies \(EUR 4 lines, USD 2\)"):
        segment(path, preset="salesforce-cpq", k=2)
    result = segment(path, preset="salesforce-cpq", k=2, rates=rates)
    # account 2: 3 seats x 100 USD = 300 / 1.25 = 240 EUR; account 5: 600 / 1.25 = 480 EUR
    assert result.assignments["TotalSales"].sort_values().tolist() == [100.0, 200.0, 240.0, 400.0, 480.0, 500.0]


def test_a_currency_column_given_by_name_is_required(tmp_path):
    path = tmp_path / "cpq.csv"
    cpq_export().to_csv(path, index=False)
    result = CliRunner().invoke(app, ["run", str(path), "--preset", "salesforce-cpq", "--currency", "CurrencyIsoCode",
                                      "-o", str(tmp_path / "out"), "--no-report"])
    assert result.exit_code == 1
    assert result.output.strip().startswith(f"Error: {path}: missing column(s) CurrencyIsoCode (currency); the file has: Name,")


def test_rates_from_custseg_toml(tmp_path):
    config = tmp_path / "custseg.toml"
    config.write_text('[columns]\npreset = "salesforce-cpq"\n\n[run]\nrates = "rates.csv"\n')
    built = build_run_config(config)
    assert built.rates == "rates.csv" and built.mapping.when_present == ("currency",)
