"""Pull: Bulk API 2.0 query through the real simple-salesforce client, streamed to files."""

from __future__ import annotations

import csv

import pandas as pd
import pytest
from sf_helpers import N_SUBSCRIPTIONS, subscription_rows

from custseg._config._columns import SALESFORCE_CPQ_FIELDS
from custseg._errors import DataError, UsageError
from custseg._salesforce import PullOptions, pull_records

FIELDS = list(SALESFORCE_CPQ_FIELDS)


def expected_rows(year: int | None = None) -> list[list[str]]:
    rows = subscription_rows(N_SUBSCRIPTIONS)
    if year is not None:
        rows = [r for r in rows if r["CreatedDate"].startswith(str(year))]
    return [[r[f] for f in FIELDS] for r in rows]


def test_pull_all_pages_to_parquet_equals_server_data(client, org, tmp_path):
    target = tmp_path / "sales.parquet"
    report = pull_records(client, target, PullOptions(page_size=1000))
    assert report.pages == 3 and report.page_rows == [1000, 1000, 350]
    assert report.rows == report.server_rows == N_SUBSCRIPTIONS
    frame = pd.read_parquet(target)
    assert list(frame.columns) == FIELDS
    got = frame.fillna("").astype(str).values.tolist()
    assert got == expected_rows()
    assert frame["SBQQ__StartDate__c"].iloc[0] == "2019-03-01"  # ISO, as Salesforce sent it
    assert frame["Description__c"].isna().sum() == sum(1 for r in expected_rows() if r[3] == "")
    assert "WHERE" not in report.soql


def test_pull_year_filter_builds_soql_and_filters(client, org, tmp_path):
    target = tmp_path / "sales_2020.csv"
    options = PullOptions(page_size=300).with_window(year=2020)
    report = pull_records(client, target, options)
    assert report.soql.endswith("FROM SBQQ__Subscription__c WHERE CreatedDate >= 2020-01-01T00:00:00Z AND CreatedDate < 2021-01-01T00:00:00Z")
    with target.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == FIELDS
    assert rows[1:] == expected_rows(2020)
    assert report.pages > 1


def test_pull_date_field_of_type_date_uses_date_literals(client, org, tmp_path):
    options = PullOptions(date_field="SBQQ__StartDate__c").with_window(since="2021-01-01", until="2021-12-31")
    report = pull_records(client, tmp_path / "s.parquet", options)
    assert "SBQQ__StartDate__c >= 2021-01-01 AND SBQQ__StartDate__c < 2022-01-01" in report.soql
    assert report.rows == len(expected_rows(2021))


def test_pull_xlsx(client, tmp_path):
    target = tmp_path / "sales.xlsx"
    pull_records(client, target, PullOptions(page_size=1000).with_window(year=2019))
    fastexcel = pytest.importorskip("fastexcel")
    sheet = fastexcel.read_excel(str(target)).load_sheet("Sales", dtypes="string")
    frame = sheet.to_pandas().fillna("")
    assert list(frame.columns) == FIELDS
    assert frame.values.tolist() == expected_rows(2019)


def test_short_page_is_caught_and_nothing_is_written(client, org, tmp_path):
    org.short_page = 2
    target = tmp_path / "sales.parquet"
    with pytest.raises(DataError, match="page 2 of query job .* announced 1000 rows but held 999"):
        pull_records(client, target, PullOptions(page_size=1000))
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_job_total_differs_from_rows_received(client, org, tmp_path):
    org.under_report = 5
    with pytest.raises(DataError, match=f"processed {N_SUBSCRIPTIONS + 5} rows but {N_SUBSCRIPTIONS} were received"):
        pull_records(client, tmp_path / "s.csv", PullOptions())
    assert list(tmp_path.iterdir()) == []


def test_expired_session_mid_pull_logs_in_again_and_continues(login_client, org, tmp_path):
    org.fail("expire", "GET", "/results", nth=2)  # page 2 is refused once
    report = pull_records(login_client, tmp_path / "s.parquet", PullOptions(page_size=1000))
    assert report.rows == N_SUBSCRIPTIONS
    assert login_client.reconnects == 1
    assert org.issued == 2
    assert len(org.query_jobs) == 1  # the same job went on


def test_request_limit_exceeded_is_one_clear_line(client, org, tmp_path):
    org.fail("refuse", "POST", "/jobs/query")
    with pytest.raises(DataError, match="REQUEST_LIMIT_EXCEEDED.*API request limit is reached") as info:
        pull_records(client, tmp_path / "s.parquet", PullOptions())
    assert "\n" not in str(info.value)


def test_unknown_field_is_reported_before_any_job(client, org, tmp_path):
    with pytest.raises(DataError, match="no field Nope__c"):
        pull_records(client, tmp_path / "s.parquet", PullOptions(fields=("Name", "Nope__c")))
    assert not org.query_jobs


@pytest.mark.parametrize("bad", ["Name; DELETE", "Name FROM Account--", "Na'me", "a..b", ""])
def test_field_names_are_validated(bad):
    with pytest.raises(UsageError, match="not a Salesforce field name"):
        PullOptions(fields=("Id", bad))


@pytest.mark.parametrize("kwargs, message", [
    ({"year": 2020, "since": "2020-01-01"}, "either --year or --since"),
    ({"since": "2020-13-01"}, "--since must be a date"),
    ({"since": "2020-02-01", "until": "2020-01-01"}, "before --since"),
    ({"since": "2020-01-01' OR Id != null"}, "--since must be a date"),
])
def test_date_options_are_validated(kwargs, message):
    with pytest.raises(UsageError, match=message):
        PullOptions().with_window(**kwargs)


def test_existing_output_needs_overwrite(client, tmp_path):
    target = tmp_path / "s.csv"
    target.write_text("old")
    with pytest.raises(UsageError, match="already exists"):
        pull_records(client, target, PullOptions())
    pull_records(client, target, PullOptions(), overwrite=True)
    assert target.read_text().startswith("Name,")
