"""Scalers: tie-aware rank + z-score, the study's rank-first, the others, and applying a stored scaler to new rows."""

import numpy as np
import pandas as pd
import pytest

from custseg import DataError, NotFittedError, Scaler, Segmenter, UsageError
from custseg._config._options import SCALINGS

X = np.array([[3.0, 10.0], [1.0, 10.0], [2.0, 30.0], [2.0, 20.0]])


def test_rank_first_matches_pandas_first_rank_then_z():
    frame = pd.DataFrame(X)
    ranks = frame.rank(method="first")
    expected = ((ranks - ranks.mean()) / ranks.std()).to_numpy()
    np.testing.assert_allclose(Scaler("rank-first").fit_transform(X), expected, rtol=1e-12)


def test_rank_matches_pandas_average_rank_then_z():
    frame = pd.DataFrame(X)
    ranks = frame.rank(method="average")
    expected = ((ranks - ranks.mean()) / ranks.std()).to_numpy()
    np.testing.assert_allclose(Scaler("rank").fit_transform(X), expected, rtol=1e-12)


@pytest.mark.parametrize("kind", ["log", "robust", "standard", "none"])
def test_other_scalers_round_trip_through_json(kind):
    scaler = Scaler(kind)
    Z = scaler.fit_transform(X)
    restored = Scaler.from_dict(scaler.to_dict())
    np.testing.assert_allclose(restored.transform(X), Z, rtol=1e-12)


def test_standard_equals_sklearn():
    from sklearn.preprocessing import StandardScaler

    np.testing.assert_allclose(Scaler("standard").fit_transform(X), StandardScaler().fit_transform(X))


def test_rank_first_scores_new_rows_against_the_training_distribution():
    scaler = Scaler.from_dict(Scaler("rank-first").fit(X).to_dict())
    new = np.array([[0.0, 10.0], [3.5, 25.0], [2.0, 10.0]])
    Z = scaler.transform(new)
    # 0.0 is below all four training values: mid-rank 0.5; 2.0 ties the values ranked 2 and 3: 2.5
    mean, std = 2.5, np.std([1, 2, 3, 4], ddof=1)
    np.testing.assert_allclose(Z[:, 0], (np.array([0.5, 4.5, 2.5]) - mean) / std)
    assert scaler.out_of_range(new).tolist() == [True, True, False]


def test_constant_column_does_not_divide_by_zero():
    Z = Scaler("standard").fit_transform(np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0]]))
    assert np.isfinite(Z).all() and (Z[:, 1] == 0).all()


def test_errors():
    with pytest.raises(NotFittedError):
        Scaler("rank").transform(X)
    with pytest.raises(UsageError, match="scaling must be one of"):
        Scaler("zscore").fit(X)
    with pytest.raises(DataError, match="missing or infinite"):
        Scaler("rank").fit(np.array([[1.0], [np.nan]]))


def test_rank_first_scores_training_customers_exactly_as_trained():
    rng = np.random.default_rng(0)
    X = np.c_[rng.integers(1, 6, 500).astype(float), rng.lognormal(3, 1, 500).round(2)]
    ids = np.array([f"acc{i:04d}" for i in range(500)])
    scaler = Scaler("rank-first")
    Z = scaler.fit_transform(X, ids)
    restored = Scaler.from_dict(scaler.to_dict())
    shuffled = rng.permutation(500)
    np.testing.assert_array_equal(restored.transform(X[shuffled], ids[shuffled]), Z[shuffled])
    # a new customer equal to a training value lands between its neighbours, by id
    new = restored.transform(X[:1], np.array(["acc0000x"]))
    first = np.argsort(np.lexsort((ids, X[:, 0])))[0] + 1  # training rank of acc0000 on feature 0
    assert (new[0, 0] * scaler.scale_[0] + scaler.center_[0]) == first + 0.5


@pytest.mark.parametrize("kind", ["rank", "log", "standard"])
def test_one_hot_indicators_pass_through_with_their_weight(kind):
    X = np.array([[5.0, 1.0, 0.0], [1.0, 0.0, 1.0], [3.0, 1.0, 0.0], [4.0, 0.0, 1.0]])
    scaler = Scaler(kind, indicators=(1, 2), indicator_weight=0.5)
    Z = scaler.fit_transform(X)
    np.testing.assert_array_equal(Z[:, 1:], X[:, 1:] * 0.5)  # same category, same value: no rank by row order
    restored = Scaler.from_dict(scaler.to_dict())
    np.testing.assert_allclose(restored.transform(X, np.arange(4).astype(str)), Z)


def test_rank_scores_training_customers_as_trained_without_ids():
    rng = np.random.default_rng(0)
    X = np.c_[rng.integers(1, 6, 500).astype(float), rng.lognormal(3, 1, 500).round(2)]
    scaler = Scaler("rank")
    Z = scaler.fit_transform(X)
    document = scaler.to_dict()
    assert document["ties"] == "average" and "ids" not in document["reference"]
    restored = Scaler.from_dict(document)
    shuffled = rng.permutation(500)
    np.testing.assert_array_equal(restored.transform(X[shuffled]), Z[shuffled])


def test_an_old_rank_model_without_a_tie_rule_scores_as_rank_first():
    ids = np.array(["a", "b", "c", "d"])  # rows in customer-id order, as the workflows give them
    trained = Scaler("rank-first")
    Z = trained.fit_transform(X, ids)
    old = trained.to_dict() | {"kind": "rank"}
    del old["ties"]  # model.json files written before the tie rule existed
    restored = Scaler.from_dict(old)
    assert restored.kind == "rank-first"
    np.testing.assert_array_equal(restored.transform(X, ids), Z)


IDENTICAL = np.r_[np.repeat([[99.0, 1.0, 99.0]], 24, axis=0), np.repeat([[250.0, 3.0, 83.3]], 30, axis=0),
                  np.random.default_rng(4).lognormal(5, 1, (300, 3)).round(0)]


@pytest.mark.parametrize("kind", [kind for kind in SCALINGS if kind != "rank-first"])
def test_identical_customers_always_share_a_segment(kind):
    """24 customers with exactly one 99.00 order (and 30 others alike) end in one segment, when trained and scored."""
    ids = np.array([f"acc{i:04d}" for i in range(len(IDENTICAL))])
    scaler = Scaler(kind)
    Z = scaler.fit_transform(IDENTICAL, ids)
    model = Segmenter(k_range=(3, 6), random_state=0).fit(Z)
    restored = Scaler.from_dict(scaler.to_dict())
    scored = model.predict(restored.transform(IDENTICAL[::-1], ids[::-1]))[::-1]
    for group in (slice(0, 24), slice(24, 54)):
        assert len(set(model.labels_[group])) == 1 and len(set(scored[group])) == 1


def test_rank_first_is_the_study_tie_rule_by_row_order():
    """The study's rank(method='first') gives identical customers different model values."""
    Z = Scaler("rank-first").fit_transform(IDENTICAL)
    assert len(np.unique(Z[:24], axis=0)) == 24
