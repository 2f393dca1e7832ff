"""The segmenter: k chosen by the stated rule, scikit-learn conventions, label-free comparisons."""

import numpy as np
import pytest
import pandas as pd
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from custseg import DataError, NotFittedError, Segmenter, UsageError
from custseg._cluster._choice import choose_k
from custseg._cluster._jaccard import segment_jaccard
from custseg._cluster._segmenter import _fit_kmeans
from custseg._cluster._vote import vote_k
from custseg._config import parse_k_range
from test_nbclust_panel import units


@pytest.mark.parametrize(("true_k", "blob_seed"), [(2, 2), (3, 3), (5, 7)])
def test_finds_the_number_of_well_separated_groups(true_k, blob_seed):
    X, truth = make_blobs(n_samples=600, centers=true_k, cluster_std=0.3, random_state=blob_seed, center_box=(-20, 20))
    # the business minimum set to 2: the blobs' own count is asked for, 2 included
    model = Segmenter(k_range=(2, 7), random_state=1, k_rule="silhouette", business_min_k=2).fit(X)
    assert model.k_ == true_k
    assert adjusted_rand_score(truth, model.labels_) > 0.99
    assert model.k_selection_["chosen"].sum() == 1
    assert f"k={true_k} has the highest silhouette" in model.reason_["en"]
    voted = Segmenter(k_range=(2, 7), random_state=1, business_min_k=2).fit(X)
    assert voted.k_ == true_k and f"k={true_k} has the most votes" in voted.reason_["en"]
    assert voted.k_selection_.set_index("k").loc[true_k, "votes"] >= 4


def test_small_segments_make_a_k_ineligible():
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(0, 0.3, (300, 2)), rng.normal(10, 0.3, (300, 2)), rng.normal(30, 0.1, (3, 2))]
    model = Segmenter(k_range=(2, 4), random_state=0, min_share=0.02, k_rule="silhouette", business_min_k=2).fit(X)
    table = model.k_selection_.set_index("k")
    assert not table.loc[3, "eligible"]  # the 3-point group is 0.5% of customers
    assert model.k_ != 3 and "excluded for a segment under 2%: k=3" in model.reason_["en"]
    voted = Segmenter(k_range=(2, 4), random_state=0, business_min_k=2).fit(X)
    assert voted.k_ != 3 and "not eligible for a segment under 5%: k=3" in voted.reason_["en"]


def test_forced_k_and_reproducibility():
    X, _ = make_blobs(n_samples=300, centers=4, random_state=0)
    a = Segmenter(n_clusters=3, random_state=7).fit(X)
    b = Segmenter(n_clusters=3, random_state=7).fit(X)
    assert a.k_ == 3 and np.array_equal(a.labels_, b.labels_)
    assert "set by the user" in a.reason_["en"]


def test_predict_and_transform_follow_sklearn_conventions():
    X, _ = make_blobs(n_samples=200, centers=3, random_state=2)
    model = Segmenter(n_clusters=3)
    with pytest.raises(NotFittedError):
        model.predict(X)
    assert model.fit(X) is model
    assert np.array_equal(model.predict(X), model.labels_)
    assert model.transform(X).shape == (200, 3)


def test_relabel_keeps_the_partition():
    X, _ = make_blobs(n_samples=200, centers=3, random_state=3)
    model = Segmenter(n_clusters=3).fit(X)
    before = model.labels_.copy()
    model.relabel(np.array([2, 0, 1]))
    assert adjusted_rand_score(before, model.labels_) == 1.0
    assert np.array_equal(model.predict(X), model.labels_)


def test_errors_quote_the_numbers():
    with pytest.raises(DataError, match="n_customers=1 is too few"):
        Segmenter(n_clusters=2).fit(np.zeros((1, 2)))
    with pytest.raises(DataError, match=r"n_customers=3 should be > k=4"):
        Segmenter(n_clusters=4).fit(np.arange(6.0).reshape(3, 2))
    with pytest.raises(DataError, match="only 1 distinct customer profile"):
        Segmenter(n_clusters=2).fit(np.ones((10, 2)))
    with pytest.raises(UsageError, match="The 'n_init' parameter of Segmenter must be int in"):
        Segmenter(n_init=0).fit(np.arange(20.0).reshape(10, 2))


@pytest.mark.parametrize("text", ["8..4", "1..3", "x", "2-5"])
def test_bad_k_ranges(text):
    with pytest.raises(UsageError, match="k range"):
        parse_k_range(text)


