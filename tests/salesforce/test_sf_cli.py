"""`custseg salesforce ...` through typer's CliRunner, as a user runs it (env credentials, TLS)."""

from __future__ import annotations

import pandas as pd
from sf_helpers import N_ACCOUNTS, N_SUBSCRIPTIONS, SECRET, account_id, make_run_dir
from typer.testing import CliRunner

from custseg._cli._salesforce import app

runner = CliRunner()


def invoke(*args: str):
    result = runner.invoke(app, list(args))
    return result, result.stdout + (result.stderr or "")


def all_text(folder) -> str:
    return "\n".join(p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file())


def test_every_command_has_help():
    result, text = invoke("--help")
    assert result.exit_code == 0
    for command in ("pull", "push", "fields"):
        assert command in text
        sub, sub_text = invoke(command, "--help")
        assert sub.exit_code == 0 and "--debug" in sub_text and "--config" in sub_text
    assert "Salesforce round trip" in text


def test_pull_then_push_dry_run_then_apply(sf_env, org, run_dir):
    result, text = invoke("pull", "--year", "2020", "-o", "sales_2020.parquet", "--page-size", "300", "--config", "custseg.toml")
    assert result.exit_code == 0, text
    frame = pd.read_parquet(sf_env / "sales_2020.parquet")
    assert f"{len(frame):,} rows in" in text and len(frame) == N_SUBSCRIPTIONS // 3 + (N_SUBSCRIPTIONS % 3 > 1)

    result, text = invoke("push", str(run_dir), "--config", "custseg.toml")
    assert result.exit_code == 0, text
    assert "Dry run: nothing was sent" in text and org.ingest_count() == 0
    assert "to change" in text and f"{N_ACCOUNTS}" in text

    result, text = invoke("push", str(run_dir), "--apply", "--config", "custseg.toml")
    assert result.exit_code == 0, text
    assert f"Done: {N_ACCOUNTS} record(s) updated" in text
    result, text = invoke("push", str(run_dir), "--apply", "--config", "custseg.toml")
    assert result.exit_code == 0 and "Nothing to send" in text

    assert SECRET not in text
    assert SECRET not in all_text(sf_env)


def test_push_with_failures_exits_non_zero(sf_env, org, run_dir):
    org.permanent_errors = {account_id(3): "INSUFFICIENT_ACCESS_OR_READONLY:insufficient access rights on object id:--"}
    result, text = invoke("push", str(run_dir), "--apply", "-o", "push-out", "--config", "custseg.toml")
    assert result.exit_code == 1
    assert "Error: 1 row(s) were not updated" in text and "failures.csv" in text
    failures = pd.read_csv(sf_env / "push-out" / "failures.csv", dtype=str)
    assert list(failures["error_code"]) == ["INSUFFICIENT_ACCESS_OR_READONLY"]
    assert SECRET not in text and SECRET not in all_text(sf_env)


def test_preflight_failure_message(sf_env, org, run_dir):
    result, text = invoke("push", str(run_dir), "--score-field", "Churn_Score__c", "--config", "custseg.toml")
    assert result.exit_code == 1
    line = [l for l in text.splitlines() if l.startswith("Error:")]
    assert len(line) == 1 and "Churn_Score__c do not exist" in line[0] and "custseg salesforce fields" in line[0]


def test_bad_token_is_one_clear_line_without_the_token(sf_env, monkeypatch, run_dir):
    monkeypatch.setenv("SF_ACCESS_TOKEN", "00DWRONG!not-a-valid-token-5521")
    result, text = invoke("push", str(run_dir), "--config", "custseg.toml")
    assert result.exit_code == 1
    errors = [l for l in text.strip().splitlines() if l.strip()]
    assert len(errors) == 1 and errors[0].startswith("Error:") and "INVALID_SESSION_ID" in errors[0]
    assert "SF_ACCESS_TOKEN" in errors[0] and "not-a-valid-token" not in text


def test_request_limit_exceeded_exit_code(sf_env, org):
    org.fail("refuse", "POST", "/jobs/query")
    result, text = invoke("pull", "-o", "s.csv", "--config", "custseg.toml")
    assert result.exit_code == 1 and "REQUEST_LIMIT_EXCEEDED" in text
    assert not (sf_env / "s.csv").exists()


