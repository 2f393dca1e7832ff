"""Faults injected into the fake org: the org's values, the files and the exit code always agree.

Each test names the item of issue 15 it covers.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import subprocess
import sys
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pytest
from sf_helpers import invoke, push, segments, N_ACCOUNTS, N_SUBSCRIPTIONS, SECRET, account_id, make_run_dir

from custseg._locks import folder_lock
from custseg._errors import DataError
from custseg._salesforce import PullOptions, SalesforceSettings, connect, pull_records, rollback_segments
from custseg._salesforce import _push, _send
from custseg._salesforce._soql import id18

JOB_2, JOB_3 = "750I00000000000002", "750I00000000000003"  # job 1 is the query of the current values





def statuses(out: Path) -> dict[str, int]:
    return pd.read_csv(out / "results.csv", dtype=str)["status"].value_counts().to_dict()


def journal(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "jobs.jsonl").read_text().splitlines()]


def audit(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "audit.jsonl").read_text().splitlines()]


WANTED = ["Champions", "Loyal", "At risk"] * 14


# -- 1. lost answers after a job was created: read back before the files are written --------------
@pytest.mark.parametrize("kind, method, path_end, times", [
    ("unavailable", "GET", f"/jobs/ingest/{JOB_3}", 4),     # the poll of the last job: 503 beyond the retries
    ("server_error", "GET", f"/{JOB_3}/successfulResults", 4),  # its results: 500 beyond the retries
    ("drop", "PATCH", f"/jobs/ingest/{JOB_3}", 1),           # the close was done, the socket closed before the answer
])
def test_lost_answer_of_the_last_job_is_read_back(client, org, run_dir, kind, method, path_end, times):
    org.fail(kind, method, path_end, times=times)
    with pytest.raises(DataError, match=r"40 row\(s\) confirmed updated, 0 refused, 0 not sent .*a re-run is safe") as info:
        push(run_dir, client, batch_size=20)
    assert "\n" not in str(info.value)
    out = run_dir / "salesforce"
    assert segments(org) == WANTED[:N_ACCOUNTS]
    assert statuses(out) == {"updated": N_ACCOUNTS}
    assert [e["job_id"] for e in journal(out) if e.get("state") == "unknown"] == [JOB_2, JOB_3]  # recorded when created
    assert {e["job_id"]: e["state"] for e in journal(out) if e["event"] == "job" and e["state"] != "unknown"} == {
        JOB_2: "JobComplete", JOB_3: "JobComplete"}
    last = audit(out)[-1]
    assert last["jobs"] == [JOB_2, JOB_3] and last["updated"] == N_ACCOUNTS and last["error"]
    org.faults = []
    assert push(run_dir, client).to_change == 0  # the re-run sends nothing


def test_close_that_times_out_is_read_back(org, server, run_dir):
    org.tokens.add(SECRET)
    org.hang_seconds = 1.5
    settings = SalesforceSettings(auth="token", instance_url=server.url, access_token=SECRET, timeout_seconds=0.5)
    client = connect(settings, poll_seconds=0)  # the default session: its timeout applies
    org.fail("timeout", "PATCH", f"/jobs/ingest/{JOB_2}")
    with pytest.raises(DataError, match=r"close job .*ReadTimeout.*40 row\(s\) confirmed updated"):
        push(run_dir, client)
    assert segments(org) == WANTED[:N_ACCOUNTS]
    assert statuses(run_dir / "salesforce") == {"updated": N_ACCOUNTS}


def test_job_state_that_cannot_be_read_is_unknown_and_a_rerun_is_safe(client, org, run_dir):
    org.fail("unavailable", "GET", f"/jobs/ingest/{JOB_3}", times=100)
    with pytest.raises(DataError, match=r"20 row\(s\) confirmed updated, 0 refused, 20 unknown .*0 not sent"):
        push(run_dir, client, batch_size=20)
    out = run_dir / "salesforce"
    assert statuses(out) == {"updated": 20, "unknown": 20}
    results = pd.read_csv(out / "results.csv", dtype=str)
    assert set(results.loc[results["status"] == "unknown", "job_id"]) == {JOB_3}
    assert audit(out)[-1]["unknown"] == 20
    assert segments(org) == WANTED[:N_ACCOUNTS]  # Salesforce had processed the job
    org.faults = []
    again = push(run_dir, client)
    assert again.to_change == 0 and org.ingest_count() == 2


# -- 2. kill -9 in the middle, re-run, rollback ----------------------------------------------------
KILL_AFTER_FIRST_JOB = textwrap.dedent("""
    import os, signal, sys
    from custseg._salesforce import SalesforceSettings, connect, push_segments
    settings = SalesforceSettings(auth="token", instance_url=sys.argv[1], access_token=sys.argv[2])
    def progress(stage, done, total):
        if stage == "send" and done:
            os.kill(os.getpid(), signal.SIGKILL)
    push_segments(sys.argv[3], connect(settings, poll_seconds=0), apply=True, batch_size=20, progress=progress)
