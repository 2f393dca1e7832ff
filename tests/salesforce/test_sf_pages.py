"""Cut result pages, rate limits and secrets (issue 23, items 4 to 6): the fake org cuts answers, throttles,
refuses, echoes the token; the values, the files and the messages stay right."""

from __future__ import annotations

import json
import logging

import pandas as pd
import pytest
from sf_helpers import N_ACCOUNTS, N_SUBSCRIPTIONS, SEGMENT_ONLY, account_id, subscription_rows
from typer.testing import CliRunner

from custseg._cli._salesforce import app
from custseg._errors import DataError
from custseg._salesforce import PullOptions, pull_records, push_segments
from custseg._salesforce._bulk import _read_csv
from custseg._salesforce._client import IncompleteAnswer

runner = CliRunner()
JOB_2, JOB_3 = "750I00000000000002", "750I00000000000003"  # job 1 is the query of the current values
WANTED = ["Champions", "Loyal", "At risk"] * 14
COUNTRY = "SBQQ__Contract__r.BillingCountry"


def invoke(*args):
    result = runner.invoke(app, [str(a) for a in args])
    return result, result.stdout + (result.stderr or "")


def push(run_dir, client, **kwargs):
    kwargs.setdefault("retry_seconds", 0)
    return push_segments(run_dir, client, apply=True, **kwargs)


def segments(org) -> list[str]:
    return [org.records["Account"][account_id(n)].get("Segment__c", "") for n in range(N_ACCOUNTS)]


def statuses(out) -> dict[str, int]:
    return pd.read_csv(out / "results.csv", dtype=str)["status"].value_counts().to_dict()


# -- 4. cut pages -------------------------------------------------------------------------------
@pytest.mark.parametrize("text, problem", [
    ('Id,Country\n"1","Franc', "ends inside its last row"),                 # connection closed in the last cell
    ('Id,Product\n"1","NATHURAL\n', "not complete CSV"),                     # ... inside a quoted cell holding a line break
    ('Id,Country,Code\n"1","France"\n', "row 1 has 2 cells for 3 columns"),  # ... between two cells
])
def test_cut_csv_is_refused(text, problem):
    with pytest.raises(IncompleteAnswer, match=problem):
        _read_csv(text)


def test_complete_csv_and_empty_answer_are_read():
    assert _read_csv('Id,Name\n"1","A ""B"", C"\n') == (["Id", "Name"], [["1", 'A "B", C']])
    assert _read_csv("") == ([], [])


@pytest.mark.parametrize("how", ["char", "cell", "row"])
def test_page_cut_once_is_read_again_and_the_values_are_right(client, org, tmp_path, how, caplog):
    org.fail(f"cut_{how}", "GET", "/results", nth=3)  # the last page (rows 2001 to 2350)
    with caplog.at_level(logging.WARNING, logger="custseg._salesforce._client"):
        report = pull_records(client, tmp_path / "s.csv", PullOptions(page_size=1000))
    assert report.rows == N_SUBSCRIPTIONS and report.page_rows == [1000, 1000, 350] and client.retries == 1
    frame = pd.read_csv(tmp_path / "s.csv", dtype=str, keep_default_na=False)
    # the last row is subscription 2349: 2349 % 3 == 0 -> "France" (cut: "Franc", or its cell or row lost)
    assert frame[COUNTRY].iloc[-1] == "France"
    assert frame[COUNTRY].tolist() == [row[COUNTRY] for row in subscription_rows(N_SUBSCRIPTIONS)]
    assert "page 3 of query job" in caplog.text and "retry 1 of 3" in caplog.text


def test_page_cut_every_time_stops_in_one_line_and_writes_nothing(sf_env, org):
    org.fail("cut_char", "GET", "/results", nth=2, times=100)
    result, text = invoke("pull", "-o", "s.parquet", "--page-size", "1000", "--config", "custseg.toml")
    assert result.exit_code == 1
    lines = text.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: page 2 of query job 750Q")
    assert "the answer ends inside its last row (no line break after it): it was cut (after 3 retries)" in lines[0]
    assert sorted(p.name for p in sf_env.iterdir()) == ["custseg.toml"]


def test_cut_page_of_current_values_is_read_again(client, org, run_dir):
    org.records["Account"][account_id(N_ACCOUNTS - 1)]["Segment__c"] = WANTED[N_ACCOUNTS - 1]  # the last row: no change
    org.fail("cut_char", "GET", "/results")  # its "Champions" would be read "Champion" and sent again
    report = push(run_dir, client, fields=SEGMENT_ONLY)
    assert report.to_change == N_ACCOUNTS - 1 and report.updated == N_ACCOUNTS - 1 and client.retries == 1
    assert segments(org) == WANTED[:N_ACCOUNTS]


def test_cut_job_results_once_are_read_again(client, org, run_dir):
    org.fail("cut_row", "GET", f"/{JOB_2}/successfulResults")  # 39 rows for the job's 40
    report = push(run_dir, client)
    assert report.updated == N_ACCOUNTS and client.retries == 1
    assert statuses(run_dir / "salesforce") == {"updated": N_ACCOUNTS}


