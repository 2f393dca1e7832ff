"""Per-segment stability (`_jaccard`): the Jaccard by hand, the resamples, and the values next to fpc's clusterboot.

reference/clusterboot/bootmean.csv was written by reference/clusterboot.R (fpc's clusterboot, B = 50, kmeansCBI
with runs = 10, seed 1) on custseg's partitions (reference/labels) of custseg's model units, k = 3..8. R's and
numpy's random streams differ, so the values agree within the resampling error, not digit for digit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs

from custseg._cluster import Segmenter
from custseg._cluster._jaccard import best_match_jaccard, resamples, segment_jaccard, stability_words
from test_nbclust_panel import REFERENCE, units

BOOTMEAN = pd.read_csv(REFERENCE / "clusterboot" / "bootmean.csv")


def test_best_match_jaccard_by_hand():
    reference = np.array([0, 0, 0, 1, 1, 2])
    refitted = np.array([1, 1, 0, 0, 0, 0])
    # segment 0 = {0,1,2}: with {0,1} 2/3, with {2,3,4,5} 1/6 -> 2/3; segment 1 = {3,4}: with {2..5} 2/4 -> 0.5
    # segment 2 = {5}: with {2..5} 1/4 -> 0.25
    assert best_match_jaccard(reference, refitted, 3).tolist() == [2 / 3, 0.5, 0.25]
    # a segment that drew nobody scores 0 (clusterboot's zerobyzero = 0)
    assert best_match_jaccard(np.array([0, 0]), np.array([0, 0]), 2).tolist() == [1.0, 0.0]


def test_resamples_are_seeded_distinct_draws():
    first, again = resamples(100, 3, seed=7), resamples(100, 3, seed=7)
    assert all((a == b).all() for a, b in zip(first, again))
    for drawn in first:  # about 63% of n distinct customers in a bootstrap draw of n
        assert (np.diff(drawn) > 0).all() and 50 <= len(drawn) <= 75


def test_words():
    assert [stability_words(j) for j in (0.75, 0.749, 0.6, 0.599)] == ["stable", "tentative", "tentative", "unstable"]


@pytest.mark.parametrize("case", ["wholesale_spend", "mall", pytest.param("online_retail", marks=pytest.mark.slow),
                                  pytest.param("wholesale_all", marks=pytest.mark.slow),
                                  pytest.param("cc_general", marks=pytest.mark.slow),
                                  pytest.param("demo", marks=pytest.mark.slow)])
def test_values_next_to_clusterboots(case, tmp_path):
    Z = units(case, tmp_path)
    labels = pd.read_csv(REFERENCE / "labels" / f"{case}.csv.gz")
    ours = segment_jaccard(Z, {k: labels[f"k{k}"].to_numpy() - 1 for k in range(3, 9)}, B=50, seed=42)
    theirs = BOOTMEAN[BOOTMEAN.case == case]
    difference = np.concatenate([ours[k] - theirs[theirs.k == k].bootmean.to_numpy() for k in range(3, 9)])
    assert np.abs(difference).max() <= 0.12 and np.abs(difference).mean() <= 0.04


def test_the_chosen_ks_segments_carry_their_stability_through_the_renumbering():
    X, _ = make_blobs(n_samples=[300, 100, 40], centers=[[0, 0], [8, 0], [0, 8]], cluster_std=1.0, random_state=0)
    model = Segmenter(n_clusters=3, random_state=0, n_jaccard=10).fit(X)
    before = model.segment_stability_.copy()
    sizes = np.bincount(model.labels_)
    model.relabel(np.argsort(sizes))  # smallest first
    assert model.segment_stability_.tolist() == before[np.argsort(sizes)].tolist()
    assert (model.segment_stability_ > 0.95).all()  # three well-separated blobs come back every time
    assert Segmenter(n_clusters=3, random_state=0, n_jaccard=0).fit(X).segment_stability_ is None
