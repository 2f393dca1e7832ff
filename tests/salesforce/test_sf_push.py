"""Push: preflight, diff, dry run, apply with per-row results, retries, re-runs."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from fake_salesforce import describe_field
from sf_helpers import N_ACCOUNTS, SECRET, SEGMENT_ONLY, account_id, action_of, build_org, make_run_dir

from custseg._errors import DataError, UsageError
from custseg._salesforce import PushFields, push_segments, write_offline
from custseg._salesforce._push import read_assignments
from custseg._salesforce._soql import id18

ALL_FIELDS = PushFields(score="Segment_Score__c", date="Segment_Date__c", model="Segment_Model__c")


def push(run_dir, client, **kwargs):
    """A push of the segment's name alone (the mechanics); the default fields are tested on their own."""
    kwargs.setdefault("retry_seconds", 0)
    kwargs.setdefault("fields", SEGMENT_ONLY)
    return push_segments(run_dir, client, **kwargs)


def uploaded_rows(org) -> int:
    return sum(len(job.data.strip().splitlines()) - 1 for job in org.ingest_jobs.values())


def segment_of(org, n: int) -> str:
    return org.records["Account"][account_id(n)].get("Segment__c", "")


def test_dry_run_sends_nothing_and_writes_the_csv(client, org, run_dir):
    org.records["Account"][account_id(0)]["Segment__c"] = "Champions"  # already right
    report = push(run_dir, client)
    assert report.mode == "dry-run"
    assert org.ingest_count() == 0 and not org.paths("PUT") and not org.paths("PATCH")
    assert (report.customers, report.unchanged, report.to_change, report.not_found) == (N_ACCOUNTS, 1, N_ACCOUNTS - 1, 0)
    out = run_dir / "salesforce"
    to_send = pd.read_csv(out / "to_send.csv", dtype=str)
    assert list(to_send.columns) == ["Id", "Segment__c"]
    assert len(to_send) == N_ACCOUNTS - 1 and account_id(0) not in set(to_send["Id"])
    diff = pd.read_csv(out / "diff.csv", dtype=str, keep_default_na=False)
    assert list(diff.columns) == ["Id", "field", "from", "to"]
    assert set(diff["from"]) == {""}
    assert {t["to"]: t["count"] for t in report.transitions} == {"Champions": 13, "Loyal": 13, "At risk": 13}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["to_change"] == N_ACCOUNTS - 1 and summary["mode"] == "dry-run"
    audit = [json.loads(line) for line in (out / "audit.jsonl").read_text().splitlines()]
    assert audit[-1]["mode"] == "dry-run" and audit[-1]["jobs"] == []
    assert not (out / "results.csv").exists() and not (out / "rollback.csv").exists()
    assert all(segment_of(org, n) in ("", "Champions") for n in range(N_ACCOUNTS))


def test_apply_changes_only_differing_rows_then_second_push_sends_nothing(client, org, run_dir, tmp_path):
    org.records["Account"][account_id(0)]["Segment__c"] = "Champions"
    org.records["Account"][account_id(1)]["Segment__c"] = "Old name"
    report = push(run_dir, client, apply=True, out_dir=tmp_path / "push")
    assert report.to_change == N_ACCOUNTS - 1 and report.updated == N_ACCOUNTS - 1 and report.failed == 0
    assert uploaded_rows(org) == N_ACCOUNTS - 1
    assert [segment_of(org, n) for n in range(3)] == ["Champions", "Loyal", "At risk"]
    assert {"from": "Old name", "to": "Loyal", "count": 1} in report.transitions
    rollback = pd.read_csv(tmp_path / "push" / "rollback.csv", dtype=str, keep_default_na=False)
    assert dict(zip(rollback["Id"], rollback["Segment__c"]))[account_id(1)] == "Old name"
    assert dict(zip(rollback["Id"], rollback["Segment__c"]))[account_id(2)] == "#N/A"  # was empty: Bulk API null
    results = pd.read_csv(tmp_path / "push" / "results.csv", dtype=str)
    assert set(results["status"]) == {"updated"}
    assert pd.read_csv(tmp_path / "push" / "failures.csv").empty

    jobs_before = org.ingest_count()
    again = push(run_dir, client, apply=True, out_dir=tmp_path / "push")
    assert again.to_change == 0 and again.unchanged == N_ACCOUNTS
    assert org.ingest_count() == jobs_before
    audit = (tmp_path / "push" / "audit.jsonl").read_text().splitlines()
    assert len(audit) == 2 and json.loads(audit[1])["to_change"] == 0


