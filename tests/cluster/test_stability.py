"""Stability (bootstrap adjusted Rand) and gap statistic find the known number of groups."""

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs

from custseg._cluster._algorithms import make_model
from custseg._errors import UsageError
from custseg._cluster._stability import bootstrap_ari, gap_choice, gap_statistic, stability_table, subsamples
from custseg._workflows._rfm import load_rfm_rules, rfm_bootstrap_ari, rfm_scores, rfm_segments


@pytest.fixture(scope="module")
def three_blobs():
    X, y = make_blobs(n_samples=450, centers=[[0, 0], [6, 0], [3, 5]], cluster_std=0.7, random_state=2)
    return X, y


@pytest.mark.parametrize("algorithm", ["kmeans", "ward", "gmm"])
def test_true_k_is_stable(three_blobs, algorithm):
    X, _ = three_blobs
    table = stability_table(X, [2, 3, 5], algorithm, n_boot=4, seed=0)
    by_k = table.set_index("k")["stability_ari"]
    assert by_k[3] > 0.97
    assert by_k[3] >= by_k.max() - 1e-9


def test_stability_is_seeded(three_blobs):
    X, _ = three_blobs
    a = stability_table(X, [4], "kmeans", n_boot=3, seed=5)
    pd.testing.assert_frame_equal(a, stability_table(X, [4], "kmeans", n_boot=3, seed=5))


def test_bootstrap_ari_with_a_refit_function(three_blobs):
    X, y = three_blobs
    mean, sd = bootstrap_ari(X, y, lambda sub, s: make_model("kmeans", 3, s).fit(sub).labels_, n_boot=3, seed=1)
    assert mean > 0.97 and sd >= 0
    noise, _ = bootstrap_ari(X, np.random.default_rng(0).integers(0, 3, len(X)),
                             lambda sub, s: make_model("kmeans", 3, s).fit(sub).labels_, n_boot=3, seed=1)
    assert abs(noise) < 0.05  # random labels: chance agreement


def test_subsamples_are_seeded_and_bounded():
    first = subsamples(1000, 3, 0.8, seed=4, max_sample=500)
    assert [len(rows) for rows in first] == [500] * 3 and all(len(np.unique(r)) == 500 for r in first)
    assert all(np.array_equal(a, b) for a, b in zip(first, subsamples(1000, 3, 0.8, seed=4, max_sample=500)))


def test_gap_statistic_chooses_the_true_k(three_blobs):
    X, _ = three_blobs
    table = gap_statistic(X, [1, 2, 3, 4, 5], n_refs=5, seed=0)
    assert table.loc[table.gap_choice, "k"].tolist() == [3]
    assert (table.gap_se > 0).all()


def test_gap_statistic_samples_large_data():
    X, _ = make_blobs(n_samples=3000, centers=2, random_state=0)
    table = gap_statistic(X, [1, 2, 3], n_refs=2, seed=0, sample_size=500)
    assert gap_choice(table) == 2


def test_rfm_stability_is_high_for_well_spread_customers():
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"customer": [f"c{i}" for i in range(400)], "RecencyDays": rng.uniform(0, 365, 400),
                          "OrderCount": rng.integers(1, 40, 400).astype(float), "TotalSales": rng.lognormal(6, 1, 400)})
    rules = load_rfm_rules()
    labels = rfm_segments(rfm_scores(table), rules)["rfm_segment_id"].to_numpy()
    mean, _ = rfm_bootstrap_ari(table, labels, rules, n_boot=3, seed=0)
    assert 0.6 < mean <= 1.0


@pytest.mark.parametrize("call, message", [
    (lambda X: stability_table(X, [2], n_boot=0), "'n_boot' parameter must be int in [1, inf)"),
    (lambda X: stability_table(X, [2], sample_frac=0.01), "'sample_frac' parameter must be float in [0.1, 1.0]"),
    (lambda X: gap_statistic(X, [2], n_refs=0), "'n_refs' parameter must be int in [1, inf)"),
])
def test_parameter_errors(three_blobs, call, message):
    with pytest.raises(UsageError, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        call(three_blobs[0])
