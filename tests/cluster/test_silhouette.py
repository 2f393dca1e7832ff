"""custseg._cluster._silhouette against scikit-learn, a hand-worked example, and the sampled estimate."""

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import silhouette_samples, silhouette_score

from custseg._errors import CustsegError, DataError, UsageError
from custseg._cluster._silhouette import SilhouetteEstimate, silhouette, silhouette_values, silhouettes
from shared_data import shared_file

STYLES = ["contiguous", "non-contiguous", "singleton"]
CASES = [  # (n, d, k, label style); the largest case once, as it runs scikit-learn's O(n^2)
    *[(n, d, k, style) for n, d, k in [(50, 3, 2), (1_000, 3, 4), (2_000, 17, 4)] for style in STYLES],
    (7_747, 3, 9, "non-contiguous+singleton"),
]


def blobs(n, d, k, seed=0):
    X, labels = make_blobs(n_samples=n, n_features=d, centers=k, cluster_std=2.5, random_state=seed)
    return X, labels


def relabel(labels, style):
    """The same partition written with other label values, or with one customer moved."""
    if "singleton" in style:  # one customer alone in a segment of its own
        labels = labels.copy()
        labels[len(labels) // 2] = labels.max() + 1
    if "non-contiguous" in style:  # 3, 7, 42, ... and one negative value
        values = np.array([3, 7, 42, -5, 1000, 11, 12, 99, 64, 8])
        labels = values[labels]
    return labels


@pytest.mark.parametrize(("n", "d", "k", "style"), CASES, ids=[f"n{n}-d{d}-k{k}-{style}" for n, d, k, style in CASES])
def test_matches_sklearn(n, d, k, style):
    X, labels = blobs(n, d, k)
    labels = relabel(labels, style)
    expected = silhouette_samples(X, labels)
    got = silhouette_values(X, labels)
    assert got.shape == (n,) and got.dtype == np.float64
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    estimate = silhouette(X, labels)
    assert estimate.method == "exact" and estimate.stderr == 0.0 and estimate.n_evaluated == n
    # silhouette_score is the mean of silhouette_samples; call it only where it is cheap
    score = silhouette_score(X, labels) if n <= 2_000 else expected.mean()
    assert abs(estimate.value - score) < 1e-12
    np.testing.assert_array_equal(estimate.samples, got)
    if "singleton" in style:
        assert got[n // 2] == 0.0  # scikit-learn's convention for a segment of one


def test_duplicate_points_match_sklearn():
    """Many identical customers: rounding makes some squared distances negative (clipped to 0)."""
    rng = np.random.default_rng(5)
    distinct = rng.normal(10.0, 3.0, size=(27, 3))
    X = distinct[rng.integers(0, 27, size=5_000)]  # each point ~185 times
    labels = rng.integers(0, 4, size=5_000)
    np.testing.assert_allclose(silhouette_values(X, labels), silhouette_samples(X, labels), rtol=0, atol=1e-12)


def test_all_points_identical_gives_zero():
    X = np.ones((6, 2))
    np.testing.assert_array_equal(silhouette_values(X, [0, 0, 0, 1, 1, 1]), np.zeros(6))


@pytest.mark.parametrize(("n", "block_bytes"), [(120, 8), (1_000, 3_000), (1_000, 10**6)])
def test_block_size_does_not_change_the_result(n, block_bytes):
    X, labels = blobs(n, 3, 4, seed=1)
    full = silhouette_values(X, labels)
    np.testing.assert_allclose(silhouette_values(X, labels, block_bytes=block_bytes), full, rtol=0, atol=1e-13)


def test_rows_subset_equals_same_entries_of_full():
    X, labels = blobs(2_000, 17, 4, seed=2)
    full = silhouette_values(X, labels)
    rows = np.random.default_rng(0).choice(2_000, size=300, replace=False)
    rows = np.concatenate([rows, rows[:5]])  # any order, repeats allowed
    np.testing.assert_allclose(silhouette_values(X, labels, rows), full[rows], rtol=0, atol=1e-13)
    mask = np.zeros(2_000, dtype=bool)
    mask[rows] = True
    np.testing.assert_allclose(silhouette_values(X, labels, mask), full[mask], rtol=0, atol=1e-13)
    assert silhouette_values(X, labels, []).shape == (0,)


def test_hand_computed_points_on_a_line():
    # Points 0, 1, 4, 6 on a line; segment "3" = {0, 1}, segment "7" = {4, 6}.
    # x=0: a = |0-1| = 1; b = (4 + 6) / 2 = 5;       s = (5 - 1) / 5   = 0.8
    # x=1: a = 1;         b = (3 + 5) / 2 = 4;       s = (4 - 1) / 4   = 0.75
    # x=4: a = |4-6| = 2; b = (4 + 3) / 2 = 3.5;     s = (3.5 - 2) / 3.5 = 3/7
    # x=6: a = 2;         b = (6 + 5) / 2 = 5.5;     s = (5.5 - 2) / 5.5 = 7/11
    # mean = (0.8 + 0.75 + 3/7 + 7/11) / 4
    X = [[0.0], [1.0], [4.0], [6.0]]
    expected = np.array([0.8, 0.75, 3 / 7, 7 / 11])
    np.testing.assert_allclose(silhouette_values(X, [3, 3, 7, 7]), expected, rtol=0, atol=1e-15)
    assert silhouette(X, [3, 3, 7, 7]).value == pytest.approx(expected.mean(), abs=1e-15)
    # The same points in 2-D, shifted and rotated by 90 degrees: distances unchanged.
    X2 = [[5.0, 0.0], [5.0, 1.0], [5.0, 4.0], [5.0, 6.0]]
    np.testing.assert_allclose(silhouette_values(X2, [3, 3, 7, 7]), expected, rtol=0, atol=1e-15)


@pytest.fixture(scope="module")
def large():
    X, labels = blobs(30_000, 3, 5, seed=3)
    return X, labels, silhouette_values(X, labels).mean()


def test_sampled_estimate_is_close_to_exact(large):
    X, labels, exact = large
    estimate = silhouette(X, labels, exact_max=20_000, sample_size=5_000, seed=1)
    assert isinstance(estimate, SilhouetteEstimate)
    assert estimate.method == "sampled" and estimate.n_evaluated == 5_000
    assert 0 < estimate.stderr < 0.01
    assert abs(estimate.value - exact) < 4 * estimate.stderr
    assert np.isnan(estimate.samples).sum() == 30_000 - 5_000
    evaluated = ~np.isnan(estimate.samples)
    assert estimate.value == pytest.approx(estimate.samples[evaluated].mean(), abs=1e-15)
    m, n = 5_000, 30_000
    expected_stderr = estimate.samples[evaluated].std(ddof=1) / np.sqrt(m) * np.sqrt(1 - m / n)
    assert estimate.stderr == pytest.approx(expected_stderr, rel=1e-12)
    # each sampled value is that point's exact silhouette
    rows = np.flatnonzero(evaluated)[:50]
    np.testing.assert_allclose(estimate.samples[rows], silhouette_values(X, labels, rows), rtol=0, atol=1e-13)


def test_sampled_estimate_is_deterministic_given_seed(large):
    X, labels, _ = large
    first = silhouette(X, labels, sample_size=2_000, seed=7)
    again = silhouette(X, labels, sample_size=2_000, seed=7)
    other = silhouette(X, labels, sample_size=2_000, seed=8)
    assert (first.value, first.stderr) == (again.value, again.stderr)
    np.testing.assert_array_equal(first.samples, again.samples)
    assert not np.array_equal(np.isnan(first.samples), np.isnan(other.samples))


def test_exact_up_to_exact_max_and_when_sample_covers_everything():
    X, labels = blobs(1_000, 3, 4)
    assert silhouette(X, labels, exact_max=1_000).method == "exact"
    assert silhouette(X, labels, exact_max=999, sample_size=200).method == "sampled"
    assert silhouette(X, labels, exact_max=10, sample_size=1_000).method == "exact"


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (np.zeros(50, dtype=int), "got 1 segment for 50 customers"),
        (np.arange(50), "got 50 segments for 50 customers"),
    ],
    ids=["one-segment", "one-per-customer"],
)
def test_number_of_segments_is_checked(labels, message):
    X, _ = blobs(50, 3, 2)
    for call in (silhouette_values, silhouette):
        with pytest.raises(UsageError, match="2 <= number of segments <= n_samples - 1; " + message):
            call(X, labels)


