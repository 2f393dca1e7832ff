"""Job lifecycle faults (issue 23 items 1-3): aborted and failed jobs, interrupted pushes, jobs that never end.

The fake org follows Bulk API 2.0's semantics: rows an aborted or failed job processed stay written, and
the batch in progress when a job is aborted runs to its end. Every test checks the org against the files.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from sf_helpers import invoke, push, segments, N_ACCOUNTS, SECRET, account_id, make_run_dir

from custseg._errors import DataError, Interrupted, UsageError
from custseg._salesforce import SalesforceSettings, connect, rollback_segments, settings_from_env
from custseg._locks import folder_lock
from custseg._salesforce._registry import push_folders, register_folder
from custseg._salesforce._send import terminate_as_interrupt

JOB_2 = "750I00000000000002"  # job 1 is the query of the current values
WANTED = (["Champions", "Loyal", "At risk"] * 14)[:N_ACCOUNTS]





def written(org) -> int:
    """Accounts that hold the value the push wanted: what the org says was updated."""
    return sum(a == b for a, b in zip(segments(org), WANTED))


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def statuses(out: Path) -> dict[str, int]:
    return pd.read_csv(out / "results.csv", dtype=str)["status"].value_counts().to_dict()


def assert_files_say(out: Path, updated: int, not_sent: int, failed: int = 0, unknown: int = 0) -> None:
    """results.csv, summary.json and the last audit line agree on each count."""
    expected = {k: v for k, v in {"updated": updated, "not sent": not_sent, "failed": failed, "unknown": unknown}.items() if v}
    assert statuses(out) == expected
    summary = json.loads((out / "summary.json").read_text())
    last = lines(out / "audit.jsonl")[-1]
    for record in (summary, last):
        assert (record["updated"], record["failed"], record["unknown"]) == (updated, failed, unknown)


def job_states(out: Path) -> dict[str, str]:
    """Each job's last state in jobs.jsonl."""
    return {e["job_id"]: e["state"] for e in lines(out / "jobs.jsonl") if e["event"] == "job"}


# -- 1. aborted and failed jobs: the rows they processed stay written ----------------------------
def test_job_aborted_by_an_admin_midway_records_the_rows_it_wrote(client, org, run_dir):
    org.abort_jobs, org.stop_after = True, 25
    with pytest.raises(DataError, match=rf"update job {JOB_2} ended Aborted .*25 row\(s\) confirmed updated, 0 refused, 15 not sent"):
        push(run_dir, client)
    out = run_dir / "salesforce"
    assert written(org) == 25  # the org: 25 updated; the files must say 25, not 0
    assert_files_say(out, updated=25, not_sent=15)
    results = pd.read_csv(out / "results.csv", dtype=str)
    assert set(results.loc[results["status"] == "not sent", "error_code"]) == {"JOB_ABORTED"}
    job = [e for e in lines(out / "jobs.jsonl") if e.get("state") == "Aborted"]
    assert [(e["updated"], e["failed"], e["unprocessed"]) for e in job] == [(25, 0, 15)]
    org.abort_jobs = False
    assert push(run_dir, client).to_change == 15  # the re-run sends only the rest


def test_second_job_aborted_midway_at_scale_the_files_say_what_the_org_holds(client, org, tmp_path):
    # 800 rows in jobs of 300: job 1 completes (300), an admin aborts job 2 after 200 rows, job 3 is never sent
    ids = [account_id(n) for n in range(800)]
    for record_id in ids:
        org.records["Account"].setdefault(record_id, {"Id": record_id, "Name": "Client", "Segment__c": ""})
    run = make_run_dir(tmp_path / "big", dict.fromkeys(ids, "Champions"))

    def abort_the_next_job(stage, done, total):
        if stage == "send":  # job 1 is done
            org.abort_jobs, org.stop_after = True, 200

    with pytest.raises(DataError, match=r"500 row\(s\) confirmed updated, 0 refused, 300 not sent"):
        push(run, client, batch_size=300, progress=abort_the_next_job)
    in_org = sum(org.records["Account"][i]["Segment__c"] == "Champions" for i in ids)
    assert in_org == 500  # the files say 500 too, not 300
    assert_files_say(run / "salesforce", updated=500, not_sent=300)


