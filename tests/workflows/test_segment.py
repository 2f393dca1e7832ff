"""End to end on real data: the online retail transactions and a generated CPQ export."""

import json

import numpy as np
import pandas as pd
import pytest

from custseg import ColumnMapping, SegmentationResult, segment, write_run


@pytest.fixture(scope="module")
def retail_result(request):
    from shared_data import shared_file

    return segment(shared_file("online_retail.csv"), preset="online-retail", k_range=(2, 6), k_rule="silhouette")


def test_online_retail_end_to_end(retail_result):
    result = retail_result
    # 4,372 customers have a CustomerID; 33 of them only have cancellation lines
    assert result.run["n_customers"] == result.cleaning["customers_kept"] == 4_339
    assert result.profiles["size"].sum() == 4_339
    # revenue adds up: kept lines' quantity x price, per customer and per segment
    assert result.assignments["TotalSales"].sum() == pytest.approx(result.profiles["revenue"].sum(), rel=1e-12)
    assert result.profiles["revenue_share"].sum() == pytest.approx(1.0)
    # segments are numbered by revenue, and the biggest spenders are in segment 1
    assert result.profiles["revenue"].is_monotonic_decreasing
    top = result.assignments.nlargest(50, "TotalSales")
    assert (top["segment_id"] == 1).mean() > 0.9
    # the known top customer of this dataset (a wholesaler) is there with its revenue
    best = result.assignments.set_index("customer_id").loc["14646"]
    # 280,206.02 before netting; 279,846.02 net of its matched cancellations (checked against an independent
    # pandas computation, customer by customer, in tests/prep/test_netting.py::test_online_retail_netted)
    assert best["TotalSales"] == pytest.approx(279_846.02, abs=0.01)
    assert result.k_selection["chosen"].sum() == 1 and result.k in range(2, 7)
    assert "highest silhouette" in result.run["k"]["reason_en"]
    assert result.profiles["name_en"].is_unique and result.profiles["name_fr"].is_unique
    assert set(result.top_products["segment_id"]) == set(range(1, result.k + 1))
    assert result.top_products.groupby("segment_id").size().max() == 5


def test_run_directory_round_trip(retail_result, tmp_path):
    out = write_run(retail_result, tmp_path / "run", report=False)
    names = sorted(p.name for p in out.iterdir())
    assert names == ["assignments.csv", "assignments.parquet", "cleaning.json", "k_selection.csv", "model.json",
                     "product_revenue.parquet", "profiles.csv", "run.json", "top_products.csv"]
    loaded = SegmentationResult.load(out)
    pd.testing.assert_frame_equal(loaded.assignments, retail_result.assignments)
    run = json.loads((out / "run.json").read_text())
    assert run["seed"] == 42 and run["input"]["sha256"] == (
        "959c8b3847939247e4007cbbd6dfcf3fdc78bc8236a08eba94565e15679914d8")
    assert set(run["timings"]) >= {"read", "clean", "features", "scale", "cluster", "profile", "write"}
    model = json.loads((out / "model.json").read_text())
    assert model["format_version"] == 1 and len(model["centroids"]) == retail_result.k
    assert [s["name"]["en"] for s in model["segments"]] == retail_result.profiles["name_en"].tolist()


def test_reruns_are_identical(small_lines):
    mapping = ColumnMapping(customer="Client", order="Ligne", product="Article", quantity="Qte", price="PU",
                            date="Jour", date_format="%d/%m/%Y")
    a = segment(small_lines, mapping=mapping, features=["TotalSales", "OrderCount", "RecencyDays"])
    b = segment(small_lines.sample(frac=1, random_state=3), mapping=mapping, features=["TotalSales", "OrderCount", "RecencyDays"])
    pd.testing.assert_frame_equal(a.assignments, b.assignments)
    assert a.k == 3  # the fixture's three behaviours
    assert a.model["centroids"] == b.model["centroids"]


def test_cpq_export_as_xlsx_with_french_texts(tmp_path):
    from custseg._workflows._demo_data import write_cpq_export

    path = write_cpq_export(tmp_path / "sales.xlsx", n_lines=6_000, n_accounts=300, seed=5)
    result = segment(path, preset="salesforce-cpq", lang="fr", k_range=(3, 6))
    assert result.run["input"]["kind"] == "xlsx"
    # the export's -1 credits are amendments under the preset's rule "signed": kept, summed, never dropped
    assert result.cleaning["cancellations"]["amendments"] > 0 and not result.cleaning["dropped"].get("quantity_not_positive")
    assert result.assignments["segment_name"].isin(result.profiles["name_fr"]).all()
    assert result.cleaning["date_min"].startswith("2020")
    csv = segment(write_cpq_export(tmp_path / "sales.csv", n_lines=6_000, n_accounts=300, seed=5),
                  preset="salesforce-cpq", k_range=(3, 6))
    np.testing.assert_allclose(csv.assignments["TotalSales"], result.assignments["TotalSales"], rtol=1e-12)


def test_ward_run_carries_its_dendrogram_into_the_report(mall_csv, tmp_path):
    result = segment(mall_csv, customers=True, id_column="CustomerID", algorithm="ward", n_boot=2)
    assert result.run["algorithm"] == "ward" and result.run["dendrogram"]["k"] == result.k
    assert "stability_ari" in result.k_selection.columns
    out = write_run(result, tmp_path / "ward")
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="dendrogram"' in html and "Stability (ARI)" in html


def test_one_hot_indicators_are_not_ranked(mall_csv):
    result = segment(mall_csv, customers=True, id_column="CustomerID", categorical="onehot", categorical_weight=0.5, k=4)
    z = result.assignments["z_Genre=Female"]
    assert set(z.round(12)) == {0.0, 0.5}


def test_each_segment_carries_its_stability_and_its_centre_is_its_mean(mall_csv, tmp_path):
    result = segment(mall_csv, customers=True, id_column="CustomerID", k=4)
    profiles, record = result.profiles, result.run["k"]["segment_stability"]
    assert record["resamples"] == 50 and record["seed"] == 42 and len(record["jaccard"]) == 4
    assert record["measured_k"] == [4]  # k given: only its segments are resampled
    np.testing.assert_allclose(profiles["stability_jaccard"], record["jaccard"], atol=5e-5)
    words = ["stable" if j >= 0.75 else "tentative" if j >= 0.6 else "unstable" for j in profiles["stability_jaccard"]]
    assert profiles["stability_en"].tolist() == words and set(profiles["stability_fr"]) <= {"stable", "fragile", "instable"}
    for feature in result.features:  # the profile's centre is the segment's mean of the model units
        means = result.assignments.groupby("segment_id")[f"z_{feature}"].mean()
        np.testing.assert_allclose(profiles.set_index("segment_id")[f"z_{feature}"], means.loc[profiles.segment_id],
                                   rtol=0, atol=1e-12)
    html = (write_run(result, tmp_path / "run") / "report.html").read_text(encoding="utf-8")
    assert html.count('class="stability"') == 4 and "(bootstrap Jaccard)" in html
