"""Per-customer features: the study's three match its pandas code; the others on toy data."""

import datetime as dtm

import ibis
import numpy as np
import pandas as pd
import pytest

from custseg import ColumnMapping, UsageError, preset, segment
from custseg._cluster._algorithms import KMEANS_MAX_ITER, KMEANS_TOL
from custseg._prep._clean import clean_lines
from custseg._prep._features import FEATURES, _rolls_up, check_features, customer_features, product_revenue
from custseg._prep._parse import typed_lines

MAPPING = ColumnMapping(customer="Client", order="Ligne", product="Article", quantity="Qte", price="PU", date="Jour",
                        date_format="%d/%m/%Y")


def features_of(frame: pd.DataFrame, names, as_of=None) -> pd.DataFrame:
    con = ibis.duckdb.connect()
    lines, _ = typed_lines(con.create_table("t", frame), MAPPING, "t")
    return customer_features(lines, names, as_of).set_index("customer")


def test_hand_computed_features():
    frame = pd.DataFrame({
        "Client": ["a", "a", "a", "b"], "Ligne": ["1", "1", "2", "3"], "Article": ["x", "y", "y", "x"],
        "Qte": [2.0, 1.0, 3.0, 1.0], "PU": [10.0, 5.0, 5.0, 100.0],
        "Jour": ["01/01/2021", "05/01/2021", "10/01/2021", "03/01/2021"],
    })
    names = ["TotalSales", "OrderCount", "AvgOrderValue", "RecencyDays", "TenureDays", "ProductCount", "LineCount", "Units"]
    got = features_of(frame, names, as_of=dtm.date(2021, 1, 11))
    assert got.loc["a", "TotalSales"] == 20 + 5 + 15
    assert got.loc["a", "OrderCount"] == 2 and got.loc["a", "AvgOrderValue"] == 20
    assert got.loc["a", "RecencyDays"] == 1 and got.loc["a", "TenureDays"] == 10
    assert got.loc["a", "ProductCount"] == 2 and got.loc["a", "LineCount"] == 3 and got.loc["a", "Units"] == 6
    assert got.loc["a", "TopProduct"] == "x" and got.loc["b", "TopProduct"] == "x"
    assert got.loc["b", "RecencyDays"] == 8 and got.loc["b", "AvgOrderValue"] == 100


def _rolled_and_direct(lines, names, as_of, order_unique):
    per_product = product_revenue(lines, names).cache()
    aggregated = [n for n in names if FEATURES[n].aggregate]
    assert _rolls_up(aggregated, lines, order_unique, per_product)  # else the comparison is vacuous
    direct = customer_features(lines, names, as_of, order_unique).set_index("customer")
    return customer_features(lines, names, as_of, order_unique, per_product).set_index("customer"), direct


@pytest.mark.parametrize("order_unique", [True, False])
def test_features_rolled_up_from_the_product_table_equal_those_from_the_lines(order_unique):
    rng = np.random.default_rng(3)
    n = 400
    frame = pd.DataFrame({
        "Client": rng.choice(list("abcdefg"), n), "Ligne": [str(i if order_unique else i % 150) for i in range(n)],
        "Article": rng.choice(["p", "q", "r", None], n), "Qte": rng.integers(1, 5, n).astype(float),
        "PU": rng.uniform(1, 50, n).round(2), "Jour": [f"{1 + i % 28:02d}/0{1 + i % 9}/2021" for i in range(n)],
    })
    lines, _ = typed_lines(ibis.duckdb.connect().create_table("t", frame), MAPPING, "t")
    names = list(FEATURES) if order_unique else [n for n in FEATURES if n not in ("OrderCount", "AvgOrderValue")]
    rolled, direct = _rolled_and_direct(lines, names, dtm.date(2021, 12, 31), order_unique)
    pd.testing.assert_frame_equal(rolled, direct, rtol=1e-12)


def test_rolled_up_features_of_the_netted_online_retail_lines_equal_those_from_the_lines(retail_csv):
    """Real lines, cancellations netted: purchases counted apart from the cancellations that stay."""
    mapping = preset("online-retail")
    lines, _ = typed_lines(ibis.duckdb.connect().read_csv(retail_csv, all_varchar=True), mapping, "retail")
    kept, summary = clean_lines(lines.cache(), mapping, "retail")
    assert summary["cancellations"]["matched"] > 0
    names = [n for n in FEATURES if n not in ("OrderCount", "AvgOrderValue")]  # invoices repeat: no roll-up for those
    rolled, direct = _rolled_and_direct(kept, names, dtm.date(2011, 12, 10), False)
    pd.testing.assert_frame_equal(rolled, direct, rtol=1e-9)
    assert len(direct) == summary["customers_kept"]


def test_unknown_or_unavailable_features_are_usage_errors():
    with pytest.raises(UsageError, match="unknown feature 'Spend'"):
        check_features(["Spend"], ["customer", "price", "quantity"])
    with pytest.raises(UsageError, match="feature RecencyDays needs the date column role"):
        check_features(["RecencyDays"], ["customer", "price", "quantity"])


def test_seed_features_equal_the_study_code(seed_shaped_csv, reference_pipeline):
    """On a seed-shaped export the three features equal the study's pandas code to 1e-9."""
    expected = reference_pipeline.customer_features(pd.read_csv(seed_shaped_csv, dtype={"SBQQ__Account__c": str}))
    study = preset("salesforce-cpq").with_overrides(cancellations="drop")  # the study's rule, not the preset's "signed"
    result = segment(seed_shaped_csv, mapping=study, scaling="rank-first", k_range=(4, 8))  # the study's scaling
    got = result.assignments.set_index("customer_id").loc[expected.index]
    assert len(got) == len(expected) == result.cleaning["customers_kept"]
    for name in reference_pipeline.FEATURES:
        np.testing.assert_allclose(got[name], expected[name], rtol=1e-9)
    # the rank + z-score normalisation too. Customers whose values are equal to 12
    # significant digits tie in custseg (broken by customer order, as pandas' 'first');
    # pandas compares the last bits of sums that depend on addition order, so within such
    # a group the order may differ. Everywhere else the z values are identical.
    normalized = reference_pipeline.normalise(expected)
    for name in reference_pipeline.FEATURES:
        differs = ~np.isclose(got[f"z_{name}"], normalized[name], rtol=1e-9, atol=1e-12)
        near_tie = expected[name].round(6).duplicated(keep=False)
        assert differs.sum() <= 0.01 * len(expected)
        assert not (differs & ~near_tie).any(), expected[name][differs & ~near_tie]
    # the silhouette per k is scikit-learn's on the same labels
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    Z = got[[f"z_{n}" for n in reference_pipeline.FEATURES]].to_numpy()
    for row in result.k_selection.itertuples():
        labels = KMeans(n_clusters=row.k, n_init=10, random_state=result.run["seed"], tol=KMEANS_TOL,
                        max_iter=KMEANS_MAX_ITER).fit(Z).labels_  # K-means to convergence, as custseg runs it
        assert row.silhouette_method == "exact"
        assert abs(row.silhouette - silhouette_score(Z, labels)) < 1e-6
