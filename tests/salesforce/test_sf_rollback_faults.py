"""Faults of issue 23, items 7 and 8: lost updates at rollback, an org that rewrites values, and leftovers.

The org's values, the files and the exit code must agree in each scenario.
"""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pandas as pd
import pytest
from sf_helpers import invoke, segments, N_ACCOUNTS, SEGMENT_ONLY, account_id, make_run_dir

from custseg._errors import DataError
from custseg._salesforce import PullOptions, pull_records, push_segments, rollback_segments
from custseg._salesforce import _push

JOB_2 = "750I00000000000002"  # job 1 is the query of the current values
WANTED = (["Champions", "Loyal", "At risk"] * 14)[:N_ACCOUNTS]  # make_run_dir's run_dir: account n is names[n % 3]



def push(run_dir, client, **kwargs):
    kwargs.setdefault("retry_seconds", 0)
    kwargs.setdefault("fields", SEGMENT_ONLY)
    return push_segments(run_dir, client, apply=True, **kwargs)



def audit(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "audit.jsonl").read_text().splitlines()]


def errors(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("Error:")]


# -- 7. rollback and lost updates -------------------------------------------------------------
def test_rollback_leaves_records_changed_since_the_push_unless_forced(sf_env, org, run_dir):
    org.records["Account"][account_id(1)]["Segment__c"] = "Old"
    result, text = invoke("push", run_dir, "--apply", "--config", "custseg.toml")
    assert result.exit_code == 0, text
    org.records["Account"][account_id(0)]["Segment__c"] = "Edited by sales"  # someone else, after the push
    org.records["Account"][account_id(3)]["Segment__c"] = "Other"
    org.records["Account"][account_id(6)]["Segment__c"] = ""  # as the rollback would set it: only its other fields are put back

    result, text = invoke("rollback", run_dir, "--config", "custseg.toml")  # the dry run says it too
    assert result.exit_code == 1 and "2 record(s) changed since custseg wrote them" in text and "would be left" in text
    result, text = invoke("rollback", run_dir, "--apply", "--config", "custseg.toml")
    assert result.exit_code == 1, text
    out = run_dir / "salesforce"
    assert errors(text) == [f"Error: 2 record(s) changed since custseg wrote them (by someone else or a later push) are left "
                            f"as they are (see {out / 'undo_changed_since.csv'}); --force puts them back too."]
    assert "Done: 38 record(s) put back" in text
    # 0 and 3 are left; 1 gets 'Old' back, the others their empty value
    assert segments(org) == ["Edited by sales", "Old", "", "Other"] + [""] * (N_ACCOUNTS - 4)
    assert org.records["Account"][account_id(6)]["Segment_Id__c"] == ""  # its id, action and date put back too
    changed = pd.read_csv(out / "undo_changed_since.csv", dtype=str, keep_default_na=False)
    assert changed.values.tolist() == [[account_id(0), "Segment__c", "Champions", "Edited by sales", ""],
                                       [account_id(3), "Segment__c", "Champions", "Other", ""]]
    assert audit(out)[-1]["changed_since"] == 2 and audit(out)[-1]["updated"] == 38

    result, text = invoke("rollback", run_dir, "--apply", "--force", "--config", "custseg.toml")
    assert result.exit_code == 0, text
    assert "Warning: 2 record(s) changed since custseg wrote them are put back anyway (--force" in " ".join(text.split())
    assert segments(org) == ["", "Old"] + [""] * (N_ACCOUNTS - 2)


def test_a_later_push_to_another_folder_counts_as_a_change(client, org, tmp_path):
    ids = {account_id(n): "A" for n in range(3)}
    push(make_run_dir(tmp_path / "one", ids), client, out_dir=tmp_path / "push-one")
    push(make_run_dir(tmp_path / "two", dict.fromkeys(ids, "B")), client, out_dir=tmp_path / "push-two")
    report = rollback_segments(tmp_path / "one", client, apply=True, out_dir=tmp_path / "push-one", retry_seconds=0)
    assert (report.changed_since, report.to_change, report.updated) == (3, 0, 0)
    assert segments(org)[:3] == ["B", "B", "B"]  # the later push's values stay
    # the same later push to the same folder is custseg's own write: the rollback puts the first values back
    push(make_run_dir(tmp_path / "three", dict.fromkeys(ids, "C")), client, out_dir=tmp_path / "push-one")
    report = rollback_segments(tmp_path / "one", client, apply=True, out_dir=tmp_path / "push-one", retry_seconds=0)
    assert (report.changed_since, report.updated) == (0, 3) and segments(org)[:3] == ["", "", ""]


