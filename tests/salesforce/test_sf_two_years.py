"""Two consecutive years: the push of the refreshed run changes only accounts whose segment changed."""

from __future__ import annotations

from sf_helpers import SEGMENT_ONLY

from custseg import review, segment, write_run
from custseg._workflows._cycle import refresh
from custseg._workflows._demo_data import write_yearly_exports
from custseg._salesforce import push_segments


def test_second_year_push_sends_only_changed_segments(client, org, tmp_path):
    y1, y2 = write_yearly_exports(tmp_path, [2020, 2021], "parquet", n_lines=8_000, n_accounts=400, seed=3)
    first = segment(y1, preset="salesforce-cpq", k_range=(3, 5))
    run_2020 = write_run(first, tmp_path / "run_2020", report=False)
    second = refresh(y2, run_2020)
    run_2021 = write_run(second, tmp_path / "run_2021", report=False)
    for run in (run_2020, run_2021):
        review(run, approve=True, by="Head of marketing")
    accounts = set(first.assignments["customer_id"]) | set(second.assignments["customer_id"])
    for account in accounts:
        org.records["Account"][account] = {"Id": account, "Name": account, "Segment__c": ""}

    report_2020 = push_segments(run_2020, client, fields=SEGMENT_ONLY, apply=True, retry_seconds=0)
    assert report_2020.failed == 0 and report_2020.updated == len(first.assignments)

    before = dict(zip(first.assignments["customer_id"], first.assignments["segment_name"]))
    after = dict(zip(second.assignments["customer_id"], second.assignments["segment_name"]))
    changed = {c for c, name in after.items() if before.get(c) != name}
    report_2021 = push_segments(run_2021, client, fields=SEGMENT_ONLY, apply=True, retry_seconds=0)
    assert report_2021.to_change == report_2021.updated == len(changed)
    assert report_2021.unchanged == len(after) - len(changed) > 0  # kept segments kept their names
    segments_now = {a: r["Segment__c"] for a, r in org.records["Account"].items() if a in accounts}
    assert all(segments_now[c] == name for c, name in after.items())
    # accounts lost in 2021 keep their 2020 segment: the push never blanks a value
    assert all(segments_now[c] == before[c] for c in set(before) - set(after))
    assert push_segments(run_2021, client, fields=SEGMENT_ONLY, apply=True, retry_seconds=0).to_change == 0