@pytest.mark.parametrize("algorithm", ["ward", "gmm", "minibatch"])
def test_other_algorithms_behind_the_same_interface(algorithm):
    X, truth = make_blobs(n_samples=400, centers=4, cluster_std=0.4, random_state=7, center_box=(-15, 15))
    rule = "silhouette" if algorithm == "gmm" else "vote"  # the lowest BIC is the previous rule's, for gmm
    model = Segmenter(k_range=(2, 6), random_state=3, algorithm=algorithm, k_rule=rule).fit(X)
    assert model.k_ == 4, model.k_selection_
    assert adjusted_rand_score(truth, model.labels_) > 0.98
    assert np.array_equal(model.predict(X), model.labels_) or algorithm == "gmm"
    if algorithm == "gmm":
        assert "lowest BIC" in model.reason_["en"] and "bic" in model.k_selection_.columns


def test_stability_and_gap_columns():
    X, _ = make_blobs(n_samples=300, centers=3, cluster_std=0.4, random_state=1)
    table = Segmenter(k_range=(2, 5), random_state=0, n_boot=3, gap_refs=3).fit(X).k_selection_.set_index("k")
    assert table.loc[3, "stability_ari"] > 0.95
    assert table["gap_choice"].sum() <= 1 and table.loc[3, "gap"] > table.loc[2, "gap"]
    with pytest.raises(UsageError, match="The 'algorithm' parameter of Segmenter must be one of"):
        Segmenter(algorithm="dbscan").fit(X)


@parametrize_with_checks([Segmenter(n_jaccard=5)])  # the whole path, per-segment stability on 5 resamples (not 50)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def test_old_parameter_names_still_work_with_a_deprecation_warning():
    X, _ = make_blobs(n_samples=120, centers=3, random_state=0)
    with pytest.warns(FutureWarning, match="'k' is deprecated; use 'n_clusters'"):
        old = Segmenter(k=3, seed=5).fit(X)
    new = Segmenter(n_clusters=3, random_state=5).fit(X)
    assert old.k_ == new.k_ == 3 and np.array_equal(old.labels_, new.labels_)


def test_works_in_a_pipeline_and_a_grid_search():
    X, _ = make_blobs(n_samples=200, centers=4, cluster_std=0.4, center_box=(-20, 20), random_state=1)
    pipeline = make_pipeline(StandardScaler(), Segmenter(k_range=(2, 6), random_state=0))
    labels = pipeline.fit_predict(X)
    assert adjusted_rand_score(labels, clone(pipeline).fit(X).predict(X)) == 1.0
    search = GridSearchCV(Segmenter(random_state=0), {"n_clusters": [2, 3, 4]}, cv=3,
                          scoring=lambda model, data, _=None: silhouette_score(data, model.predict(data))).fit(X)
    assert search.best_params_["n_clusters"] == 4


def test_the_vote_table_and_its_sentence():
    X, _ = make_blobs(n_samples=900, centers=4, cluster_std=0.6, random_state=11, center_box=(-12, 12))
    model = Segmenter(random_state=0).fit(X)
    table = model.k_selection_.set_index("k")
    assert table.index.tolist() == list(range(3, 9))  # the default range
    assert {"stability_ari", "gap", "inertia_ratio", "votes", "voted_by", "stable", "eligible", "jaccard_min", "kl",
            "hartigan", "duda_critical", "mcclain"} <= set(table.columns)
    assert model.k_ == 4 and table["votes"].sum() <= 23 and table.loc[4, "votes"] == table["votes"].max()
    voters = table.loc[4, "voted_by"].split(", ")
    assert "silhouette" in voters and f"({len(voters)} of " in model.reason_["en"]
    assert model.reason_["fr"].startswith("k=4 a le plus de votes")
    assert model.warnings_ == [] and model.hopkins_ > 0.9


def test_a_dissolving_segment_makes_k_ineligible_and_ties_go_to_the_smaller_k():
    from custseg._cluster._vote import vote_k
    import pandas as pd

    table = pd.DataFrame({"k": [3, 4, 5], "silhouette": [0.5, 0.4, 0.6], "inertia_ratio": [0.9, 0.5, 0.4],
                          "stability_ari": [0.7, 0.8, 0.99], "jaccard_min": [0.7, 0.8, 0.55], "min_share": [0.2, 0.2, 0.2],
                          "eligible": True})
    k, reason, rule = vote_k(table, 0.05)
    # k=5 has a segment under 0.6: not eligible, so HCPC's ratio and stability vote k=4, the silhouette k=3
    assert k == 4 and table.set_index("k").loc[4, "votes"] == 2 and not table.set_index("k").loc[5, "eligible"]
    assert "not eligible as a segment dissolves under resampling (Jaccard under 0.6): k=5" in reason["en"]
    assert "un Jaccard bootstrap d'au moins 0,6 ;" in reason["fr"] and "(Jaccard sous 0,6) : k=5" in reason["fr"]
    assert rule.endswith("and every segment's bootstrap Jaccard >= 0.6, ties to the smaller k")
    table["gap_choice"] = [True, False, False]  # the gap now votes k=3: 2 votes each
    k, reason, _ = vote_k(table, 0.05)
    assert k == 3 and "tied with k=4, the smaller k is kept (fewer segments are easier to act on)" in reason["en"]