def test_job_that_fails_midway_records_written_refused_and_unprocessed_rows(client, org, run_dir):
    org.job_error, org.stop_after = "UNKNOWN_EXCEPTION: the org failed", 30
    org.permanent_errors[account_id(3)] = "FIELD_CUSTOM_VALIDATION_EXCEPTION:Segment locked:--"
    with pytest.raises(DataError, match=r"ended Failed \(UNKNOWN_EXCEPTION: the org failed\); 29 row\(s\) confirmed updated, "
                                        r"1 refused, 10 not sent"):
        push(run_dir, client)
    assert written(org) == 29  # 30 processed, 1 refused by the validation rule
    assert_files_say(run_dir / "salesforce", updated=29, failed=1, not_sent=10)


def test_job_custseg_aborts_after_its_close_timed_out_is_read_back(org, server, run_dir):
    # the close was done (the org started: 5 rows), its answer came too late; custseg aborts the job, which
    # finishes the batch in progress (rows 6-10) and stops: 10 written, 30 not
    org.tokens.add(SECRET)
    org.hang_seconds, org.busy_after, org.batch_rows = 1.5, 5, 10
    settings = SalesforceSettings(auth="token", instance_url=server.url, access_token=SECRET, timeout_seconds=0.5)
    client = connect(settings, poll_seconds=0)
    org.fail("timeout", "PATCH", f"/jobs/ingest/{JOB_2}")
    with pytest.raises(DataError, match=r"close job .*ReadTimeout.*10 row\(s\) confirmed updated, 0 refused, 30 not sent"):
        push(run_dir, client)
    assert org.ingest_jobs[JOB_2].state == "Aborted" and written(org) == 10
    assert_files_say(run_dir / "salesforce", updated=10, not_sent=30)
    assert job_states(run_dir / "salesforce") == {JOB_2: "Aborted"}


# -- 2. interrupted pushes: abort, read back, exit 130; the next push resolves what is left --------
def interrupt_first_wait_for_a_job(client, org) -> None:
    """Ctrl-C while custseg waits for the update job (its first wait)."""
    calls = []

    def sleep(seconds):
        if org.ingest_jobs and not calls:
            calls.append(seconds)
            raise KeyboardInterrupt

    client.poll_seconds, client.sleep = 1, sleep


def test_ctrl_c_during_a_job_aborts_it_and_records_what_it_wrote(client, org, run_dir):
    org.busy_after, org.batch_rows = 5, 10  # the job runs slowly: 5 rows done when Ctrl-C comes
    interrupt_first_wait_for_a_job(client, org)
    with pytest.raises(Interrupted, match=r"^interrupted \(any job still running was aborted and read back\); 10 row\(s\) confirmed "
                                          r"updated, 0 refused, 30 not sent") as info:
        push(run_dir, client)
    assert info.value.exit_code == 130
    out = run_dir / "salesforce"
    assert org.ingest_jobs[JOB_2].state == "Aborted" and written(org) == 10  # the batch in progress ran to its end
    assert_files_say(out, updated=10, not_sent=30)
    assert job_states(out) == {JOB_2: "Aborted"} and lines(out / "jobs.jsonl")[-1]["event"] == "finished"
    org.busy_after = None
    assert push(run_dir, client).to_change == 30