def test_nothing_configured_says_which_variables_to_set(monkeypatch, tmp_path):
    for name in ("SF_INSTANCE_URL", "SF_ACCESS_TOKEN", "SF_USERNAME", "SF_PASSWORD", "SF_SECURITY_TOKEN",
                 "SF_CONSUMER_KEY", "SF_CONSUMER_SECRET", "SF_PRIVATE_KEY_FILE", "SF_DOMAIN", "SF_API_VERSION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    result, text = invoke("pull", "-o", "s.parquet")
    assert result.exit_code == 2
    assert text.count("\n") == 1 and "set SF_INSTANCE_URL and SF_ACCESS_TOKEN" in text


def test_usage_errors_exit_2(sf_env):
    result, text = invoke("pull", "-o", "s.parquet", "--year", "2020", "--since", "2020-01-01")
    assert result.exit_code == 2 and "either --year or --since" in text
    result, text = invoke("pull", "-o", "s.json")
    assert result.exit_code == 2 and "must end with .parquet, .csv or .xlsx" in text
    result, text = invoke("pull", "-o", "s.csv", "--fields", "Name,Id) FROM User--")
    assert result.exit_code == 2 and "not a Salesforce field name" in text


def test_secrets_in_config_are_refused(sf_env):
    (sf_env / "bad.toml").write_text('[salesforce]\naccess_token = "abc"\n')
    result, text = invoke("pull", "-o", "s.csv", "--config", "bad.toml")
    assert result.exit_code == 2 and "must not hold secrets" in text


def test_fields_command_writes_sfdx_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "custseg.toml").write_text('[salesforce.fields]\nsegment = "Segment__c"\nscore = "Segment_Score__c"\n'
                                           'action = ""\n')
    result, text = invoke("fields", "-o", "sfdx", "--date-field", "Segment_Day__c", "--config", "custseg.toml")
    assert result.exit_code == 0, text
    base = tmp_path / "sfdx" / "force-app" / "main" / "default"
    names = sorted(p.name for p in (base / "objects" / "Account" / "fields").iterdir())
    # every configured field: the default segment id, the date renamed on the command line, the score; no action
    assert names == ["Segment_Day__c.field-meta.xml", "Segment_Id__c.field-meta.xml", "Segment_Score__c.field-meta.xml",
                     "Segment__c.field-meta.xml"]
    assert "page layout" in text
    result, text = invoke("fields", "-o", "sfdx")
    assert result.exit_code == 2 and "--overwrite" in text


def test_field_names_moved_from_the_push_table_say_where(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "custseg.toml").write_text('[salesforce.push]\nscore_field = "Segment_Score__c"\n')
    result, text = invoke("fields", "-o", "sfdx", "--config", "custseg.toml")
    assert result.exit_code == 2
    assert text.strip() == 'Error: [salesforce.push] score_field moved to [salesforce.fields] as score = "Segment_Score__c"'


def test_debug_shows_the_traceback(sf_env):
    result = runner.invoke(app, ["pull", "-o", "s.json", "--debug"])
    assert result.exit_code != 0 and result.exception is not None


def test_offline_needs_no_credentials_and_says_there_is_no_diff(monkeypatch, tmp_path):
    for name in ("SF_INSTANCE_URL", "SF_ACCESS_TOKEN", "SF_USERNAME", "SF_PASSWORD", "SF_CONSUMER_KEY", "SF_CONSUMER_SECRET"):
        monkeypatch.delenv(name, raising=False)
    run_dir = make_run_dir(tmp_path / "out", {account_id(n): "Loyal" for n in range(5)}, approved=False)
    result, text = invoke("push", str(run_dir), "--offline")
    assert result.exit_code == 0, text
    flat = " ".join(text.split())
    assert f"Offline: 5 customer(s) written to {run_dir / 'salesforce' / 'to_send.csv'}" in flat
    assert "cannot read the org: the file lists every customer" in flat and "no diff is shown" in flat
    assert "Not approved (nobody approved it): --apply will refuse it" in flat
    assert len(pd.read_csv(run_dir / "salesforce" / "to_send.csv")) == 5
    result, text = invoke("push", str(run_dir), "--offline", "--apply")
    assert result.exit_code == 2 and text.strip() == "Error: --offline writes the CSV without connecting; it cannot --apply"


def test_unapproved_apply_is_refused_then_allowed_with_the_override(sf_env, org, tmp_path):
    run_dir = make_run_dir(tmp_path / "unapproved", {account_id(n): "Loyal" for n in range(5)}, approved=False)
    result, text = invoke("push", str(run_dir), "--apply", "--config", "custseg.toml")
    assert result.exit_code == 1 and text.count("\n") == 1 and f"Error: {run_dir} is not approved (nobody approved it)" in text
    result, text = invoke("push", str(run_dir), "--apply", "--unapproved", "--config", "custseg.toml")
    assert result.exit_code == 0, text
    assert "sent anyway (--unapproved, recorded in the audit)" in " ".join(text.split()) and "Done: 5 record(s) updated" in text