def test_jobs_of_batch_size(client, org, run_dir):
    report = push(run_dir, client, apply=True, batch_size=15)
    assert len(report.jobs) == 3 and org.ingest_count() == 3
    assert report.updated == N_ACCOUNTS


def test_transient_lock_errors_are_retried_with_backoff_and_permanent_errors_reported(client, org, run_dir):
    org.lock_once = {account_id(3), account_id(4)}
    org.permanent_errors = {account_id(5): "FIELD_CUSTOM_VALIDATION_EXCEPTION:Segment locked by finance:--",
                            account_id(6): "ENTITY_IS_DELETED:entity is deleted:--"}
    sleeps = []
    report = push(run_dir, client, apply=True, retry_seconds=1.5, sleep=sleeps.append)
    assert sleeps == [1.5]
    assert report.retried == 2 and report.failed == 2 and report.updated == N_ACCOUNTS - 2
    assert segment_of(org, 3) == "Champions" and segment_of(org, 5) == ""
    out = run_dir / "salesforce"
    failures = pd.read_csv(out / "failures.csv", dtype=str)
    assert list(failures.columns) == ["Id", "error_code", "error", "job_id", "Segment__c"]
    assert dict(zip(failures["Id"], failures["error_code"])) == {account_id(5): "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                                                                 account_id(6): "ENTITY_IS_DELETED"}
    assert "Segment locked by finance" in failures.loc[failures["Id"] == account_id(5), "error"].iloc[0]
    results = pd.read_csv(out / "results.csv", dtype=str)
    assert results.loc[results["Id"] == account_id(3), "attempts"].iloc[0] == "2"

    # a re-run sends only what is still different
    org.permanent_errors = {}
    before = uploaded_rows(org)
    again = push(run_dir, client, apply=True)
    assert again.to_change == 2 and again.updated == 2 and again.failed == 0
    assert uploaded_rows(org) - before == 2


def test_rows_still_locked_after_the_retries_are_failures(client, org, run_dir):
    org.always_lock = {account_id(7)}
    sleeps = []
    report = push_segments(run_dir, client, apply=True, max_retries=2, retry_seconds=1, sleep=sleeps.append)
    assert sleeps == [1, 2]
    assert report.failed == 1
    failures = pd.read_csv(run_dir / "salesforce" / "failures.csv", dtype=str)
    assert list(failures["error_code"]) == ["UNABLE_TO_LOCK_ROW"]


def test_expired_session_in_the_middle_is_reestablished_without_resending(login_client, org, run_dir):
    org.fail("expire", "PUT", "/batches", nth=2)  # the upload of the second job
    report = push(run_dir, login_client, apply=True, batch_size=25)
    assert login_client.reconnects == 1 and org.issued == 2
    assert report.updated == N_ACCOUNTS and report.failed == 0
    assert uploaded_rows(org) == N_ACCOUNTS  # nothing sent twice
    assert org.ingest_count() == 2


def test_expired_session_while_polling_keeps_the_same_job(login_client, org, run_dir):
    org.fail("expire", "GET", "/jobs/ingest/" + "750I00000000000002")  # first poll of the ingest job
    report = push(run_dir, login_client, apply=True)
    assert login_client.reconnects == 1
    assert org.ingest_count() == 1 and uploaded_rows(org) == N_ACCOUNTS
    assert report.updated == N_ACCOUNTS


def test_request_limit_in_the_middle_stops_with_partial_results_recorded(client, org, run_dir):
    org.fail("refuse", "PUT", "/batches", nth=2)  # the upload of the second job
    with pytest.raises(DataError, match="REQUEST_LIMIT_EXCEEDED"):
        push(run_dir, client, apply=True, batch_size=20)
    out = run_dir / "salesforce"
    results = pd.read_csv(out / "results.csv", dtype=str)
    assert (results["status"] == "updated").sum() == 20 and (results["status"] == "not sent").sum() == 20
    audit = json.loads((out / "audit.jsonl").read_text().splitlines()[-1])
    assert "REQUEST_LIMIT_EXCEEDED" in audit["error"] and audit["updated"] == 20
    # the next run sends only the rest
    org.faults = []
    again = push(run_dir, client, apply=True)
    assert again.to_change == 20 and again.updated == 20


@pytest.mark.parametrize("fields, message", [
    ([describe_field("Segment_Score__c", "double")], r"Account field\(s\) Segment__c do not exist or are hidden"),
    ([describe_field("Segment__c", "string", updateable=False, length=80)], r"Segment__c are not editable by this user"),
    ([describe_field("Segment__c", "date")], r"Segment__c is of type date, expected"),
])
def test_preflight_stops_before_sending_and_tells_the_admin_what_to_do(client_for, fields, message, tmp_path):
    org = build_org(account_fields=fields)
    client = client_for(org)
    run_dir = make_run_dir(tmp_path / "out", {account_id(n): "A" for n in range(3)})
    with pytest.raises(DataError, match=message) as info:
        push(run_dir, client, apply=True)
    text = str(info.value)
    assert "Nothing was sent" in text and "custseg salesforce fields" in text and "page layout" in text
    assert not org.query_jobs and not org.ingest_jobs


def test_optional_score_date_model_fields(client, org, run_dir):
    report = push(run_dir, client, fields=ALL_FIELDS, apply=True)
    assert report.updated == N_ACCOUNTS
    record = org.records["Account"][account_id(2)]
    assert record["Segment_Score__c"] == "0.5020"
    assert record["Segment_Date__c"] == "2024-05-01"
    assert record["Segment_Model__c"].startswith("custseg:")
    # the org stores 0.502 for the number: still the same value, nothing to send
    record["Segment_Score__c"] = "0.502"
    again = push(run_dir, client, fields=ALL_FIELDS, apply=True)
    assert again.to_change == 0


def test_restricted_picklist_missing_a_value(client_for, tmp_path):
    org = build_org(account_fields=[describe_field("Segment__c", "picklist", picklist=["Champions", "Loyal"])])
    client = client_for(org)
    run_dir = make_run_dir(tmp_path / "out", {account_id(0): "Champions", account_id(1): "At risk"})
    with pytest.raises(DataError, match="restricted picklist without the value.*'At risk'"):
        push(run_dir, client)
    assert not org.ingest_jobs


def test_unknown_accounts_are_counted_and_listed(client, org, run_dir):
    del org.records["Account"][account_id(9)]
    report = push(run_dir, client, apply=True)
    assert report.not_found == 1 and report.failed == 0 and report.updated == N_ACCOUNTS - 1
    listed = pd.read_csv(run_dir / "salesforce" / "not_found.csv", dtype=str)
    assert list(listed["Id"]) == [account_id(9)]


def test_large_pushes_read_the_whole_table_instead_of_an_in_clause(client, org, run_dir, monkeypatch):
    monkeypatch.setattr("custseg._salesforce._push.IN_CLAUSE_MAX_IDS", 10)
    report = push(run_dir, client)
    assert report.to_change == N_ACCOUNTS
    soql = next(iter(org.query_jobs.values())).soql
    assert soql == "SELECT Id, Segment__c FROM Account"


def test_fifteen_character_ids_are_accepted(client, org, tmp_path):
    run_dir = make_run_dir(tmp_path / "out", {account_id(n)[:15]: "A" for n in range(4)})
    report = push(run_dir, client, apply=True)
    assert report.updated == 4 and segment_of(org, 3) == "A"


@pytest.mark.parametrize("bad", ["001-not-an-id", "001000000000001XYZ", "", "ABC"])
def test_bad_ids_name_the_file_column_and_value(tmp_path, bad):
    run_dir = make_run_dir(tmp_path / "out", {account_id(1): "A", bad: "B"})
    with pytest.raises(DataError, match=rf"assignments.parquet, column customer_id: '{bad}' is not a (valid )?Salesforce Id"):
        read_assignments(run_dir, PushFields())


def test_ids_of_another_object_are_refused(client, org, tmp_path):
    other = id18("a1X000000000001")
    run_dir = make_run_dir(tmp_path / "out", {account_id(1): "A", other: "B"})
    with pytest.raises(DataError, match=f"'{other}' is not an Account Id .*start with 001"):
        push(run_dir, client)


def test_missing_run_directory_files(tmp_path, client):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="assignments.parquet: file not found"):
        push(tmp_path / "empty", client)


