"""Cut result pages, rate limits and secrets (issue 23, items 4 to 6): the fake org cuts answers, throttles,
refuses, echoes the token; the values, the files and the messages stay right."""

from __future__ import annotations

import base64
import json
import logging
import traceback
from urllib.parse import quote, quote_plus

import pandas as pd
import pytest
from sf_helpers import invoke, push, segments, N_ACCOUNTS, N_SUBSCRIPTIONS, SECRET, SEGMENT_ONLY, account_id, subscription_rows
from typer.testing import CliRunner

from custseg._cli._salesforce import app
from custseg._errors import DataError
from custseg._salesforce import PullOptions, pull_records
from custseg._salesforce._bulk import _read_csv
from custseg._salesforce._client import IncompleteAnswer

runner = CliRunner()
JOB_2, JOB_3 = "750I00000000000002", "750I00000000000003"  # job 1 is the query of the current values
WANTED = ["Champions", "Loyal", "At risk"] * 14
COUNTRY = "SBQQ__Contract__r.BillingCountry"





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
    assert _read_csv('"sf__Id","sf__Error"') == (["sf__Id", "sf__Error"], [])  # no failures: a header without its line break


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


# -- 6. secrets --------------------------------------------------------------------------------
def token_forms(token: str) -> set[str]:
    """The token raw, URL-encoded and in base64 (alone, and inside a longer text at each of the 3 alignments)."""
    raw = token.encode()
    forms = {token, quote(token), quote(token, safe=""), quote_plus(token), base64.b64encode(raw).decode()}
    for start in range(3):
        core = raw[start : start + (len(raw) - start) // 3 * 3]
        forms |= {base64.b64encode(core).decode(), base64.urlsafe_b64encode(core).decode()}
    return forms


@pytest.fixture
def debug_log(sf_env):
    handler = logging.FileHandler(sf_env / "debug.log", encoding="utf-8")
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield sf_env / "debug.log"
    root.removeHandler(handler)
    root.setLevel(old_level)
    handler.close()


def test_the_token_is_never_printed_or_written(sf_env, debug_log, server, org, run_dir, monkeypatch):
    org.echo_token = True  # every error body repeats the token: raw, %-encoded, +-encoded, base64 of "Bearer <token>"
    messages = []

    def command(*args, code: int):
        result, text = invoke(*args, "--config", "custseg.toml")
        messages.append(text + repr(result.exception))
        assert result.exit_code == code, text
        assert len(text.strip().splitlines()) == 1 or code == 0, text
        return text

    for url in (f"{server.url}/secur/frontdoor.jsp?sid={SECRET}", f"{server.url}/secur/frontdoor.jsp?sid={quote(SECRET, safe='')}",
                f"https://{quote(SECRET, safe='')}@127.0.0.1:{server.port}"):
        monkeypatch.setenv("SF_INSTANCE_URL", url)
        text = command("pull", "-o", "s.parquet", code=2)
        assert "must be the org's address alone" in text and "not shown" in text
    monkeypatch.setenv("SF_INSTANCE_URL", server.url)
    monkeypatch.setenv("SF_DOMAIN", f"https://acme.my.salesforce.com/secur/frontdoor.jsp?sid={SECRET}")
    assert "(not shown: it may hold a session id)" in command("pull", "-o", "s.parquet", code=2)
    monkeypatch.delenv("SF_DOMAIN")

    org.fail("server_error", "GET", "/sobjects/SBQQ__Subscription__c/describe", times=4)  # 500, token in the body
    assert "***" in command("pull", "-o", "s.parquet", code=1)  # it was there, and it was removed
    command("push", run_dir, code=0)  # dry run: diff.csv, to_send.csv, summary.json, audit.jsonl
    org.fail("server_error", "GET", "/jobs/ingest/750I00000000000003", times=100)  # polls of the job (after 2 queries), read back
    text = command("push", run_dir, "--apply", code=1)
    assert "***" in text and "40 unknown" in text
    org.faults = []
    command("push", run_dir, "--apply", code=0)  # the re-run rewrites the files
    org.tokens.discard(SECRET)  # revoked: 401, token echoed
    command("pull", "-o", "s.parquet", code=1)
    debug = runner.invoke(app, ["pull", "-o", "s.parquet", "--config", "custseg.toml", "--debug"])
    assert debug.exit_code != 0
    messages.append("".join(traceback.format_exception(debug.exception)))

    out = run_dir / "salesforce"
    written = {p.name for p in out.iterdir()}
    assert {"results.csv", "summary.json", "audit.jsonl", "jobs.jsonl", "diff.csv", "rollback.csv"} <= written
    assert debug_log.stat().st_size > 0
    texts = [("message", m) for m in messages]
    texts += [(str(p), p.read_bytes().decode("utf-8", "replace")) for p in sf_env.rglob("*") if p.is_file()]
    leaks = [(where, form) for where, text in texts for form in token_forms(SECRET) if form in text]
    assert leaks == []
    assert len(texts) > 15


def test_concurrent_request_limit_is_not_called_the_daily_limit(client, org, tmp_path):
    org.limit_message = "ConcurrentPerOrgLongTxn Limit exceeded."  # too many long requests run at once
    org.fail("refuse", "GET", "/sobjects/SBQQ__Subscription__c/describe")
    with pytest.raises(DataError, match=r"ConcurrentPerOrgLongTxn.*too many long requests run at once in the org, run again in a "
                                        r"few minutes$"):
        pull_records(client, tmp_path / "s.csv", PullOptions())