def test_cli_interrupt_exits_130_with_one_line(sf_env, org, run_dir, monkeypatch):
    (sf_env / "slow.toml").write_text("[salesforce]\npoll_seconds = 1\n", encoding="utf-8")
    org.busy_after = 5

    def interrupted(seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr(time, "sleep", lambda seconds: interrupted(seconds) if org.ingest_jobs else None)  # the client's sleep: Ctrl-C lands during the first wait
    result, text = invoke("push", run_dir, "--apply", "--config", "slow.toml")
    assert result.exit_code == 130
    assert text.strip().splitlines() == [
        "Error: interrupted (any job still running was aborted and read back); 10 row(s) confirmed updated, 0 refused, 30 not sent "
        "(jobs in jobs.jsonl); a re-run is safe: it reads the current values and sends only what still differs"]
    assert written(org) == 10


def test_sigterm_to_a_push_aborts_its_job_reads_it_back_and_exits_130(sf_env, server, org, run_dir):
    (sf_env / "slow.toml").write_text("[salesforce]\npoll_seconds = 0.2\n", encoding="utf-8")
    org.busy_after = 5
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    command = [sys.executable, "-c", "from custseg.cli import main; main()", "salesforce", "push", str(run_dir), "--apply",
               "--config", "slow.toml"]
    process = subprocess.Popen(command, cwd=sf_env, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (JOB_2 in org.ingest_jobs and org.ingest_jobs[JOB_2].polls) and time.monotonic() < deadline:
        time.sleep(0.05)  # until the push waits for its job
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert stderr.strip().startswith("Error: interrupted (any job still running was aborted and read back); 10 row(s) confirmed updated")
    assert org.ingest_jobs[JOB_2].state == "Aborted" and written(org) == 10
    assert_files_say(run_dir / "salesforce", updated=10, not_sent=30)


def test_sigterm_while_sending_is_an_interrupt():
    previous = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt), terminate_as_interrupt():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(1)  # the handler runs here
    assert signal.getsignal(signal.SIGTERM) is previous


def test_job_left_running_blocks_the_next_push_and_rollback_until_it_ends(client, org, run_dir):
    # a push gives up on a job the busy org is still running (item 3's bound); its rows are unknown
    org.busy_after, org.polls_in_progress = 5, 0  # the query of the current values ends at its first check
    client.job_timeout_seconds = 0  # one check, then give up
    with pytest.raises(DataError, match=rf"update job {JOB_2} is still InProgress after 0 minute\(s\) \(--job-timeout\), "
                                        r"5 row\(s\) processed so far; 0 row\(s\) confirmed updated, 0 refused, 40 unknown "
                                        r".*a re-run is safe: it first reads back the jobs left unknown"):
        push(run_dir, client)
    out = run_dir / "salesforce"
    assert_files_say(out, updated=0, not_sent=0, unknown=40)
    assert job_states(out) == {JOB_2: "InProgress"}

    refusal = rf"update job {JOB_2} of the push of \S+ is InProgress in Salesforce; nothing was sent: run again when it has finished"
    jobs_before = org.ingest_count()
    with pytest.raises(DataError, match=refusal):
        push(run_dir, client)
    with pytest.raises(DataError, match=refusal):
        rollback_segments(run_dir, client, apply=True, retry_seconds=0)
    assert org.ingest_count() == jobs_before and written(org) == 5  # nothing sent, nothing read as "current"

    org.finish()  # the org catches up: the job writes its 40 rows
    org.busy_after = None
    again = push(run_dir, client)
    assert again.to_change == 0 and org.ingest_count() == jobs_before and written(org) == N_ACCOUNTS
    resolved = [e for e in lines(out / "audit.jsonl") if e["event"] == "resolved"]
    assert [(r["jobs"], r["updated"]) for r in resolved] == [({JOB_2: "JobComplete"}, 40)]
    assert job_states(out) == {JOB_2: "JobComplete"}


def killed_push_journal(out: Path, job_id: str) -> None:
    """jobs.jsonl of a push killed after it created `job_id` (recorded "unknown")."""
    out.mkdir()
    (out / "jobs.jsonl").write_text(
        json.dumps({"push": "P0", "event": "started", "mode": "apply", "rows": 40}) + "\n"
        + json.dumps({"push": "P0", "event": "job", "job_id": job_id, "rows": 40, "attempt": 1, "state": "unknown"}) + "\n")


def test_job_left_open_by_a_killed_push_is_aborted_and_read_before_sending(client, org, run_dir):
    # a push killed while uploading: jobs.jsonl says the job was created ("unknown"); Salesforce holds it Open
    out = run_dir / "salesforce"
    stale = client.call(lambda sf: client.bulk2(sf, "Account").create_job("update"))["id"]
    killed_push_journal(out, stale)
    report = push(run_dir, client)
    assert org.ingest_jobs[stale].state == "Aborted"  # aborted before anything else: it can never run
    assert report.updated == N_ACCOUNTS and written(org) == N_ACCOUNTS
    events = [e["event"] for e in lines(out / "audit.jsonl")]
    assert events == ["resolved", "interrupted", "push"]
    assert job_states(out)[stale] == "Aborted"


def test_job_salesforce_no_longer_knows_does_not_block_and_one_it_cannot_read_does(client, org, run_dir):
    out = run_dir / "salesforce"
    killed_push_journal(out, "750I00000000000099")  # deleted by Salesforce (7 days after it ended): 404
    org.fail("unavailable", "GET", "/jobs/ingest/750I00000000000099", times=100)
    with pytest.raises(DataError, match=r"^update job 750I00000000000099 of the push of P0 cannot be read back from Salesforce "
                                        r"now; nothing was sent: run again later$"):
        push(run_dir, client)
    assert org.ingest_count() == 0
    org.faults = []
    assert push(run_dir, client).updated == N_ACCOUNTS
    assert job_states(out)["750I00000000000099"] == "Gone"



# -- 2. jobs left open by a push from another folder: the same run into another -o, or another run -----
def test_job_left_running_by_a_push_into_another_folder_blocks_then_is_resolved_there(client, org, run_dir, tmp_path):
    # the same run pushed into folder A gives up on a job the busy org is still running
    org.busy_after, org.polls_in_progress = 5, 0
    client.job_timeout_seconds = 0
    folder_a, folder_b = tmp_path / "push-a", tmp_path / "push-b"
    with pytest.raises(DataError, match=rf"update job {JOB_2} is still InProgress"):
        push(run_dir, client, out_dir=folder_a)
    jobs_before = org.ingest_count()
    # into folder B: A's job could still overwrite what B would read as current, so nothing is read or sent
    with pytest.raises(DataError, match=rf"^{re.escape(str(folder_a.resolve()))}: update job {JOB_2} of the push of \S+ is "
                                        r"InProgress in Salesforce; nothing was sent: run again when it has finished"):
        push(run_dir, client, out_dir=folder_b)
    assert org.ingest_count() == jobs_before and written(org) == 5
    assert not (folder_b / "rollback.csv").exists()

    org.finish()  # A's job writes its 40 rows
    org.busy_after = None
    again = push(run_dir, client, out_dir=folder_b)
    assert again.to_change == 0 and org.ingest_count() == jobs_before and written(org) == N_ACCOUNTS
    # A's own files now say what its job did; B's audit has no line about A's job
    assert job_states(folder_a) == {JOB_2: "JobComplete"}
    resolved = [e for e in lines(folder_a / "audit.jsonl") if e["event"] == "resolved"]
    assert [(r["jobs"], r["updated"], r["by"]) for r in resolved] == [({JOB_2: "JobComplete"}, 40, str(folder_b.resolve()))]
    assert [e["event"] for e in lines(folder_b / "audit.jsonl")] == ["push"]


def test_job_left_open_by_a_killed_push_of_another_run_is_aborted_before_this_run_sends(client, org, run_dir, tmp_path):
    # run 1 was pushed into its default folder and killed while uploading: Salesforce holds its job Open
    stale = client.call(lambda sf: client.bulk2(sf, "Account").create_job("update"))["id"]
    killed = run_dir / "salesforce"
    killed_push_journal(killed, stale)
    register_folder(client.settings.state_dir, client.instance_host, "Account", run_dir, killed)
    # run 2 pushes the same field
    other_run = make_run_dir(tmp_path / "run-2024", {account_id(n): WANTED[n] for n in range(N_ACCOUNTS)})
    report = push(other_run, client)
    assert org.ingest_jobs[stale].state == "Aborted"  # aborted before run 2 read anything: it can never run
    assert report.updated == N_ACCOUNTS and written(org) == N_ACCOUNTS
    assert job_states(killed)[stale] == "Aborted"
    assert [e["event"] for e in lines(killed / "audit.jsonl")] == ["resolved", "interrupted"]
    assert [e["event"] for e in lines(other_run / "salesforce" / "audit.jsonl")] == ["push"]


def test_a_push_folder_in_use_with_a_job_not_ended_stops_a_push_from_elsewhere(client, org, run_dir, tmp_path):
    folder = tmp_path / "push-a"
    killed_push_journal(folder, "750I00000000000077")
    register_folder(client.settings.state_dir, client.instance_host, "Account", run_dir, folder)
    other_run = make_run_dir(tmp_path / "run-2024", {account_id(n): WANTED[n] for n in range(N_ACCOUNTS)})
    with folder_lock(run_dir):  # the push from folder A is sending now
        with pytest.raises(DataError, match=rf"^{re.escape(str(folder.resolve()))} has update job\(s\) 750I00000000000077 on "
                                            r"Account and is in use by another custseg process \(a push or rollback sending "
                                            r"now\); nothing was sent: run again when it has finished$"):
            push(other_run, client)
    assert org.ingest_count() == 0
    # another org, or another object, is not this push's business
    assert push_folders(client.settings.state_dir, "other.my.salesforce.com", "Account", "jobs.jsonl") == []
    assert push_folders(client.settings.state_dir, client.instance_host, "Contact", "jobs.jsonl") == []


def test_push_folders_are_listed_once_and_gone_ones_are_skipped(tmp_path):
    state, run = tmp_path / "state", tmp_path / "run"
    for folder in ("a", "b", "a"):
        (tmp_path / folder).mkdir(exist_ok=True)
        (tmp_path / folder / "jobs.jsonl").write_text("")
        register_folder(state, "acme.my.salesforce.com", "Account", run, tmp_path / folder)
    assert len((state / "push_folders.jsonl").read_text().splitlines()) == 2
    (tmp_path / "b" / "jobs.jsonl").unlink()
    assert push_folders(state, "acme.my.salesforce.com", "Account", "jobs.jsonl") == [(run.resolve(), (tmp_path / "a").resolve())]


def test_state_dir_setting(monkeypatch, tmp_path):
    env = {"SF_INSTANCE_URL": "https://acme.my.salesforce.com", "SF_ACCESS_TOKEN": "00D!abc"}
    monkeypatch.setenv("CUSTSEG_STATE_DIR", str(tmp_path / "s1"))
    assert settings_from_env(environ=env).state_dir == str(tmp_path / "s1")
    assert settings_from_env({"salesforce": {"state_dir": "/srv/custseg"}}, environ=env).state_dir == "/srv/custseg"
    monkeypatch.delenv("CUSTSEG_STATE_DIR")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert settings_from_env(environ=env).state_dir == str(tmp_path / "xdg" / "custseg")

# -- 3. bounded waiting: backoff, --job-timeout, query jobs too ---------------------------------------
def test_waits_double_up_to_30_seconds_and_stop_at_the_job_timeout(client, org, run_dir):
    org.busy_after, org.polls_in_progress = 0, 0
    waits: list[float] = []
    client.poll_seconds, client.sleep, client.job_timeout_seconds = 1, waits.append, 60
    with pytest.raises(DataError, match=r"still InProgress after 1 minute\(s\) \(--job-timeout\), 0 row\(s\) processed so far"):
        push(run_dir, client)
    # the query of the current values: 1 s; the update job: 61 s waited >= 60 s, stop (then a few checks reading it back)
    assert waits[:7] == [1, 1, 2, 4, 8, 16, 30] and len(waits) <= 7 + 10


def test_pull_query_job_that_never_ends_stops_with_one_line(sf_env, org, monkeypatch):
    (sf_env / "slow.toml").write_text("[salesforce]\npoll_seconds = 1\n", encoding="utf-8")
    org.query_busy = True
    waits: list[float] = []
    monkeypatch.setattr(time, "sleep", waits.append)
    result, text = invoke("pull", "-o", "s.csv", "--job-timeout", "0.05", "--config", "slow.toml")  # 3 s
    assert result.exit_code == 1 and waits == [1, 2]
    job_id = next(iter(org.query_jobs))
    assert text.strip().splitlines() == [
        f"Error: query job {job_id} is still InProgress after 0.05 minute(s) (--job-timeout), 2,350 row(s) processed so far; "
        "custseg aborted it and nothing was written: run again later (the org is busy), or raise --job-timeout"]
    assert org.query_jobs[job_id].aborted and not (sf_env / "s.csv").exists()


def test_job_timeout_setting(monkeypatch):
    env = {"SF_INSTANCE_URL": "https://acme.my.salesforce.com", "SF_ACCESS_TOKEN": "00D!abc"}
    assert settings_from_env(environ=env).job_timeout_minutes == 30
    assert settings_from_env({"salesforce": {"job_timeout_minutes": 5}}, environ=env).job_timeout_minutes == 5
    with pytest.raises(UsageError, match=r"job timeout must be > 0 minutes \(--job-timeout, job_timeout_minutes\); got 0"):
        settings_from_env({"salesforce": {"job_timeout_minutes": 0}}, environ=env)
