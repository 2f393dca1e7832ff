"""The yearly cycle: scoring with a saved model, refreshing with stable identities, migration."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from custseg import DataError, SegmentationResult, UsageError, segment, write_run
from custseg._workflows._cycle import match_segments, refresh, score
from custseg._workflows._demo_data import write_yearly_exports
from custseg._workflows._migration import LOST, NEW, migration
from custseg._workflows._model import load_model
from custseg._workflows._runs import list_runs
from custseg.cli import app


@pytest.fixture(scope="module")
def two_years(tmp_path_factory):
    """Two consecutive generated CPQ years; year 1 segmented, year 2 refreshed from it."""
    folder = tmp_path_factory.mktemp("years")
    y1, y2 = write_yearly_exports(folder, [2020, 2021], "parquet", n_lines=40_000, n_accounts=1_500, seed=11)
    first = write_run(segment(y1, preset="salesforce-cpq", k_range=(3, 6)), folder / "run_2020", report=False)
    return folder, y1, y2, SegmentationResult.load(first)


def test_scoring_the_training_data_gives_the_training_assignments(two_years):
    folder, y1, _, first = two_years
    scored = score(y1, folder / "run_2020")
    pd.testing.assert_series_equal(scored.assignments["segment_id"], first.assignments["segment_id"])
    assert not scored.assignments["out_of_range"].any()
    np.testing.assert_allclose(scored.assignments["z_TotalSales"], first.assignments["z_TotalSales"], rtol=1e-12)
    assert scored.profiles["name_en"].tolist() == first.profiles["name_en"].tolist()


def test_scoring_new_data_keeps_the_model_and_flags_out_of_range(two_years):
    folder, _, y2, first = two_years
    scored = score(y2, folder / "run_2020" / "model.json")
    assert scored.run["mode"] == "score" and scored.k == first.k
    assert scored.run["engine"] == first.run["engine"] and scored.run["engine"]["name"] == "duckdb"
    assert set(scored.assignments["segment_id"]) <= set(first.profiles["segment_id"])
    flagged = scored.assignments["out_of_range"]
    assert flagged.sum() == scored.run["model"]["n_out_of_range"]
    train_max = first.assignments["TotalSales"].max()
    assert flagged[scored.assignments["TotalSales"] > train_max].all()


def test_refresh_keeps_identities_of_persisting_segments(two_years):
    folder, _, y2, first = two_years
    refreshed = refresh(y2, folder / "run_2020", k=first.k)
    drift = refreshed.run["refresh"]
    assert refreshed.run["engine"]["name"] == "duckdb"
    kept = [m for m in drift["matching"] if m["status"] == "kept"]
    assert len(kept) >= first.k - 1  # the same behaviours persist a year later
    old_names = dict(zip(first.profiles["segment_id"], first.profiles["name_en"]))
    new_names = dict(zip(refreshed.profiles["segment_id"], refreshed.profiles["name_en"]))
    for m in kept:
        assert m["old_id"] == m["new_id"] and new_names[m["new_id"]] == old_names[m["old_id"]]
        assert m["center_shift"] <= drift["threshold"]
    assert refreshed.profiles["name_en"].is_unique
    assert 0 < drift["old_model_silhouette_on_new_data"] < 1 and 0 < drift["new_model_silhouette"] < 1
    ids = [s["id"] for s in refreshed.model["segments"]]
    assert sorted(ids) == sorted(refreshed.profiles["segment_id"])


def test_matching_threshold_and_new_retired():
    old = np.array([[0.0, 0.0], [5.0, 5.0], [9.0, 0.0]])
    new = np.array([[5.2, 5.1], [0.1, -0.1], [-6.0, 3.0]])
    pairs = {(o, n) for o, n, _ in match_segments(old, new, threshold=1.0)}
    assert pairs == {(0, 1), (1, 0), (2, None), (None, 2)}


def test_migration_totals(two_years):
    folder, _, y2, first = two_years
    later = refresh(y2, folder / "run_2020")
    moves = migration(first, later)
    both = set(first.assignments["customer_id"]) | set(later.assignments["customer_id"])
    assert moves.counts.to_numpy().sum() == len(both)
    assert moves.counts.loc[NEW].sum() == moves.summary["new_customers"] > 0
    assert moves.counts[LOST].sum() == moves.summary["lost_customers"] > 0
    lost_ids = set(first.assignments["customer_id"]) - set(later.assignments["customer_id"])
    lost_revenue = first.assignments.set_index("customer_id").loc[sorted(lost_ids), "TotalSales"].sum()
    assert moves.revenue.to_numpy().sum() == pytest.approx(later.assignments["TotalSales"].sum() + lost_revenue)
    assert moves.counts.loc[NEW, LOST] == 0


def test_online_retail_split_in_two_periods(retail_csv, tmp_path):
    lines = pd.read_csv(retail_csv, dtype=str)
    day = pd.to_datetime(lines["InvoiceDate"])
    before, after = tmp_path / "before.csv", tmp_path / "after.csv"
    lines[day < "2011-06-01"].to_csv(before, index=False)
    lines[day >= "2011-06-01"].to_csv(after, index=False)
    first = segment(before, preset="online-retail", k=4)
    out = write_run(first, tmp_path / "run_a", report=False)
    again = score(before, out)
    assert (again.assignments["segment_id"].to_numpy() == first.assignments["segment_id"].to_numpy()).all()
    later = refresh(after, out, k=4)
    assert later.run["refresh"]["kept"] >= 3
    moves = migration(first, later)
    assert moves.counts.to_numpy().sum() == len(set(first.assignments.customer_id) | set(later.assignments.customer_id))


def test_model_file_checks(tmp_path, two_years):
    folder = two_years[0]
    model = json.loads((folder / "run_2020" / "model.json").read_text())
    edited = tmp_path / "model.json"
    edited.write_text(json.dumps(model | {"format_version": 99}))
    with pytest.raises(DataError, match="model format version 99 is not supported"):
        load_model(edited)
    model["centroids"] = model["centroids"][:-1]
    edited.write_text(json.dumps(model))
    with pytest.raises(DataError, match="do not agree"):
        load_model(edited)
    edited.write_text("{not json")
    with pytest.raises(DataError, match="invalid JSON"):
        load_model(edited)


def test_scoring_data_without_the_model_columns(tmp_path, two_years):
    folder = two_years[0]
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="missing column"):
        score(other, folder / "run_2020")


def test_cli_cycle_and_run_history(two_years, tmp_path):
    folder, _, y2, _ = two_years
    runner = CliRunner()
    scored = runner.invoke(app, ["score", str(y2), "--model", str(folder / "run_2020"), "-o", str(tmp_path / "scored"), "--no-report"])
    assert scored.exit_code == 0, scored.output
    refreshed = runner.invoke(app, ["refresh", str(y2), "--previous", str(folder / "run_2020"), "-o", str(tmp_path / "r21"), "--no-report"])
    assert refreshed.exit_code == 0, refreshed.output
    assert "Segments kept:" in refreshed.output
    compared = runner.invoke(app, ["compare", str(folder / "run_2020"), str(tmp_path / "r21")])
    assert compared.exit_code == 0, compared.output
    assert (tmp_path / "r21" / "migration" / "migration_counts.csv").is_file()
    html = (tmp_path / "r21" / "migration" / "migration.html").read_text()
    assert "Sankey" in html or "sankey" in html
    listed = list_runs(tmp_path)
    assert sorted(listed["mode"]) == ["refresh", "score"] and listed["created"].is_monotonic_increasing
    shown = runner.invoke(app, ["runs", str(tmp_path)], env={"COLUMNS": "80"})
    assert shown.exit_code == 0 and "2 run(s)" in shown.output
    lines = shown.output.splitlines()
    assert max(map(len, lines)) <= 80  # readable at 80 columns, every value whole:
    for row in listed.itertuples():
        first = next(line for line in lines if line.startswith(f" {Path(row.run).name} "))
        assert first.split()[1:3] == [row.created[:10], row.mode] and first.rstrip().endswith(f"{row.silhouette:.3f}")
        assert f"{row.customers:,}" in first.split() and row.period.split("..")[0] in first
    missing = runner.invoke(app, ["score", str(y2), "--model", str(tmp_path / "nope.json")])
    assert missing.exit_code == 1 and "model file not found" in missing.output


def test_an_old_rank_model_scores_and_refreshes_with_its_tie_rule(two_years, tmp_path):
    """A model.json saved before the tie rule ("rank", no "ties") ranked ties by row order: it still scores so."""
    folder, y1, y2, _ = two_years
    trained = segment(y1, preset="salesforce-cpq", scaling="rank-first", k_rule="silhouette", k_range=(3, 6))
    old = trained.model | {"config": trained.model["config"] | {"scaling": "rank"}}
    old["scaler"] = {key: value for key, value in trained.model["scaler"].items() if key != "ties"} | {"kind": "rank"}
    del old["config"]["k_rule"]
    path = tmp_path / "old_model.json"
    path.write_text(json.dumps(old), encoding="utf-8")
    scored = score(y1, load_model(path))
    pd.testing.assert_series_equal(scored.assignments["segment_id"], trained.assignments["segment_id"])
    refreshed = refresh(y2, path)
    assert refreshed.run["config"]["scaling"] == "rank-first" and refreshed.run["config"]["k_rule"] == "silhouette"
    # the new default ties: identical customers of the new year share a segment under the tie-aware rank
    new = score(y2, folder / "run_2020")
    frame = new.assignments
    assert (frame.groupby(["TotalSales", "OrderCount"])["segment_id"].nunique() == 1).all()


def _next_year_relaid(y2, path):
    """Year 2 as next year's export often comes: account column renamed, ISO dates, ';' and decimal commas."""
    frame = pd.read_parquet(y2).rename(columns={"SBQQ__Account__c": "AccountId"})
    for column in ("SBQQ__StartDate__c", "SBQQ__EndDate__c"):
        frame[column] = pd.to_datetime(frame[column], format="%d/%m/%Y").dt.strftime("%Y-%m-%d")
    frame.to_csv(path, sep=";", decimal=",", index=False)
    return path