def test_warnings_in_words():
    rng = np.random.default_rng(0)
    continuum = rng.uniform(size=(1_500, 2))
    model = Segmenter(k_range=(3, 5), random_state=0, n_jaccard=10).fit(continuum)
    texts = " ".join(w["en"] for w in model.warnings_)
    assert "a partition of a continuum, not natural groups" in texts and "copies of the data built without groups" in texts
    assert not model.structure_["natural_groups"] and model.structure_["copies"] == 5
    assert "partition d'un continuum" not in texts and any("découpage d'un continuum" in w["fr"] for w in model.warnings_)


def test_at_the_top_of_the_range_the_next_ks_are_tried_first(monkeypatch):
    import custseg._cluster._segmenter as segmenter_module

    real = segmenter_module.choose_k

    def top(table, *args, **kwargs):  # a vote that always lands on the largest k it is shown
        choice = real(table, *args, **kwargs)
        return choice._replace(k=int(table.k.max()))

    monkeypatch.setattr(segmenter_module, "choose_k", top)
    X, _ = make_blobs(n_samples=400, centers=5, cluster_std=0.5, random_state=1)
    model = Segmenter(k_range=(3, 5), random_state=0, n_jaccard=5).fit(X)
    assert model.k_selection_.k.tolist() == [3, 4, 5, 6, 7] and model.k_ == 7
    assert "k=5 was at the top of the range 3..5, so k=6, 7 were tried too before choosing." in model.reason_["en"]
    assert Segmenter(k_range=(3, 5), random_state=0, n_jaccard=5)._beyond(X[:6], [3, 4, 5]) == []  # n - 1 = 5 caps it


def test_no_fewer_than_the_business_minimum_is_advised():
    table = pd.DataFrame({"k": [3, 4, 5], "silhouette": [0.6, 0.4, 0.3], "inertia_ratio": [0.4, 0.8, 0.9],
                          "min_share": [0.3, 0.2, 0.1], "eligible": True})
    choice = choose_k(table, 0.05, rule="vote")
    assert choice.k == 3 and not any("smallest k tried" in w["en"] for w in choice.warnings)
    assert choice.reason["en"].endswith("k=3 is the bottom of the range and fewer than 3 segments are not advised for "
                                        "a marketing partition (the business minimum, --business-min-k).")
    table["k"] = [4, 5, 6]  # a range that starts above the minimum: fewer may fit, say so
    choice = choose_k(table, 0.05, rule="vote", business_min=3)
    assert "try a range that starts lower (e.g. 3..6; 3 is the business minimum of segments)" in choice.warnings[0]["en"]


def test_no_stable_k_is_warned_and_the_size_condition_still_holds():
    from custseg._cluster._choice import choose_k
    import pandas as pd

    table = pd.DataFrame({"k": [3, 4], "silhouette": [0.3, 0.35], "calinski_harabasz": [1.0, 2.0],
                          "davies_bouldin": [0.9, 0.8], "stability_ari": [0.5, 0.6], "min_share": [0.2, 0.1],
                          "eligible": True})
    choice = choose_k(table, 0.05, rule="vote")
    assert choice.k == 4 and any("No k in 3..4 is stable" in w["en"] for w in choice.warnings)


def test_k_chosen_on_a_sample_then_fitted_on_everyone():
    X, _ = make_blobs(n_samples=3_000, centers=4, cluster_std=1.0, random_state=3, center_box=(-20, 20))
    full = Segmenter(k_range=(2, 6), random_state=0, k_sample_size=None, k_rule="silhouette").fit(X)
    sampled = Segmenter(k_range=(2, 6), random_state=0, k_sample_size=800, k_rule="silhouette").fit(X)
    assert full.k_sample_ is None and "n_scored" not in full.k_selection_.columns
    assert sampled.k_ == full.k_ == 4
    assert len(sampled.labels_) == 3_000 and np.isfinite(sampled.silhouette_samples_).any()
    assert adjusted_rand_score(full.labels_, sampled.labels_) >= 0.95
    assert (sampled.k_selection_["n_scored"] == 800).all()
    record = sampled.k_sample_
    assert (record["size"], record["of"], record["seed"]) == (800, 3_000, 0)
    assert record["adjusted_rand_on_sample"] >= 0.95 and record["final"]["inertia"] == pytest.approx(sampled.inertia_)
    assert "random sample (seed 0) of 800 of the 3,000 customers" in sampled.reason_["en"]
    assert "échantillon" in sampled.reason_["fr"]


