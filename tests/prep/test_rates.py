"""Issue 21 item 1: the rates file (`_prep._rates`): Salesforce's shapes and a plain one, each bad value stopped."""

from __future__ import annotations

import datetime as dtm

import pytest

from custseg._errors import DataError
from custseg._prep._rates import read_rates


def rates(tmp_path, text: str):
    path = tmp_path / "rates.csv"
    path.write_text(text)
    return read_rates(path)


def test_salesforce_currency_type_export(tmp_path):
    read = rates(tmp_path, "Id,IsoCode,ConversionRate,DecimalPlaces,IsActive,IsCorporate\n"
                           "01L1,USD,1.08,2,true,false\n01L2,EUR,1.0,2,true,true\n01L3,JPY,161.2,0,false,false\n")
    assert read.corporate == "EUR" and not read.dated
    assert read.table() == {"EUR": 1.0, "JPY": 161.2, "USD": 1.08}  # an inactive currency keeps its rate


def test_data_loader_headers_in_capitals_and_a_semicolon_file(tmp_path):
    read = rates(tmp_path, "\ufeffISOCODE;CONVERSIONRATE;ISCORPORATE\nEUR;1;TRUE\nGBP;0.86;FALSE\n")
    assert read.table() == {"EUR": 1.0, "GBP": 0.86}


def test_dated_conversion_rate_export(tmp_path):
    read = rates(tmp_path, "IsoCode,ConversionRate,StartDate,NextStartDate\nUSD,1,0001-01-01,9999-12-31\n"
                           "EUR,0.9,2023-01-01,2023-07-01\nEUR,0.92,2023-07-01,9999-12-31\n")
    assert read.corporate == "USD" and read.dated  # no IsCorporate column: the one whose every rate is 1
    assert [(p.rate, p.start, p.end) for p in read.of("EUR")] == [
        (0.9, dtm.date(2023, 1, 1), dtm.date(2023, 7, 1)), (0.92, dtm.date(2023, 7, 1), dtm.date(9999, 12, 31))]


def test_plain_currency_rate_with_optional_open_ends(tmp_path):
    read = rates(tmp_path, "currency,rate,start,end\nEUR,1,,\nJPY,150,,2024-01-01\nJPY,160,2024-01-01,\nUSD,1.1,,\n")
    assert read.table() == {"EUR": 1.0, "USD": 1.1, "JPY": [{"start": None, "end": "2024-01-01", "rate": 150.0},
                                                             {"start": "2024-01-01", "end": None, "rate": 160.0}]}


@pytest.mark.parametrize("value", ["0", "-161.2", "abc", "", "nan", "161,2"])
def test_a_bad_rate_stops_naming_file_row_and_value(tmp_path, value):
    with pytest.raises(DataError) as info:
        rates(tmp_path, f"IsoCode,ConversionRate,IsCorporate\nEUR,1,true\nJPY,\"{value}\",false\n")
    assert str(info.value) == (f"{tmp_path / 'rates.csv'}: data row 2: the rate of JPY in column 'ConversionRate' is "
                               f"{value!r}, not a number > 0 (--rates)")


@pytest.mark.parametrize("text, message", [
    ("IsoCode,ConversionRate,IsCorporate\nEUR,1,false\nJPY,161.2,false\n",
     "exactly one corporate currency is needed (marked IsCorporate true, or else the only one whose rate is 1); found none"),
    ("IsoCode,ConversionRate,IsCorporate\nEUR,1,true\nUSD,1,true\n",
     "exactly one corporate currency is needed (marked IsCorporate true, or else the only one whose rate is 1); found 2: "
     "EUR, USD"),
    ("currency,rate\nEUR,1\nCHF,1\n",
     "exactly one corporate currency is needed (marked IsCorporate true, or else the only one whose rate is 1); found 2: "
     "CHF, EUR"),
    ("IsoCode,ConversionRate,IsCorporate\nEUR,0.9,true\n",
     "data row 1: the corporate currency EUR has rate 0.9; its rate is 1 (rates are units of a currency per 1 unit of "
     "the corporate currency)"),
    ("currency,rate\nEUR,1\nJPY,150\nJPY,160\n",
     "JPY has two rates (data rows 2 and 3); give one rate per currency, or periods with StartDate and NextStartDate"),
    ("currency,rate,start,end\nEUR,1,,\nJPY,150,2023-01-01,2023-07-01\nJPY,160,2023-06-01,\n",
     "the rates of JPY at data rows 2 and 3 overlap (2023-01-01 to 2023-07-01, 2023-06-01 to the end); each date needs "
     "one rate"),
    ("currency,rate,start,end\nEUR,1,,\nJPY,150,2023-07-01,2023-07-01\n",
     "data row 2: the period of JPY ends on 2023-07-01, not after its start 2023-07-01 (the end is the first day the "
     "rate no longer holds)"),
    ("currency,rate,start\nEUR,1,\nJPY,150,01/07/2023\n", "data row 2: start '01/07/2023' is not a date like 2024-01-31"),
    ("currency,rate\nEUR,1\n,150\n", "data row 2: no currency code in column 'currency'"),
    ("IsoCode,ConversionRate,IsCorporate\nEUR,1,maybe\n", "data row 1: IsCorporate 'maybe' is not true or false"),
    ("currency,rate\n", "no rates (the file has a header only)"),
    ("code,value\nEUR,1\n", "no currency column (IsoCode or currency) and rate column (ConversionRate or rate) in the "
                            "header 'code,value'"),
])
def test_a_bad_rates_file_stops_in_one_line(tmp_path, text, message):
    with pytest.raises(DataError) as info:
        rates(tmp_path, text)
    assert str(info.value) == f"{tmp_path / 'rates.csv'}: {message} (--rates)"


def test_a_missing_rates_file(tmp_path):
    with pytest.raises(DataError) as info:
        read_rates(tmp_path / "nope.csv")
    assert str(info.value) == f"{tmp_path / 'nope.csv'}: file not found (--rates)"