RELAID = ["--customer", "AccountId", "--date-format", "%Y-%m-%d", "--delimiter", ";", "--decimal", ","]


def test_score_and_refresh_read_a_relaid_file_with_the_options_of_run(two_years, tmp_path):
    """Issue 21 item 9: the same column, date-format and reading options as run; the same customers, values and segments."""
    folder, _, y2, first = two_years
    relaid = _next_year_relaid(y2, tmp_path / "year2.csv")
    runner = CliRunner()
    bare = runner.invoke(app, ["score", str(relaid), "--model", str(folder / "run_2020"), "-o", str(tmp_path / "no")])
    assert bare.exit_code == 1 and "missing column(s) SBQQ__Account__c (customer)" in bare.output
    done = runner.invoke(app, ["score", str(relaid), "--model", str(folder / "run_2020"), "-o", str(tmp_path / "s"),
                               "--no-report", *RELAID])
    assert done.exit_code == 0, done.output
    expected = score(y2, folder / "run_2020").assignments
    got = SegmentationResult.load(tmp_path / "s")
    assert got.run["config"]["mapping"]["customer"] == "AccountId"
    assert got.run["config"]["mapping"]["date_format"] == "%Y-%m-%d"
    assert (got.run["config"]["read"]["delimiter"], got.run["config"]["read"]["decimal"]) == (";", ",")
    pd.testing.assert_frame_equal(got.assignments[["customer_id", "segment_id", "TotalSales", "RecencyDays"]],
                                  expected[["customer_id", "segment_id", "TotalSales", "RecencyDays"]], check_dtype=False)
    refreshed = runner.invoke(app, ["refresh", str(relaid), "--previous", str(folder / "run_2020"),
                                    "-o", str(tmp_path / "r"), "--no-report", "--k-range", f"{first.k}..{first.k}", *RELAID])
    assert refreshed.exit_code == 0, refreshed.output
    same = refresh(y2, folder / "run_2020", k_range=(first.k, first.k)).assignments
    pd.testing.assert_series_equal(SegmentationResult.load(tmp_path / "r").assignments["segment_id"], same["segment_id"])