def test_no_sample_with_a_given_k_or_below_the_sample_size():
    X, _ = make_blobs(n_samples=500, centers=3, random_state=1)
    assert Segmenter(n_clusters=3, k_sample_size=100).fit(X).k_sample_ is None
    assert Segmenter(k_range=(2, 4), k_sample_size=500).fit(X).k_sample_ is None
    with pytest.raises(UsageError, match="'k_sample_size' parameter of Segmenter"):
        Segmenter(k_range=(2, 4), k_sample_size=1).fit(X)


@pytest.mark.parametrize("rule", ["vote", "silhouette"])
def test_a_k_under_the_business_minimum_is_never_chosen_when_the_range_holds_a_larger_one(rule):
    # k=2 has the best silhouette and inertia ratio: every index would pick it; the minimum of 3 rules it out
    table = pd.DataFrame({"k": [2, 3, 4], "silhouette": [0.7, 0.4, 0.3], "inertia_ratio": [0.3, 0.8, 0.9],
                          "min_share": [0.4, 0.3, 0.2], "eligible": True})
    choice = choose_k(table.copy(), 0.05, rule=rule, business_min=3)
    assert choice.k == 3 and "under 5%" not in choice.reason["en"]
    assert choice.reason["en"].endswith("k=2 was not advised: fewer than 3 segments are not worth a marketing "
                                        "partition (the business minimum, --business-min-k).")
    assert "k=2 a été écarté : moins de 3 segments" in choice.reason["fr"]
    assert choose_k(table.copy(), 0.05, rule=rule, business_min=2).k == 2  # the minimum is the user's
    only = choose_k(table[table.k == 2].copy(), 0.05, rule=rule, business_min=3)  # nothing larger to advise
    assert only.k == 2 and "k=2 is under the business minimum of 3 segments (--business-min-k): the range 2..2 holds " \
                           "no larger k." in only.reason["en"]


@pytest.mark.parametrize("case", ["wholesale_spend", "mall"])
def test_measuring_the_deciding_ks_chooses_as_measuring_every_k(case, tmp_path):
    Z = units(case, tmp_path)
    model = Segmenter(random_state=42).fit(Z)
    lazy = model.k_selection_
    unmeasured = lazy.loc[lazy.jaccard_min.isna(), "k"].tolist()
    assert unmeasured and f"the bootstrap Jaccard was measured at k={', '.join(map(str, sorted(model.jaccard_)))}" \
        in model.reason_["en"]
    assert lazy.loc[lazy.jaccard_min.isna(), "stable"].isna().all()  # not measured: neither stable nor unstable
    assert lazy.loc[lazy.jaccard_min.notna(), "stable"].tolist() == (lazy.jaccard_min.dropna() >= 0.6).tolist()
    every = segment_jaccard(Z, {k: _fit_kmeans(Z, k, 10, 42).labels_ for k in lazy.k}, B=50, seed=42)
    for k, values in model.jaccard_.items():  # the same resamples and refits, measured alone or with every k
        np.testing.assert_array_equal(values, every[k])
    full = lazy.drop(columns=["votes", "voted_by", "stable", "chosen"]).assign(
        jaccard_min=[float(every[k].min()) for k in lazy.k], eligible=lazy.min_share >= 0.05)
    assert vote_k(full, 0.05, floor=3)[0] == model.k_
    assert full.votes.max() == lazy.votes.max() and (full.votes == lazy.votes)[full.k == model.k_].all()


def test_abstentions_and_a_dropped_stability_condition_are_told_apart():
    table = pd.DataFrame({"k": [3, 4, 5], "silhouette": [0.5, 0.4, 0.6], "inertia_ratio": [0.9, 0.5, 0.4],
                          "stability_ari": [0.7, 0.8, 0.99], "jaccard_min": [0.5, 0.55, 0.3], "min_share": [0.2, 0.2, 0.01],
                          "gap_choice": [False, False, False]})
    k, reason, _ = vote_k(table, 0.05)
    # no k keeps its segments: the condition is dropped and said so, not claimed; k=5 is too small (1%)
    assert k == 4 and "whose every segment keeps" not in reason["en"]  # HCPC and stability: 2 votes to 1
    assert ("(no k keeps every segment's bootstrap Jaccard at 0.6 or more: that condition was dropped, see the "
            "warning)") in reason["en"] and "cette condition a été levée" in reason["fr"]
    assert "no vote, no k by their rule: gap statistic" in reason["en"]  # the gap found no k at all
    table = table.assign(jaccard_min=[0.7, 0.8, 0.9], min_share=0.2, gap_choice=[False, False, True])
    table.loc[table.k == 5, "min_share"] = 0.01
    k, reason, _ = vote_k(table, 0.05)
    assert "no vote, their k not eligible: gap statistic (k=5)" in reason["en"]
    assert "sans vote, leur k n'étant pas éligible : statistique du gap (k=5)" in reason["fr"]