def test_an_org_that_rewrites_values_on_update_is_not_resent(sf_env, org, run_dir):
    org.rewrite_on_update = {"Segment__c": str.upper}  # a flow uppercasing the segment name
    result, text = invoke("push", run_dir, "--apply", "--config", "custseg.toml")
    assert result.exit_code == 0, text
    assert segments(org) == [name.upper() for name in WANTED]
    # said once: 40 values, 14 Champions, 13 Loyal, 13 At risk (accounts n % 3 = 0, 1, 2)
    assert text.count("the org rewrites") == 1
    assert ("Note: the org rewrites 40 value(s) on update (a flow or trigger): Segment__c 'Champions' -> 'CHAMPIONS' (14), "
            "Segment__c 'At risk' -> 'AT RISK' (13), Segment__c 'Loyal' -> 'LOYAL' (13)") in " ".join(text.split())
    out = run_dir / "salesforce"
    written = pd.read_csv(out / "written.csv", dtype=str, keep_default_na=False)
    assert written.iloc[0].tolist() == [account_id(0), "Segment__c", "Champions", "CHAMPIONS"]
    assert audit(out)[-1]["rewritten"] == 40

    jobs = org.ingest_count()
    result, text = invoke("push", run_dir, "--apply", "--config", "custseg.toml")
    assert result.exit_code == 0 and "Nothing to send" in text and "the org rewrites" not in text, text
    assert org.ingest_count() == jobs and audit(out)[-1]["to_change"] == 0

    # the rollback finds what custseg wrote (as the org stores it) and puts the empty values back
    result, text = invoke("rollback", run_dir, "--apply", "--config", "custseg.toml")
    assert result.exit_code == 0 and f"Done: {N_ACCOUNTS} record(s) put back" in text, text
    assert segments(org) == [""] * N_ACCOUNTS


def test_a_changed_record_is_still_resent_when_the_org_rewrites(client, org, run_dir):
    org.rewrite_on_update = {"Segment__c": str.upper}
    push(run_dir, client)
    org.records["Account"][account_id(4)]["Segment__c"] = "Someone else"
    again = push(run_dir, client)
    assert (again.to_change, again.updated, again.rewritten) == (1, 1, 1)
    assert segments(org)[4] == "LOYAL"


def test_a_read_back_that_fails_records_the_values_as_sent(client, org, run_dir, caplog):
    org.rewrite_on_update = {"Segment__c": str.upper}
    org.fail("server_error", "POST", "/jobs/query", nth=2)  # the read-back after the jobs (1: the current values)
    report = push(run_dir, client)
    assert (report.updated, report.rewritten) == (N_ACCOUNTS, 0) and "cannot read back" in caplog.text
    written = pd.read_csv(run_dir / "salesforce" / "written.csv", dtype=str, keep_default_na=False)
    assert (written["sent"] == written["stored"]).all()
    again = push(run_dir, client)  # the org's uppercase values differ from the record: resent once, read back this time
    assert (again.to_change, again.rewritten) == (N_ACCOUNTS, N_ACCOUNTS)
    assert push(run_dir, client).to_change == 0


# -- 8. leftovers ----------------------------------------------------------------------------
def test_a_push_whose_files_could_not_be_written_gets_its_audit_line_next_time(sf_env, org, run_dir, monkeypatch):
    real = _push.write_text_atomic

    def full_disk(path, *args, **kwargs):
        if Path(path).name == "results.csv":
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(_push, "write_text_atomic", full_disk)
    result, text = invoke("push", run_dir, "--apply", "--config", "custseg.toml")
    assert result.exit_code == 1 and "cannot write results.csv" in text and "40 row(s) confirmed updated" in text
    out = run_dir / "salesforce"
    assert not (out / "audit.jsonl").exists()
    monkeypatch.setattr(_push, "write_text_atomic", real)

    result, text = invoke("push", run_dir, "--config", "custseg.toml")  # the next command: a dry run
    assert result.exit_code == 0, text
    first, second = audit(out)
    assert (first["event"], first["updated"], first["failed"], first["jobs"]) == ("interrupted", N_ACCOUNTS, 0, [JOB_2])
    assert "could not be written" in first["error"] and second["mode"] == "dry-run"
    invoke("push", run_dir, "--config", "custseg.toml")
    assert len(audit(out)) == 3  # given once