def test_csv_outputs_are_neutralised(client, org, tmp_path):
    run_dir = make_run_dir(tmp_path / "out", {account_id(0): "=HYPERLINK(\"x\")", account_id(1): "+Loyal"}, distance=-0.25)
    push(run_dir, client, fields=PushFields(score="Segment_Score__c"), apply=True)
    text = (run_dir / "salesforce" / "to_send.csv").read_text()
    assert "'=HYPERLINK" in text and "'+Loyal" in text
    assert ",-0.2500\n" in text  # a number stays a number for Data Loader
    assert segment_of(org, 0) == '=HYPERLINK("x")'  # the API gets the real value


def test_no_secret_in_any_output_file(client, org, run_dir):
    org.permanent_errors = {account_id(5): "FIELD_CUSTOM_VALIDATION_EXCEPTION:nope:--"}
    push(run_dir, client, apply=True)
    for path in (run_dir / "salesforce").iterdir():
        assert SECRET not in path.read_text(), path.name
    assert SECRET in org.auth_headers  # it was really used


def test_a_failed_job_stops_the_push_and_records_it(client, org, run_dir):
    org.job_error = "InvalidBatch : Field name not found : Segment__c"
    with pytest.raises(DataError, match="update job .*Field name not found : Segment__c"):
        push(run_dir, client, apply=True)
    out = run_dir / "salesforce"
    results = pd.read_csv(out / "results.csv", dtype=str)
    assert set(results["status"]) == {"not sent"}
    audit = json.loads((out / "audit.jsonl").read_text().splitlines()[-1])
    assert "Field name not found" in audit["error"] and audit["updated"] == 0
    assert (out / "rollback.csv").is_file()