def test_score_changes_how_data_are_read_never_what_is_computed(two_years, tmp_path):
    folder, _, y2, _ = two_years
    with pytest.raises(UsageError, match="score changes how the data are read .* not scaling: use refresh"):
        score(y2, folder / "run_2020", scaling="log")
    with pytest.raises(UsageError, match=r"^score keeps the model's cancellation rule \(signed\), which made its features: "
                                         r"--cancellations drop would compute other ones; use refresh to retrain with it$"):
        score(y2, folder / "run_2020", roles={"cancellations": "drop"})
    same = score(y2, folder / "run_2020", roles={"cancellations": "signed"})  # the model's own rule: fine
    assert same.run["config"]["mapping"]["cancellations"] == "signed"
    table = pd.DataFrame({"id": [f"c{i}" for i in range(12)], "spend": [float(i * i) for i in range(12)],
                          "visits": [float(i % 4) for i in range(12)]})
    model = write_run(segment(table, customers=True, id_column="id", k=2), tmp_path / "per_customer", report=False)
    renamed = table.rename(columns={"id": "client"})
    assert score(renamed, model, id_column="client").assignments["customer_id"].tolist() == table["id"].tolist()
    result = CliRunner().invoke(app, ["score", str(tmp_path / "x.csv"), "--model", str(model), "--customer", "client"])
    assert result.exit_code == 2
    assert result.output.strip() == ("Error: the model was trained on a per-customer table: column options (--preset, "
                                     "--config, --customer...) do not apply; use --id to name its id column")