@pytest.mark.parametrize(
    ("X", "labels", "kwargs", "error", "message"),
    [
        ([[0.0], [np.nan], [1.0]], [0, 1, 1], {}, DataError, "finite"),
        ([[0.0], [np.inf], [1.0]], [0, 1, 1], {}, DataError, "finite"),
        ([["a"], ["b"], ["c"]], [0, 1, 1], {}, DataError, "numeric"),
        ([0.0, 1.0, 2.0], [0, 1, 1], {}, UsageError, "2-D"),
        ([[0.0], [1.0], [2.0]], [0, 1], {}, UsageError, "one label per customer"),
        ([[0.0], [1.0], [2.0]], [0, 1, 1], {"rows": [0, 3]}, UsageError, "indices in 0..2"),
        ([[0.0], [1.0], [2.0]], [0, 1, 1], {"rows": [0.5]}, UsageError, "integer indices"),
        ([[0.0], [1.0], [2.0]], [0, 1, 1], {"block_bytes": 0}, UsageError, "block_bytes"),
    ],
)
def test_invalid_inputs(X, labels, kwargs, error, message):
    with pytest.raises(error, match=message):
        silhouette_values(X, labels, **kwargs)


@pytest.mark.parametrize("kwargs", [{"sample_size": 1}, {"exact_max": -1}, {"sample_size": 10.5}])
def test_invalid_sampling_options(kwargs):
    X, labels = blobs(50, 3, 2)
    with pytest.raises(UsageError):
        silhouette(X, labels, **kwargs)