def test_a_push_whose_last_journal_line_was_lost_is_not_audited_twice(sf_env, org, run_dir, monkeypatch):
    real = _push.append_line

    def full_disk(path, text, *args, **kwargs):
        if Path(path).name == "jobs.jsonl" and '"finished"' in text:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(path, text, *args, **kwargs)

    monkeypatch.setattr(_push, "append_line", full_disk)
    result, text = invoke("push", run_dir, "--apply", "--config", "custseg.toml")
    assert result.exit_code == 1 and "cannot write jobs.jsonl" in text
    monkeypatch.setattr(_push, "append_line", real)
    result, text = invoke("push", run_dir, "--config", "custseg.toml")
    assert [e["event"] for e in audit(run_dir / "salesforce")] == ["push", "push"]


def test_accounts_not_found_exit_non_zero_with_the_count(sf_env, org, tmp_path):
    for n in range(36, N_ACCOUNTS):
        del org.records["Account"][account_id(n)]
    run = make_run_dir(tmp_path / "big", {account_id(n): "A" for n in range(300)})
    out = run / "salesforce"
    expected = (f"Error: 264 of 300 customer(s) have no Account visible to this user: deleted, merged or not shared "
                f"(see {out / 'not_found.csv'}).")
    result, text = invoke("push", run, "--config", "custseg.toml")
    assert result.exit_code == 1 and errors(text) == [expected], text
    result, text = invoke("push", run, "--apply", "--config", "custseg.toml")
    assert result.exit_code == 1 and errors(text) == [expected] and "Done: 36 record(s) updated" in text
    assert len(pd.read_csv(out / "not_found.csv")) == 264 and audit(out)[-1]["not_found"] == 264


def test_a_zero_row_result_with_an_empty_body_is_zero_rows(client, org, run_dir, tmp_path):
    org.empty_zero_pages = True
    report = pull_records(client, tmp_path / "none.csv", PullOptions().with_window(year=2030))
    assert (report.rows, report.server_rows) == (0, 0)
    assert (tmp_path / "none.csv").read_text().startswith("Name,")
    org.permanent_errors = {account_id(n): "ENTITY_IS_DELETED:entity is deleted:--" for n in range(N_ACCOUNTS)}
    report = push(run_dir, client)  # successfulResults and unprocessedrecords: 0 rows, empty body
    assert (report.updated, report.failed) == (0, N_ACCOUNTS)
    org.permanent_errors = {}
    report = push(run_dir, client)  # failedResults: 0 rows, empty body
    assert (report.updated, report.failed) == (N_ACCOUNTS, 0)
    org.records["Account"].clear()  # the current values: 0 rows, empty body
    assert push_segments(run_dir, client, fields=SEGMENT_ONLY).not_found == N_ACCOUNTS


def test_no_ordered_dict_in_messages(sf_env, org, run_dir):
    org.fail_without_message = True  # a failed job without errorMessage: simple-salesforce printed its OrderedDict
    result, text = invoke("push", run_dir, "--apply", "--config", "custseg.toml")
    assert result.exit_code == 1 and len(errors(text)) == 1, text
    assert "OrderedDict" not in text and "ended Failed (no message)" in text
    assert "OrderedDict" not in (run_dir / "salesforce" / "audit.jsonl").read_text()


@pytest.mark.parametrize("args, code", [
    (("rollback", "{run}"), 1),                           # DataError: nothing was pushed
    (("push", "{run}", "--offline", "--apply"), 2),      # UsageError
])
def test_debug_shows_the_traceback_and_keeps_the_exit_code(sf_env, run_dir, args, code):
    result, text = invoke(*[a.format(run=run_dir) for a in args], "--debug")
    assert result.exit_code == code
    assert "Traceback (most recent call last)" in text and len(errors(text)) == 1


def test_a_row_the_rollback_could_not_write_is_put_back_by_the_next(client, org, run_dir):
    push(run_dir, client)
    org.permanent_errors = {account_id(2): "FIELD_CUSTOM_VALIDATION_EXCEPTION:locked:--"}
    report = rollback_segments(run_dir, client, apply=True, retry_seconds=0)
    assert (report.updated, report.failed, report.changed_since) == (N_ACCOUNTS - 1, 1, 0)
    assert segments(org)[2] == "At risk"
    org.permanent_errors = {}
    report = rollback_segments(run_dir, client, apply=True, retry_seconds=0)  # still holds what custseg wrote
    assert (report.updated, report.changed_since) == (1, 0) and segments(org) == [""] * N_ACCOUNTS