def test_a_server_error_is_one_line_and_a_rerun_finishes(client, org, run_dir):
    org.fail("server_error", "GET", "/successfulResults", times=4)  # more than the 3 retries of a read
    with pytest.raises(DataError, match="HTTP 500 .*UNKNOWN_EXCEPTION"):
        push(run_dir, client, apply=True)
    again = push(run_dir, client, apply=True)  # the job had been processed: nothing left to send
    assert again.to_change == 0 and again.unchanged == N_ACCOUNTS


def test_the_default_fields_are_the_name_id_action_and_run_date(client, org, run_dir):
    report = push_segments(run_dir, client, apply=True, retry_seconds=0)
    assert report.fields == {"segment": "Segment__c", "segment_id": "Segment_Id__c", "action": "Segment_Action__c",
                             "date": "Segment_Date__c"}
    # make_run_dir numbers the names alphabetically: At risk 1, Champions 2, Loyal 3; account n is names[n % 3]
    record = org.records["Account"][account_id(4)]  # 4 % 3 = 1: Loyal
    assert (record["Segment__c"], record["Segment_Id__c"], record["Segment_Action__c"], record["Segment_Date__c"]) == (
        "Loyal", "3", action_of("Loyal"), "2024-05-01")
    assert push_segments(run_dir, client, apply=True, retry_seconds=0).to_change == 0