def test_errors_are_custseg_errors():
    assert issubclass(UsageError, CustsegError) and issubclass(DataError, CustsegError)


REAL = {  # file, reader options, numeric columns (log1p: amounts are skewed)
    "wholesale": ("wholesale_customers.csv", {"sep": ";"}, ["Fresh", "Milk", "Grocery"]),
    "cc_general": ("cc_general.csv", {}, ["BALANCE", "PURCHASES", "CREDIT_LIMIT"]),  # ~8,900 customers: 3 tiles, 2 threads
}


def k_path(X, ks=range(2, 11)):
    return [KMeans(n_clusters=k, n_init=1, random_state=0).fit(X).labels_ for k in ks]


@pytest.mark.parametrize("name", REAL)
def test_silhouettes_of_a_k_path_equal_one_at_a_time_on_real_data(name):
    """The k table's silhouettes (each distance once for k = 2..10) are those of the single-k path, and scikit-learn's."""
    file, options, columns = REAL[name]
    X = np.log1p(pd.read_csv(shared_file(file), **options)[columns].dropna().to_numpy(np.float64))
    labelings = k_path(X)
    estimates = silhouettes(X, labelings)
    assert [e.method for e in estimates] == ["exact"] * 9
    for labels, estimate in zip(labelings, estimates):
        one = silhouette_values(X, labels)
        np.testing.assert_allclose(estimate.samples, one, rtol=0, atol=1e-13)
        assert estimate.value == pytest.approx(one.mean(), rel=1e-12)
    if len(X) <= 1_000:  # scikit-learn's O(n^2) only where it is cheap
        for labels, estimate in zip(labelings, estimates):
            np.testing.assert_allclose(estimate.samples, silhouette_samples(X, labels), rtol=0, atol=1e-12)


def test_sampled_k_path_in_single_precision_is_float64s_on_real_data():
    """The segmenter's k table: 9 k's, sampled points, float32 distances summed for all k at once; each
    per-point value is float64's to float32 rounding, and the estimates agree far inside their error."""
    file, options, columns = REAL["cc_general"]
    X = np.log1p(pd.read_csv(shared_file(file), **options)[columns].dropna().to_numpy(np.float64))
    sampled = {"exact_max": 1_000, "sample_size": 2_000, "seed": 3}
    single = silhouettes(X, k_path(X), **sampled, single_precision=True)
    double = silhouettes(X, k_path(X), **sampled)
    for fast, exact in zip(single, double):
        assert fast.method == exact.method == "sampled"
        np.testing.assert_array_equal(np.isnan(fast.samples), np.isnan(exact.samples))
        np.testing.assert_allclose(fast.samples, exact.samples, rtol=0, atol=1e-4)  # measured 4e-5, as one k at a time
        assert abs(fast.value - exact.value) < min(1e-6, exact.stderr / 1_000)  # measured 4e-7; stderr 3e-3


def test_silhouettes_with_duplicates_singletons_and_other_label_values():
    rng = np.random.default_rng(5)
    X = rng.normal(10.0, 3.0, size=(27, 3))[rng.integers(0, 27, size=2_000)]  # each point ~75 times: clipped distances
    labelings = [relabel(labels, style) for labels, style in zip(k_path(X, [2, 4, 6]), STYLES)]
    for labels, estimate in zip(labelings, silhouettes(X, labelings)):
        np.testing.assert_allclose(estimate.samples, silhouette_samples(X, labels), rtol=0, atol=1e-12)


@pytest.mark.parametrize("single_precision", [False, True])
def test_sampled_silhouettes_equal_one_at_a_time(large, single_precision):
    X, labels, _ = large
    labelings = [labels, relabel(labels, "non-contiguous+singleton"), k_path(X, [3])[0]]
    options = {"sample_size": 2_000, "seed": 7, "single_precision": single_precision}
    for labels, estimate in zip(labelings, silhouettes(X, labelings, **options)):
        one = silhouette(X, labels, **options)
        assert estimate.method == one.method == "sampled" and estimate.n_evaluated == 2_000
        exact = silhouette(X, labels, **options | {"single_precision": False})
        tolerance = 1e-5 if single_precision else 1e-13  # float32 sums in another order than one labelling's
        np.testing.assert_allclose(estimate.samples, one.samples, rtol=0, atol=tolerance)
        np.testing.assert_allclose(estimate.samples, exact.samples, rtol=0, atol=tolerance)
        assert estimate.value == pytest.approx(one.value, abs=tolerance / 10)
        assert estimate.stderr == pytest.approx(one.stderr, abs=tolerance / 10)


def test_silhouettes_checks_each_labelling():
    X, labels = blobs(50, 3, 2)
    assert silhouettes(X, []) == []
    with pytest.raises(UsageError, match="got 1 segment for 50 customers"):
        silhouettes(X, [labels, np.zeros(50, dtype=int)])