""")


def test_kill_mid_push_then_rerun_then_rollback(sf_env, server, org, run_dir):
    for n in range(N_ACCOUNTS):
        org.records["Account"][account_id(n)]["Segment__c"] = f"Old {n}"
    before = segments(org)
    killed = subprocess.run([sys.executable, "-c", KILL_AFTER_FIRST_JOB, server.url, SECRET, str(run_dir)],
                            capture_output=True, timeout=120, env={**os.environ, "PYTHONPATH": str(Path(_push.__file__).parents[2])})
    assert killed.returncode == -9, killed.stderr
    out = run_dir / "salesforce"
    assert segments(org)[:20] == WANTED[:20] and segments(org)[20:] == before[20:]
    assert not (out / "audit.jsonl").exists() and not (out / "results.csv").exists()
    rollback = pd.read_csv(out / "rollback.csv", dtype=str)
    assert list(rollback["Segment__c"]) == before  # written before the first job
    assert [e["event"] for e in journal(out)][:2] == ["started", "job"]

    result, text = invoke("push", run_dir, "--apply", "--config", "custseg.toml")
    assert result.exit_code == 0, text
    assert "Done: 20 record(s) updated" in text and segments(org) == WANTED[:N_ACCOUNTS]
    assert list(pd.read_csv(out / "rollback.csv", dtype=str)["Segment__c"]) == before  # merged: still the first values
    events = audit(out)
    assert [e["event"] for e in events] == ["interrupted", "push"]
    assert events[0]["jobs"] == [JOB_2] and "unknown state" in events[0]["error"]
    stamped = sorted(p.name for p in out.glob("rollback-*.csv"))
    assert len(stamped) == 2 and all(re.fullmatch(r"rollback-\d{8}T\d{6}\.\d{6}Z(-\d+)?\.csv", n) for n in stamped)

    result, text = invoke("rollback", run_dir, "--config", "custseg.toml")  # dry run by default
    assert result.exit_code == 0 and "Dry run: nothing was sent" in text, text
    assert segments(org) == WANTED[:N_ACCOUNTS] and len(pd.read_csv(out / "undo_to_send.csv")) == N_ACCOUNTS
    result, text = invoke("rollback", run_dir, "--apply", "--config", "custseg.toml")
    assert result.exit_code == 0, text
    assert f"Done: {N_ACCOUNTS} record(s) put back" in text
    assert segments(org) == before
    assert audit(out)[-1]["mode"] == "rollback" and audit(out)[-1]["updated"] == N_ACCOUNTS
    result, text = invoke("rollback", run_dir, "--apply", "--config", "custseg.toml")
    assert result.exit_code == 0 and "Nothing to put back" in text


def test_rollback_restores_empty_fields_and_values_from_before_the_first_push(client, org, tmp_path):
    org.records["Account"][account_id(1)]["Segment__c"] = "Old"
    ids = {account_id(n): "A" for n in range(3)}
    first = push(make_run_dir(tmp_path / "one", ids), client, out_dir=tmp_path / "push")
    second = push(make_run_dir(tmp_path / "two", dict.fromkeys(ids, "B")), client, out_dir=tmp_path / "push")
    assert first.updated == second.updated == 3
    rollback = pd.read_csv(tmp_path / "push" / "rollback.csv", dtype=str, keep_default_na=False)
    assert list(rollback["Segment__c"]) == ["#N/A", "Old", "#N/A"]
    report = rollback_segments(tmp_path / "two", client, apply=True, out_dir=tmp_path / "push", retry_seconds=0)
    assert report.updated == 3 and segments(org)[:3] == ["", "Old", ""]


def test_rollback_without_a_push_is_one_line(sf_env, run_dir):
    result, text = invoke("rollback", run_dir, "--config", "custseg.toml")
    assert result.exit_code == 1 and text.strip().startswith("Error:") and "rollback.csv: file not found" in text


# -- 3. pull: missing count header, repeating locator, rows beyond the count, stale .partial ------
@pytest.mark.parametrize("header", ["", "n/a"])
def test_pull_without_a_usable_record_count(client, org, tmp_path, header, caplog):
    org.count_header = header
    report = pull_records(client, tmp_path / "s.csv", PullOptions(page_size=1000))
    assert report.rows == N_SUBSCRIPTIONS and report.page_rows == [1000, 1000, 350]
    assert "Sforce-NumberOfRecords" in caplog.text


@pytest.mark.parametrize("fault, message", [
    ("repeat_locator", r"gave the locator '1000' twice \(page 2\)"),
    ("endless_pages", rf"announced {N_SUBSCRIPTIONS} rows but sent 3000 by page 3"),
])
def test_pull_that_loops_stops_with_one_line_and_leaves_nothing(sf_env, org, fault, message):
    setattr(org, fault, True)
    result, text = invoke("pull", "-o", "s.parquet", "--page-size", "1000", "--config", "custseg.toml")
    assert result.exit_code == 1 and re.search(message, text), text
    assert len(text.strip().splitlines()) == 1 and "nothing was written" in text
    assert sorted(p.name for p in sf_env.iterdir()) == ["custseg.toml"]


def test_partial_files_of_a_killed_pull_are_removed_by_the_next(client, tmp_path):
    stale = tmp_path / ".s.parquet.partial-999999999-x1"
    stale.write_bytes(b"PAR1 half")
    live = tmp_path / f".s.parquet.partial-{os.getpid()}-x2"  # a pull still running in this process
    live.write_bytes(b"")
    pull_records(client, tmp_path / "s.parquet", PullOptions())
    assert not stale.exists() and live.exists()
    assert len(pd.read_parquet(tmp_path / "s.parquet")) == N_SUBSCRIPTIONS


# -- 4. bounded retries with backoff, reads only -------------------------------------------------
def test_reads_are_retried_with_backoff_and_logged(client, org, run_dir, caplog):
    waits = []
    client.sleep = waits.append
    org.fail("unavailable", "GET", "/sobjects/Account/describe", times=2)
    org.fail("drop", "GET", "/results")  # the page of current values
    org.fail("server_error", "GET", f"/jobs/ingest/{JOB_2}", times=3)  # polls: 3 retries are enough
    org.fail("drop_before", "GET", f"/{JOB_2}/failedResults")
    with caplog.at_level(logging.WARNING, logger="custseg._salesforce._client"):
        report = push(run_dir, client)
    assert report.updated == N_ACCOUNTS and segments(org) == WANTED[:N_ACCOUNTS]
    assert client.retries == 7 and org.ingest_count() == 1
    assert waits == [0.001, 0.002, 0.001, 0.001, 0.002, 0.004, 0.001]
    assert caplog.text.count("retry ") == 7 and "HTTP 503" in caplog.text and "ConnectionError" in caplog.text


@pytest.mark.parametrize("kind", ["unavailable", "drop"])
def test_job_creation_is_never_retried(client, org, run_dir, kind):
    org.fail(kind, "POST", "/jobs/ingest")
    with pytest.raises(DataError, match="create an update job on Account") as info:
        push(run_dir, client)
    assert "after" not in str(info.value) and "nothing was sent" in str(info.value)
    assert org.paths("POST").count("/services/data/v64.0/jobs/ingest") == 1
    assert all(job.data == "" for job in org.ingest_jobs.values())  # a job whose answer was lost got no data
    assert segments(org) == [""] * N_ACCOUNTS
    assert statuses(run_dir / "salesforce") == {"not sent": N_ACCOUNTS}


def test_retries_are_bounded(client, org, tmp_path):
    org.fail("unavailable", "GET", "/sobjects/SBQQ__Subscription__c/describe", times=10)
    with pytest.raises(DataError, match=r"describe SBQQ__Subscription__c: Salesforce answered HTTP 503 .*\(after 3 retries\)"):
        pull_records(client, tmp_path / "s.csv", PullOptions())
    assert client.retries == 3 and not org.query_jobs


# -- 5. one writer per folder --------------------------------------------------------------------
def test_push_while_the_run_folder_is_in_use_stops_with_one_line(sf_env, org, run_dir):
    with folder_lock(run_dir):  # a `custseg run -o out --overwrite` or another push
        result, text = invoke("push", run_dir, "--apply", "--config", "custseg.toml")
    assert result.exit_code == 1
    assert text.strip() == f"Error: {run_dir} is in use by another custseg process (pid {os.getpid()}) (a run writing it or a push); wait for it to finish, or use another folder"
    assert org.ingest_count() == 0 and not (run_dir / "salesforce").exists()
    result, text = invoke("push", run_dir, "--apply", "--config", "custseg.toml")
    assert result.exit_code == 0, text
    assert not list(run_dir.parent.glob(".~*.lock"))


# -- 6. disk full during the last job ------------------------------------------------------------
def test_disk_full_during_the_last_job_says_what_was_sent(sf_env, org, run_dir, monkeypatch):
    real_job, real_append, real_write = _send.run_update_job, _push.append_line, _push.write_text_atomic
    state = {"jobs": 0}

    def job_then_fill_the_disk(*args, **kwargs):
        result = real_job(*args, **kwargs)
        state["jobs"] += 1
        return result

    def full(real):
        def write(path, *args, **kwargs):
            if state["jobs"] == 2:
                raise OSError(errno.ENOSPC, "No space left on device", str(path))
            return real(path, *args, **kwargs)
        return write

    monkeypatch.setattr(_send, "run_update_job", job_then_fill_the_disk)
    monkeypatch.setattr(_push, "append_line", full(real_append))
    monkeypatch.setattr(_push, "write_text_atomic", full(real_write))
    result, text = invoke("push", run_dir, "--apply", "--batch-size", "20", "--config", "custseg.toml")
    assert result.exit_code == 1
    lines = text.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: cannot write results.csv")  # the journal, then the files
    assert "No space left on device; 40 row(s) confirmed updated, 0 refused, 0 not sent" in lines[0]
    assert segments(org) == WANTED[:N_ACCOUNTS]
    out = run_dir / "salesforce"
    assert [e["job_id"] for e in journal(out) if e.get("state") == "unknown"] == [JOB_2, JOB_3]  # recorded before its data left


# -- 7. messages ---------------------------------------------------------------------------------
@pytest.mark.parametrize("apply", [(), ("--apply",)])
def test_no_account_in_the_org_says_so(sf_env, org, run_dir, apply):
    org.records["Account"].clear()
    result, text = invoke("push", run_dir, *apply, "--config", "custseg.toml")
    assert result.exit_code == 1
    assert f"Error: none of the {N_ACCOUNTS} customer(s) has an Account in this org" in text
    assert "already" not in text and org.ingest_count() == 0


def test_id_with_the_wrong_letter_case_says_it_is_the_case(sf_env, org, tmp_path):
    good = id18("001aB0000000001")
    run = make_run_dir(tmp_path / "cased", {good.upper(): "A"})
    result, text = invoke("push", run, "--config", "custseg.toml")
    assert result.exit_code == 1
    assert f"'{good.upper()}' has the wrong letter case: its last 3 characters say it is '{good}'" in text


# -- 8. audit appended in place, stamped names to the microsecond --------------------------------
def test_audit_is_appended_in_place_and_stamps_do_not_collide(client, org, run_dir, tmp_path):
    now = datetime(2024, 5, 1, 9, 30, 0, 123456, tzinfo=timezone.utc)
    push(run_dir, client, now=now)
    path = run_dir / "salesforce" / "audit.jsonl"
    inode = path.stat().st_ino
    org.records["Account"][account_id(0)]["Segment__c"] = "Changed elsewhere"
    push(run_dir, client, now=now)
    assert path.stat().st_ino == inode and len(audit(run_dir / "salesforce")) == 2  # appended, never rewritten
    names = sorted(p.name for p in (run_dir / "salesforce").glob("rollback-*.csv"))
    assert names == ["rollback-20240501T093000.123456Z-2.csv", "rollback-20240501T093000.123456Z.csv"]