def test_job_results_cut_every_time_record_nothing_as_done(client, org, run_dir):
    org.fail("cut_row", "GET", f"/{JOB_2}/successfulResults", times=100)
    with pytest.raises(DataError, match=r"successfulResults of job .*held 39 row\(s\) but the job counts 40 \(after 3 retries\)"
                                        r".*0 row\(s\) confirmed updated, 0 refused, 40 unknown") as info:
        push(run_dir, client)
    assert "\n" not in str(info.value)
    out = run_dir / "salesforce"
    assert segments(org) == WANTED[:N_ACCOUNTS]  # the org has them; the files do not claim them
    assert statuses(out) == {"unknown": N_ACCOUNTS}
    assert json.loads((out / "summary.json").read_text())["updated"] == 0
    org.faults = []
    assert push(run_dir, client).to_change == 0  # a re-run reads the org and sends nothing


# -- 5. rate limits ----------------------------------------------------------------------------
def test_throttled_reads_wait_as_salesforce_asks(client, org, run_dir, caplog):
    waits = []
    client.sleep = waits.append
    org.retry_after = "7"
    org.fail("throttle", "GET", "/sobjects/Account/describe", times=2)  # 429 Retry-After: 7
    org.fail("unavailable", "GET", f"/jobs/ingest/{JOB_2}")               # 503 Retry-After: 7 on a poll of the job
    with caplog.at_level(logging.WARNING, logger="custseg._salesforce._client"):
        report = push(run_dir, client)
    assert report.updated == N_ACCOUNTS and segments(org) == WANTED[:N_ACCOUNTS]
    assert waits == [7.0, 7.0, 7.0] and client.retries == 3 and org.ingest_count() == 1
    assert "HTTP 429" in caplog.text and "HTTP 503" in caplog.text


def test_retry_after_as_a_date_is_honoured(client, org, tmp_path):
    waits = []
    client.sleep = waits.append
    org.retry_after = "Wed, 21 Oct 2015 07:28:00 GMT"  # already past: repeat at once
    org.fail("throttle", "GET", "/sobjects/SBQQ__Subscription__c/describe")
    assert pull_records(client, tmp_path / "s.csv", PullOptions()).rows == N_SUBSCRIPTIONS
    assert waits == [0.0]


def test_retry_after_beyond_the_bound_stops_at_once(client, org, tmp_path):
    waits = []
    client.sleep = waits.append
    org.retry_after = "3600"
    org.fail("throttle", "GET", "/sobjects/SBQQ__Subscription__c/describe", times=10)
    with pytest.raises(DataError, match=r"HTTP 429 \(TOO_MANY_REQUESTS: Too many requests\); Salesforce asks to wait 3600 s "
                                        r"\(Retry-After\), more than http_retry_after_max_seconds \(120\): run again later$"):
        pull_records(client, tmp_path / "s.csv", PullOptions())
    assert waits == [] and not org.query_jobs


def test_throttled_write_is_not_repeated(client, org, run_dir):
    org.retry_after = "1"
    org.fail("throttle", "POST", "/jobs/ingest")
    with pytest.raises(DataError, match="create an update job on Account: Salesforce answered HTTP 429"):
        push(run_dir, client)
    assert org.paths("POST").count("/services/data/v64.0/jobs/ingest") == 1 and client.retries == 0
    assert statuses(run_dir / "salesforce") == {"not sent": N_ACCOUNTS}


def test_daily_limit_stops_with_the_reset_hint_and_the_records_agree(sf_env, org, run_dir):
    org.fail("refuse", "GET", f"/jobs/ingest/{JOB_3}", times=100)  # the limit is reached while job 3 runs
    result, text = invoke("push", run_dir, "--apply", "--batch-size", "20", "--config", "custseg.toml")
    assert result.exit_code == 1
    lines = text.strip().splitlines()
    assert len(lines) == 1 and "REQUEST_LIMIT_EXCEEDED" in lines[0]
    assert "counts requests over the last 24 hours" in lines[0] and "run again in a few hours" in lines[0]
    assert "20 row(s) confirmed updated, 0 refused, 20 unknown" in lines[0]
    assert org.paths("GET").count(f"/services/data/v64.0/jobs/ingest/{JOB_3}") == 1 + 1  # no retry; one read back
    out = run_dir / "salesforce"
    assert statuses(out) == {"updated": 20, "unknown": 20} and segments(org) == WANTED[:N_ACCOUNTS]
    audit = [json.loads(line) for line in (out / "audit.jsonl").read_text().splitlines()]
    assert audit[-1]["updated"] == 20 and "REQUEST_LIMIT_EXCEEDED" in audit[-1]["error"]
    org.faults = []
    result, text = invoke("push", run_dir, "--apply", "--config", "custseg.toml")
    assert result.exit_code == 0 and org.ingest_count() == 2, text  # the next day: nothing left to send