def test_apply_refuses_a_run_nobody_approved_before_any_call(client, org, tmp_path):
    run_dir = make_run_dir(tmp_path / "out", {account_id(n): "A" for n in range(3)}, approved=False)
    with pytest.raises(DataError, match=r"out is not approved \(nobody approved it\); nothing was sent: .*"
                                        r"custseg review .*out --approve --by \"Your Name\" \(or push with --unapproved"):
        push(run_dir, client, apply=True)
    assert not org.query_jobs and not org.ingest_jobs
    assert push(run_dir, client).to_change == 3  # a dry run is allowed: it says what --apply would do


def test_unapproved_override_is_written_in_the_audit(client, org, tmp_path):
    run_dir = make_run_dir(tmp_path / "out", {account_id(n): "A" for n in range(3)}, approved=False)
    report = push(run_dir, client, apply=True, unapproved=True)
    assert report.updated == 3
    audit = json.loads((run_dir / "salesforce" / "audit.jsonl").read_text().splitlines()[-1])
    assert audit["approval"] == {"approved": False, "reason": "nobody approved it", "by": None, "at": None, "unapproved": True}


def test_an_approval_is_void_once_the_assignments_change(client, org, run_dir):
    frame = pd.read_parquet(run_dir / "assignments.parquet")
    frame.loc[0, "segment_name"] = "Edited by hand"
    frame.to_parquet(run_dir / "assignments.parquet", index=False)
    with pytest.raises(DataError, match="assignments.parquet changed since Test Approver approved it on 2024-05-02"):
        push(run_dir, client, apply=True)
    assert not org.ingest_jobs


def test_offline_writes_every_customer_without_connecting(tmp_path):
    run_dir = make_run_dir(tmp_path / "out", {account_id(n): ["Loyal", "=Risk"][n % 2] for n in range(4)})
    report = write_offline(run_dir)
    assert (report.mode, report.customers) == ("offline", 4)
    sent = pd.read_csv(run_dir / "salesforce" / "to_send.csv", dtype=str)
    assert list(sent.columns) == ["Id", "Segment__c", "Segment_Id__c", "Segment_Action__c", "Segment_Date__c"]
    # names sorted: '=Risk' is segment 1, 'Loyal' segment 2; spreadsheet formulas neutralised
    assert sent.iloc[1].tolist() == [account_id(1), "'=Risk", "1", "Call the =Risk accounts", "2024-05-01"]
    assert sent.iloc[0].tolist() == [account_id(0), "Loyal", "2", action_of("Loyal"), "2024-05-01"]


@pytest.mark.parametrize("table, expected", [
    ({}, {"segment": "Segment__c", "segment_id": "Segment_Id__c", "action": "Segment_Action__c", "date": "Segment_Date__c"}),
    ({"fields": {"action": "", "date": "", "score": "Churn_Score__c"}, "push": {"object": "Account"}},
     {"segment": "Segment__c", "segment_id": "Segment_Id__c", "score": "Churn_Score__c"}),
])
def test_fields_come_from_the_fields_table(table, expected):
    assert PushFields.from_config({"salesforce": table}).targets() == expected


def test_unknown_role_in_the_fields_table():
    with pytest.raises(UsageError, match="unknown key.*\\[salesforce.fields\\]: colour; keys are segment, segment_id"):
        PushFields.from_config({"salesforce": {"fields": {"colour": "Colour__c"}}})
