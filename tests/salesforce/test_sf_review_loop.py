"""The whole loop on the demo data, as a user runs it, against the fake org: run, export the review table, edit it
(two renames, a merge, an action), apply, push (refused), approve, push; the org, the run's files and the report
carry the approved names; next year's refresh keeps them."""

from __future__ import annotations

import json

import pandas as pd
from sf_helpers import SECRET
from typer.testing import CliRunner

from custseg._review import read_review_table, write_review_table
from custseg._workflows._demo_data import write_yearly_exports
from custseg.cli import app

runner = CliRunner()
RENAMED = {1: "Key partners", 2: "Frequent small baskets"}
ACTION = "Call every month; propose the yearly bundle."


def invoke(*args) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, " ".join(result.output.split())


def test_run_review_approve_push_then_refresh_keeps_the_decisions(sf_env, org):
    y1, y2 = write_yearly_exports(sf_env, [2020, 2021], "parquet", n_lines=8_000, n_accounts=400, seed=3)
    code, out = invoke("run", y1, "--preset", "salesforce-cpq", "--k", "4", "-o", "run_2020")
    assert code == 0, out
    accounts = pd.read_parquet(sf_env / "run_2020" / "assignments.parquet")["customer_id"].tolist()
    accounts += pd.read_parquet(y2, columns=["SBQQ__Account__c"])["SBQQ__Account__c"].drop_duplicates().tolist()
    for account in set(accounts):
        org.records["Account"][account] = {"Id": account, "Name": account, "Segment__c": ""}

    # marketing edits the table in Excel: two renames, segment 4 merged into 3, a new action for segment 2
    code, out = invoke("review", "run_2020", "--export", "segments.xlsx")
    assert code == 0 and "Review table: segments.xlsx (4 segments)" in out
    table = read_review_table(sf_env / "segments.xlsx")
    sizes = dict(zip(table["segment_id"].astype(int), table["size"].astype(int)))
    for sid, name in RENAMED.items():
        table.loc[table["segment_id"] == str(sid), "name_en"] = name
    table.loc[table["segment_id"] == "4", "merge_into"] = "3"
    table.loc[table["segment_id"] == "2", "action_en"] = ACTION
    write_review_table(table, sf_env / "segments.xlsx", overwrite=True)

    code, out = invoke("review", "run_2020", "--apply", "segments.xlsx", "--by", "A. Name")
    assert code == 0, out
    assert "by A. Name: 4 change(s), 4 -> 3 segments." in out and "segment 4 merged into 3" in out
    # segment 3 grew and its texts were left as they were: the rules name it again from its merged numbers
    assert "segment 3: texts made by the rules from its merged numbers" in " ".join(out.split())
    assert json.loads((sf_env / "run_2020" / "run.json").read_text())["reviews"][-1]["texts_made_by_rules"] == [3]
    merged_name = pd.read_csv(sf_env / "run_2020" / "profiles.csv").set_index("segment_id").loc[3, "name_en"]

    code, out = invoke("salesforce", "push", "run_2020", "--apply", "--config", "custseg.toml")
    assert code == 1 and out.startswith("Error: run_2020 is not approved (nobody approved it); nothing was sent")
    assert 'custseg review run_2020 --approve --by "Your Name"' in out and not org.ingest_jobs

    code, out = invoke("review", "run_2020", "--approve", "--by", "B. Boss")
    assert code == 0 and "Approved by B. Boss on " in out
    code, out = invoke("salesforce", "push", "run_2020", "--apply", "--config", "custseg.toml")
    assert code == 0, out
    assert "Run approved by B. Boss on " in out and "record(s) updated" in out

    # the org, the assignments, the profiles, model.json and the report carry the approved names
    assignments = pd.read_parquet(sf_env / "run_2020" / "assignments.parquet")
    profiles = pd.read_csv(sf_env / "run_2020" / "profiles.csv")
    model = json.loads((sf_env / "run_2020" / "model.json").read_text())
    report = (sf_env / "run_2020" / "report.html").read_text(encoding="utf-8")
    expected = {1: RENAMED[1], 2: RENAMED[2], 3: merged_name}
    assert dict(zip(profiles["segment_id"], profiles["name_en"])) == expected
    assert {s["id"]: s["name"]["en"] for s in model["segments"]} == expected
    assert dict(zip(assignments["segment_id"], assignments["segment_name"])) == expected
    assert all(f"{sid}. {name}" in report for sid, name in expected.items()) and "Reviewed by A. Name on " in report
    assert profiles.loc[profiles["segment_id"] == 3, "size"].item() == sizes[3] + sizes[4]
    actions = dict(zip(profiles["segment_id"], profiles["action_en"]))
    assert actions[2] == ACTION
    day = json.loads((sf_env / "run_2020" / "run.json").read_text())["created"][:10]
    for row in assignments.itertuples():
        record = org.records["Account"][row.customer_id]
        assert (record["Segment__c"], record["Segment_Id__c"], record["Segment_Action__c"], record["Segment_Date__c"]) == (
            expected[row.segment_id], str(row.segment_id), actions[row.segment_id], day)
    audit = json.loads((sf_env / "run_2020" / "salesforce" / "audit.jsonl").read_text().splitlines()[-1])
    assert audit["approval"]["approved"] and audit["approval"]["by"] == "B. Boss"

    # next year: the segments that persist keep the approved names, the merge is made again; unapproved until signed
    code, out = invoke("refresh", y2, "--previous", "run_2020", "-o", "run_2021")  # k=4, as the run was
    assert code == 0, out
    assert "Names, texts and merges carried from run_2020 (approved by B. Boss on " in out and "segment 3 merged again" in out
    assert "Not approved until signed off" in out
    refreshed = pd.read_csv(sf_env / "run_2021" / "profiles.csv")
    assert dict(zip(refreshed["segment_id"], refreshed["name_en"])) == expected
    assert dict(zip(refreshed["segment_id"], refreshed["action_en"]))[2] == ACTION
    code, out = invoke("salesforce", "push", "run_2021", "--apply", "--config", "custseg.toml")
    assert code == 1 and "run_2021 is not approved" in out
    assert SECRET not in out
