"""review(): export, apply (renames, texts, merges: every output recomputed), approve; refresh carries the decisions."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from custseg import DataError, SegmentationResult, UsageError, review, segment, write_run
from custseg._i18n import format_number, format_percent
from custseg._review import read_review_table
from custseg._workflows._cycle import refresh, score
from custseg._workflows._demo_data import write_yearly_exports



@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """Two small demo years; 2020 segmented into 4 segments (a report too)."""
    folder = tmp_path_factory.mktemp("review")
    y1, y2 = write_yearly_exports(folder, [2020, 2021], "parquet", n_lines=8_000, n_accounts=400, seed=3)
    write_run(segment(y1, preset="salesforce-cpq", k=4), folder / "run_2020")
    return folder, y1, y2


@pytest.fixture
def run_dir(demo, tmp_path) -> Path:
    return Path(shutil.copytree(demo[0] / "run_2020", tmp_path / "run"))


def edit(run_dir: Path, path: Path, changes: dict | None = None) -> Path:
    """Export the review table as CSV, set cells {(segment_id, column): value}, save it back."""
    review(run_dir, export=path)
    table = read_review_table(path)
    for (sid, column), value in (changes or {}).items():
        table.loc[table["segment_id"] == str(sid), column] = value
    table.to_csv(path, index=False)
    return path


def cells(**changes):
    return {(int(key.split("_", 1)[0][1:]), key.split("_", 1)[1]): value for key, value in changes.items()}


def digest(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_the_exported_table_has_one_row_per_segment_with_its_texts(run_dir, tmp_path):
    status = review(run_dir, export=tmp_path / "segments.xlsx")
    table = read_review_table(status.exported)
    before = SegmentationResult.load(run_dir)
    assert table["segment_id"].tolist() == ["1", "2", "3", "4"]
    assert list(table.columns) == ["segment_id", "size", "customer_share", "revenue_share", "summary_en", "name_en", "name_fr",
                                   "description_en", "description_fr", "action_en", "action_fr", "merge_into"]
    assert table["size"].astype(int).tolist() == before.profiles["size"].tolist()
    assert table["summary_en"].tolist() == before.profiles["summary_en"].tolist()
    assert table["name_fr"].tolist() == [s["name"]["fr"] for s in before.model["segments"]]
    assert table["description_en"].tolist() == [s["description"]["en"] for s in before.model["segments"]]  # without the facts
    assert set(table["merge_into"]) == {""}
    with pytest.raises(UsageError, match="already exists \\(use --overwrite"):
        review(run_dir, export=tmp_path / "segments.xlsx")


def test_renames_texts_and_a_merge_recompute_every_output(demo, run_dir, tmp_path):
    before = SegmentationResult.load(run_dir)
    (run_dir / "salesforce").mkdir()
    (run_dir / "salesforce" / "audit.jsonl").write_text("{}\n")  # what another command wrote: kept as it is
    table = edit(run_dir, tmp_path / "segments.csv", cells(s1_name_en="Key partners", s1_name_fr="Partenaires clés",
                                                            s2_action_en="=Call them every month", s4_merge_into="3"))
    status = review(run_dir, apply=table, by="A. Name")
    after = SegmentationResult.load(run_dir)

    # value test, by hand: the merged segment 3 holds segments 3 and 4; segments 1 and 2 are untouched
    old = before.profiles.set_index("segment_id")
    new = after.profiles.set_index("segment_id")
    assert new.index.tolist() == [1, 2, 3]
    assert new.loc[3, "size"] == old.loc[3, "size"] + old.loc[4, "size"]
    assert new.loc[3, "revenue"] == pytest.approx(old.loc[3, "revenue"] + old.loc[4, "revenue"], rel=1e-12)
    assert new.loc[3, "revenue_share"] == pytest.approx(old.loc[3, "revenue_share"] + old.loc[4, "revenue_share"], rel=1e-12)
    assert new.loc[3, "customer_share"] == pytest.approx(old.loc[3, "customer_share"] + old.loc[4, "customer_share"])
    for sid in (1, 2):
        assert new.loc[sid, ["size", "revenue", "median_TotalSales", "vtest_TotalSales", "z_TotalSales"]].tolist() == \
            old.loc[sid, ["size", "revenue", "median_TotalSales", "vtest_TotalSales", "z_TotalSales"]].tolist()
    # stability: the untouched segments keep their bootstrap Jaccard and its word; the merged one was not measured
    assert new.loc[[1, 2], ["stability_jaccard", "stability_en", "stability_fr"]].equals(
        old.loc[[1, 2], ["stability_jaccard", "stability_en", "stability_fr"]])
    assert old["stability_jaccard"].notna().all() and np.isnan(new.loc[3, "stability_jaccard"])
    assert (new.loc[3, "stability_en"], new.loc[3, "stability_fr"]) == ("not measured", "non mesurée")
    merged = before.assignments["segment_id"].isin([3, 4])
    assert (after.assignments.loc[merged, "segment_id"] == 3).all()
    assert (after.assignments.loc[~merged, "segment_id"] == before.assignments.loc[~merged, "segment_id"]).all()
    z = after.assignments.loc[merged, ["z_TotalSales", "z_OrderCount", "z_AvgOrderValue"]].mean().to_numpy()
    np.testing.assert_allclose(after.model["centroids"][2], z)  # the merged centre: its customers' mean in model units
    assert after.model["format_version"] == 2 and after.model["assignment"]["segment_ids"] == [1, 2, 3, 3]

    # names everywhere: profiles, assignments, model.json, report
    assert new.loc[1, "name_en"] == "Key partners" and new.loc[1, "name_fr"] == "Partenaires clés"
    assert set(after.assignments.loc[after.assignments["segment_id"] == 1, "segment_name"]) == {"Key partners"}
    assert [s["name"]["en"] for s in after.model["segments"]][0] == "Key partners"
    assert after.model["segments"][1]["action"]["en"] == "=Call them every month"
    assert new.loc[2, "action_en"] == "'=Call them every month"  # profiles.csv is neutralised like every CSV
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "1. Key partners" in html and "Reviewed by A. Name on " in html and "segment 4 merged into 3" in html
    assert html.count("(bootstrap Jaccard)") == 2 and html.count("Stability not measured: this segment received") == 1
    row = html[html.index('data-segment="3"'):]
    assert format_number(new.loc[3, "size"], "en") in row[:400] and format_percent(new.loc[3, "revenue_share"], "en") in row[:400]

    # the record, the cleared flags and what other commands wrote
    record = after.run["reviews"][-1]
    assert record["by"] == "A. Name" and record["file"] == "segments.csv" and record["score_differs"] == 0
    assert {"segment_id": 4, "field": "merge_into", "old": None, "new": 3} in record["changes"]
    assert {"segment_id": 1, "field": "name_en", "old": before.profiles["name_en"][0], "new": "Key partners"} in record["changes"]
    assert status.kept == ["salesforce"] and (run_dir / "salesforce" / "audit.jsonl").read_text() == "{}\n"
    assert new.loc[1, "name_rule"] == "review"
    # segment 3 grew and its texts were left as they were: the rules make them again from its merged numbers
    assert record["texts_made_by_rules"] == [3] and new.loc[3, "name_rule"] not in ("review", "kept")
    assert after.model["segments"][2]["name"]["en"] == new.loc[3, "name_en"]
    assert new.loc[2, "name_rule"] == old.loc[2, "name_rule"] and new.loc[2, "action_rule"] == "review"  # its name is the rules'
    assert new.loc[1, "action_rule"] == old.loc[1, "action_rule"]

    # scoring the training data with the reviewed model gives the merged segmentation and the same numbers
    scored = score(demo[1], run_dir)
    pd.testing.assert_series_equal(scored.assignments["segment_id"], after.assignments["segment_id"])
    numbers = [c for c in after.profiles.columns if pd.api.types.is_numeric_dtype(after.profiles[c])
               and c != "stability_jaccard"]  # scoring fits nothing: no bootstrap
    pd.testing.assert_frame_equal(scored.profiles[numbers], after.profiles[numbers], check_exact=False, rtol=1e-9)
    pd.testing.assert_frame_equal(scored.top_products.reset_index(drop=True), after.top_products.reset_index(drop=True),
                                  check_exact=False, rtol=1e-9, check_dtype=False)


def test_approval_holds_until_anything_approved_changes(run_dir, tmp_path):
    assert review(run_dir).approval.reason == "nobody approved it"
    status = review(run_dir, approve=True, by="B. Boss")
    assert status.approval.approved and status.approval.by == "B. Boss"
    run = json.loads((run_dir / "run.json").read_text())
    assert set(run["approval"]["sha256"]) == {"assignments.parquet", "profiles.csv", "model.json"}
    table = edit(run_dir, tmp_path / "segments.csv", cells(s3_action_fr="Les appeler"))
    status = review(run_dir, apply=table, by="A. Name")
    assert not status.approval.approved and status.approval.reason == "nobody approved it"
    assert status.applied["cleared_approval"]["by"] == "B. Boss"
    review(run_dir, approve=True, by="B. Boss")
    frame = pd.read_parquet(run_dir / "assignments.parquet")
    frame.loc[0, "segment_id"] = 2
    frame.to_parquet(run_dir / "assignments.parquet", index=False)
    assert review(run_dir).approval.reason.startswith("assignments.parquet changed since B. Boss approved it on ")


@pytest.mark.parametrize("changes, message", [
    (cells(s2_name_en="  "), "segments.csv, row 3: name_en of segment 2 is empty"),
    (cells(s3_name_fr="Clients fidèles à forte dépense"), "segments.csv, row 4: name_fr 'Clients fidèles à forte dépense' "
                                                          "is also the name of segment 1 (row 2); names must differ"),
    (cells(s2_merge_into="2"), "segments.csv, row 3: segment 2 cannot merge into itself"),
    (cells(s2_merge_into="9"), "segments.csv, row 3: segment 2 merges into 9, which is not a segment of this run "
                               "(segments 1, 2, 3, 4)"),
    (cells(s2_merge_into="3", s3_merge_into="4"), "segments.csv, row 3: segment 2 merges into 3, which merges into 4: "
                                                  "merge both into 4 directly"),
    (cells(s2_merge_into="1", s3_merge_into="1", s4_merge_into="1"), "segments.csv: the merges leave 1 segment; at least "
                                                                     "2 must remain"),
    (cells(s2_merge_into="two"), "segments.csv, row 3: merge_into 'two' is not a segment id"),
    (cells(s4_segment_id="7"), "segments.csv, row 5: segment 7 is not a segment of this run (segments 1, 2, 3, 4)"),
    (cells(s4_segment_id="3"), "segments.csv, row 5: segment 3 appears twice (rows 4 and 5)"),
    (cells(s4_segment_id=""), "segments.csv, row 5: segment_id is empty"),
    (cells(s2_size="12"), "segments.csv, row 3: segment 2 has 12 customers in this table but"),
])
def test_bad_edits_stop_with_one_line_and_change_nothing(run_dir, tmp_path, changes, message):
    table = edit(run_dir, tmp_path / "segments.csv", changes)
    before = digest(run_dir)
    with pytest.raises(DataError) as info:
        review(run_dir, apply=table, by="A. Name")
    assert str(info.value).startswith(message) and "\n" not in str(info.value)
    assert digest(run_dir) == before


def test_a_missing_row_or_column_is_named(run_dir, tmp_path):
    table = edit(run_dir, tmp_path / "segments.csv")
    frame = pd.read_csv(table, dtype=str, keep_default_na=False)
    frame[frame["segment_id"] != "3"].to_csv(table, index=False)
    with pytest.raises(DataError, match="^segments.csv: no row for segment 3; every segment needs its row"):
        review(run_dir, apply=table, by="A. Name")
    frame.drop(columns="action_fr").to_csv(table, index=False)
    with pytest.raises(DataError, match="^segments.csv: no column action_fr; export the table again"):
        review(run_dir, apply=table, by="A. Name")


def test_a_table_saved_by_excel_in_french_reads_back(run_dir, tmp_path):
    """Semicolons and Windows-1252, as Excel saves "CSV (séparateur: point-virgule)"."""
    table = edit(run_dir, tmp_path / "segments.csv", cells(s1_name_fr="Partenaires clés, très fidèles"))
    frame = pd.read_csv(table, dtype=str, keep_default_na=False)
    excel = tmp_path / "excel.csv"
    excel.write_bytes(frame.to_csv(index=False, sep=";").encode("cp1252"))
    review(run_dir, apply=excel, by="A. Name")
    assert SegmentationResult.load(run_dir).profiles["name_fr"][0] == "Partenaires clés, très fidèles"


def test_one_action_at_a_time_and_who_signs(run_dir, tmp_path):
    with pytest.raises(UsageError, match="one thing at a time"):
        review(run_dir, export=tmp_path / "t.csv", approve=True, by="A")
    with pytest.raises(UsageError, match="say who signs with --by"):
        review(run_dir, approve=True, by="  ")


def test_refresh_carries_names_texts_and_merges_and_flags_new_segments(demo, run_dir, tmp_path):
    folder, _, y2 = demo
    table = edit(run_dir, tmp_path / "segments.csv", cells(s1_name_en="Key partners", s4_merge_into="3",
                                                           s2_action_en="Call them every month"))
    review(run_dir, apply=table, by="A. Name")
    review(run_dir, approve=True, by="B. Boss")
    reviewed = {s["id"]: s for s in SegmentationResult.load(run_dir).model["segments"]}

    # next year at k=4: the three reviewed segments persist; the two fitted segments that match the centroids of
    # merged segments 3 and 4 are merged again into 3
    same = refresh(y2, run_dir, k=4)
    drift = same.run["refresh"]
    assert [(m["status"], m["old_id"], m["new_id"], m["fitted_segments"]) for m in drift["matching"]] == [
        ("kept", 1, 1, 1), ("kept", 2, 2, 1), ("kept", 3, 3, 2)]
    assert drift["carried"]["merged_again"] == [3] and drift["carried"]["approved"]
    assert drift["carried"]["approval_en"].startswith("approved by B. Boss on ")
    assert same.profiles["name_en"].tolist() == [reviewed[i]["name"]["en"] for i in (1, 2, 3)]
    assert same.profiles["name_en"][0] == "Key partners" and same.profiles["action_en"][1] == "Call them every month"
    assert len(same.model["assignment"]["centroids"]) == 4 and same.model["assignment"]["segment_ids"].count(3) == 2
    assert "to_review" not in same.run
    # segments 1 and 2 were fitted as they are: their bootstrap Jaccard stays; 3 is two fitted segments: not measured
    fitted = same.run["k"]["segment_stability"]["jaccard"]
    assert all(min(abs(j - f) for f in fitted) < 5e-5 for j in same.profiles["stability_jaccard"][:2])
    assert np.isnan(same.profiles["stability_jaccard"][2]) and same.profiles["stability_en"][2] == "not measured"

    # at k=5 a fifth behaviour appears: a new segment with the rules' name, flagged for review
    more = refresh(y2, run_dir, k=5)
    assert [(m["status"], m["new_id"]) for m in more.run["refresh"]["matching"]] == [
        ("kept", 1), ("kept", 2), ("new", 4), ("kept", 3)]
    assert [f["segment_id"] for f in more.run["to_review"]] == [4]
    # 5 fitted segments: 3 is two of them again (not measured); 1, 2 and the new 4 are one each (measured)
    assert more.profiles["stability_jaccard"].isna().tolist() == [False, False, True, False]
    out = write_run(more, tmp_path / "run_2021")
    status = review(out)
    assert not status.approval.approved and status.to_review[0]["segment_id"] == 4  # unapproved until signed off again
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "To review: segment 4 (" in html and "Names, texts and merges carried from the previous run" in html
    with pytest.raises(DataError, match="segment\\(s\\) 4 are flagged for review \\(is new this period"):
        review(out, approve=True, by="B. Boss")
    review(out, apply=edit(out, tmp_path / "2021.csv"), by="A. Name")  # reviewed, even unchanged: the flag goes
    assert review(out, approve=True, by="B. Boss").approval.approved
