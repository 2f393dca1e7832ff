"""Are there natural groups? The chosen k against copies of the data built to have none.

Each copy keeps every feature's distribution exactly (its column is a permutation of the
data's) and their rank correlations (a Gaussian copula: normal scores of the ranks, drawn
again from their correlation matrix, mapped back through each feature's sorted values), but
is one smooth cloud: no groups. Skewed, tied, correlated sales features make K-means look
good on such copies too (silhouette 0.40 on copies of Online Retail, 0.43 on the data), so
the data are judged against them, as the gap statistic does: gap = mean log W(copies) -
log W(data) at the chosen k, W the within-segment sum of squares of K-means (3 starts) on
a seeded sample of at most `SAMPLE` customers. The segments are "tighter" by 1 - exp(-gap);
under `NATURAL_GAP` (14% tighter) they are a partition of a continuum, not natural groups.

>>> rng = np.random.default_rng(0)
>>> blobs = np.r_[rng.normal(0, 1, (200, 2)), rng.normal(8, 1, (200, 2))]
>>> structure(blobs, 2, seed=0)["natural_groups"], structure(rng.normal(size=(400, 2)), 2, seed=0)["natural_groups"]
(True, False)
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm, rankdata
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from threadpoolctl import threadpool_limits

from .._i18n import format_number, format_percent
from ._algorithms import checked_once

COPIES = 5
SAMPLE = 2_000
NATURAL_GAP = 0.15


def copula_copy(X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A copy of `X` without groups: each column a permutation of X's, their rank correlations kept."""
    n, p = X.shape
    scores = norm.ppf((np.column_stack([rankdata(column) for column in X.T]) - 0.5) / n)
    with np.errstate(invalid="ignore", divide="ignore"):
        correlation = np.nan_to_num(np.corrcoef(scores, rowvar=False).reshape(p, p))  # a constant column: 0
    np.fill_diagonal(correlation, 1.0)
    draw = rng.multivariate_normal(np.zeros(p), correlation, size=n, method="eigh")
    ranks = np.argsort(np.argsort(draw, axis=0), axis=0)
    return np.column_stack([np.sort(X[:, j])[ranks[:, j]] for j in range(p)])


def structure(X: np.ndarray, k: int, seed: int = 0, copies: int = COPIES, sample_size: int = SAMPLE) -> dict:
    """The record of run.json's `k.structure`: gap (and its sd over the copies), how much tighter, the silhouettes
    of the data and of the copies, and whether that makes natural groups."""
    rng = np.random.default_rng([seed, 5])
    X = np.asarray(X, dtype=np.float64)
    if len(X) > sample_size:
        X = X[np.sort(rng.choice(len(X), size=sample_size, replace=False))]

    def fit(data: np.ndarray) -> tuple[float, float]:
        labels = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(data)
        spread = max(float(labels.inertia_), np.finfo(float).tiny)
        several = 2 <= len(np.unique(labels.labels_)) < len(data)
        return np.log(spread), float(silhouette_score(data, labels.labels_)) if several else float("nan")

    with threadpool_limits(limits=1, user_api="openmp"), checked_once():
        observed = fit(X)
        reference = np.array([fit(copula_copy(X, rng)) for _ in range(copies)])
    gap = float(reference[:, 0].mean() - observed[0])
    return {"k": k, "copies": copies, "sample": len(X), "seed": seed, "gap": round(gap, 4),
            "gap_sd": round(float(reference[:, 0].std()), 4), "tighter": round(1 - float(np.exp(-gap)), 4),
            "silhouette": round(observed[1], 4), "silhouette_copies": round(float(np.nanmean(reference[:, 1])), 4),
            "natural_groups": gap >= NATURAL_GAP}


def structure_words(record: dict) -> dict:
    """The judgement in a sentence {"en", "fr"}."""
    tighter, s, s_copies, n = max(record["tighter"], 0.0), record["silhouette"], record["silhouette_copies"], record["copies"]
    facts_en = (f"the segments are {tighter:.0%} tighter (within-segment sum of squares) than K-means finds on {n} "
                f"copies of the data built without groups, each feature's distribution and their rank correlations "
                f"kept (silhouette {s:.2f} against {s_copies:.2f} on the copies)")
    facts_fr = (f"les segments sont {format_percent(tighter, 'fr', 0)} plus resserrés (somme des carrés intra-segment) que "
                f"ce que les K-means trouvent sur {n} copies des données construites sans groupes, en gardant la distribution "
                f"de chaque variable et leurs corrélations de rangs (silhouette {format_number(s, 'fr', 2)} contre "
                f"{format_number(s_copies, 'fr', 2)} sur les copies)")
    if record["natural_groups"]:
        return {"en": f"Natural groups: {facts_en}.", "fr": f"Groupes naturels : {facts_fr}."}
    return {"en": f"The data show no clear cluster structure: {facts_en}, under {1 - np.exp(-NATURAL_GAP):.0%}; these "
                  f"segments are a partition of a continuum, not natural groups; their borders are a convention.",
            "fr": f"Les données ne montrent pas de structure en groupes nette : {facts_fr}, sous "
                  f"{format_percent(1 - np.exp(-NATURAL_GAP), 'fr', 0)} ; ces segments sont un découpage d'un continuum, pas des groupes "
                  f"naturels ; leurs frontières sont une convention."}
