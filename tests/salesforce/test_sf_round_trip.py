"""The whole round trip: pull -> custseg run (salesforce-cpq preset) -> push."""

from __future__ import annotations

import pytest
from sf_helpers import N_ACCOUNTS

from custseg._salesforce import PullOptions, pull_records, push_segments


def test_pull_output_segments_with_the_preset_and_pushes_back(client, org, tmp_path):
    pipeline = pytest.importorskip("custseg._workflows._segment")
    outputs = pytest.importorskip("custseg._outputs")
    sales = tmp_path / "sales.parquet"
    pull_records(client, sales, PullOptions(page_size=1000))
    result = pipeline.segment(sales, preset="salesforce-cpq", k=3, seed=1)
    run_dir = outputs.write_run(result, tmp_path / "out", report=False)
    kept = len(result.assignments)
    assert 0 < kept <= N_ACCOUNTS  # accounts with only returns (quantity -1) are cleaned out
    review = pytest.importorskip("custseg._workflows._review")
    review.review(run_dir, approve=True, by="Head of marketing")
    report = push_segments(run_dir, client, apply=True, retry_seconds=0)
    assert report.failed == 0 and report.updated == kept
    pushed = {r["Id"]: r["Segment__c"] for r in org.records["Account"].values() if r["Segment__c"]}
    assert pushed == dict(zip(result.assignments["customer_id"], result.assignments["segment_name"]))
