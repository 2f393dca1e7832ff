"""Each algorithm recovers a known structure, behind one interface, seeded."""

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from custseg._cluster._algorithms import (ALGORITHMS, WardClustering, fit_path, fitting_threads, kmeans_starts, make_model,
                                          nearest_center)
from custseg._cluster._segmenter import _fit_kmeans
from custseg._errors import DataError, NotFittedError, UsageError


@pytest.fixture(autouse=True)
def one_thread():
    with fitting_threads(0):  # small fits: threads only wait for each other (docs/methods.md)
        yield


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=600, centers=4, cluster_std=0.6, random_state=7)
    return X, y


@pytest.mark.parametrize("name", ALGORITHMS)
def test_recovers_well_separated_blobs(blobs, name):
    X, y = blobs
    model = make_model(name, 4, seed=3).fit(X)
    assert adjusted_rand_score(y, model.labels_) > 0.95
    assert model.cluster_centers_.shape == (4, 2)
    assert set(model.labels_.tolist()) == {0, 1, 2, 3}
    assert adjusted_rand_score(model.labels_, model.predict(X)) > 0.95


def test_kmeans_starts_are_seeded_rows_of_the_data(blobs):
    X, _ = blobs
    starts = kmeans_starts(X, 5, 3, seed=4)
    assert len(starts) == 3 and all(s.shape == (5, 2) for s in starts)
    rows = {tuple(row) for row in X}
    assert all(tuple(centre) in rows for s in starts for centre in s)  # k-means++ picks customers
    assert all(np.array_equal(a, b) for a, b in zip(starts, kmeans_starts(X, 5, 3, seed=4)))
    assert not np.array_equal(starts[0], starts[1])  # successive draws, not one start repeated


def test_kmeans_from_the_shared_starts_is_scikit_learns_kmeans():
    """The embedded engine's fit from `kmeans_starts` gives the segments scikit-learn's own n_init restarts give, on
    data without groups, where the restarts reach different optima (so which one is kept matters)."""
    X = np.random.default_rng(0).normal(size=(600, 3))
    for k in (4, 7):
        costs = {KMeans(n_clusters=k, init=start, n_init=1, tol=0.0).fit(X).inertia_ for start in kmeans_starts(X, k, 10, 42)}
        assert len(costs) > 1
        ours = _fit_kmeans(X, k, 10, seed=42)
        theirs = KMeans(n_clusters=k, n_init=10, random_state=42, tol=0.0, max_iter=300).fit(X)
        assert np.array_equal(ours.labels_, theirs.labels_) and ours.inertia_ == pytest.approx(theirs.inertia_, rel=1e-12)
        assert ours.inertia_ == pytest.approx(min(costs), rel=1e-12)


@pytest.mark.parametrize("name", ALGORITHMS)
def test_same_seed_same_labels(blobs, name):
    X, _ = blobs
    first = make_model(name, 3, seed=11).fit(X).labels_
    assert np.array_equal(first, make_model(name, 3, seed=11).fit(X).labels_)


@pytest.mark.parametrize("name", ALGORITHMS)
def test_predict_before_fit_is_an_error(name):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        make_model(name, 2).predict(np.zeros((3, 2)))


def test_ward_on_hand_computed_toy():
    X = np.array([[0.0], [1.0], [10.0], [11.0], [30.0]])
    model = WardClustering(k=3).fit(X)
    assert adjusted_rand_score(model.labels_, [0, 0, 1, 1, 2]) == 1.0
    assert sorted(model.cluster_centers_.ravel().tolist()) == [0.5, 10.5, 30.0]


def test_ward_samples_above_the_limit_and_assigns_the_rest(blobs):
    X, y = blobs
    model = WardClustering(k=4, seed=1, ward_max=100).fit(X)
    assert len(model.sample_indices_) == 100 and model.linkage_.shape == (99, 4)
    assert adjusted_rand_score(y, model.labels_) > 0.95
    rest = np.setdiff1d(np.arange(len(X)), model.sample_indices_)
    assert np.array_equal(model.labels_[rest], nearest_center(X[rest], model.cluster_centers_))


def test_gmm_bic_is_lowest_at_the_true_k(blobs):
    X, _ = blobs
    bics = {k: make_model("gmm", k, seed=0).fit(X).bic_ for k in range(2, 7)}
    assert min(bics, key=bics.get) == 4


def test_fit_path_ward_cuts_one_tree_like_separate_fits(blobs):
    X, _ = blobs
    path = fit_path("ward", X, [2, 3, 4], seed=0)
    for k, model in path.items():
        assert np.array_equal(model.labels_, WardClustering(k=k).fit(X).labels_)


def test_kprototypes_uses_the_categorical_column():
    rng = np.random.default_rng(0)
    group = np.repeat([0, 1, 2], 50)
    numeric = np.where(group[:, None] == 2, 4.0, 0.0) + rng.normal(scale=0.3, size=(150, 1))
    colour = np.where(group == 0, 0, 1)  # groups 0 and 1 differ only by the category
    X = np.column_stack([numeric, colour])
    model = make_model("kprototypes", 3, seed=0, categorical=(1,), gamma=2.0).fit(X)
    assert adjusted_rand_score(group, model.labels_) > 0.95
    assert set(model.cluster_centers_[:, 1].tolist()) == {0.0, 1.0}
    assert adjusted_rand_score(model.labels_, model.predict(X)) > 0.95


@pytest.mark.parametrize("call, error, message", [
    (lambda: make_model("dbscan", 3), UsageError, "algorithm must be one of kmeans, ward, gmm, minibatch"),
    (lambda: make_model("ward", 0).fit(np.zeros((3, 1))), UsageError, "'k' parameter of WardClustering must be int"),
    (lambda: make_model("kmeans", 5).fit(np.zeros((3, 1))), DataError, "n_samples=3 should be >= n_clusters=5."),
    (lambda: make_model("gmm", 2).fit([[np.nan], [1.0]]), DataError, "missing or infinite"),
    (lambda: make_model("kprototypes", 2).fit(np.zeros((4, 2))), UsageError, "categorical column positions"),
])
def test_errors_are_one_clear_line(call, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace("[", r"\[")):
        call()
