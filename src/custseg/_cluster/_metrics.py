"""How good a partition is: one row of indices per k, and the nearest-center assignment every stage shares.

>>> import numpy as np
>>> X = np.array([[0.0], [0.1], [5.0], [5.1]])
>>> row, _ = evaluate(X, np.array([0, 0, 1, 1]))
>>> row["k"], round(row["silhouette"], 3), row["min_share"]
(2, 0.98, 0.5)
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score
from sklearn.neighbors import NearestNeighbors

from ._silhouette import silhouettes

ASSIGN_BLOCK = 65_536


def nearest_center(X: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Index of the nearest center (Euclidean) of each row, from exact differences, in bounded memory.

    Exact differences (not |x|^2 - 2 x.c + |c|^2) so that scoring the training data gives the
    training assignments.

    >>> nearest_center(np.array([[0.0], [4.0]]), np.array([[1.0], [5.0]])).tolist()
    [0, 1]
    """
    X = np.asarray(X, dtype=np.float64)
    centers = np.asarray(centers, dtype=np.float64)
    out = np.empty(len(X), dtype=np.int64)
    for start in range(0, len(X), ASSIGN_BLOCK):
        block = X[start:start + ASSIGN_BLOCK]
        out[start:start + len(block)] = ((block[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
    return out


def segment_means(X: np.ndarray, labels: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Each segment's mean of `X` (a segment with no customer keeps its row of `centers`): the centres profiles show.

    Sums are exact (`math.fsum`), so the same customers in another row order (a run read back by a review) give
    the same bits.

    >>> segment_means(np.array([[0.0], [2.0], [7.0]]), np.array([0, 0, 2]), np.zeros((3, 1))).ravel().tolist()
    [1.0, 0.0, 7.0]
    """
    X = np.asarray(X, dtype=np.float64)
    means = np.array(centers, dtype=np.float64, copy=True)
    for s in range(len(centers)):
        rows = X[labels == s]
        if len(rows):
            means[s] = [math.fsum(column) / len(rows) for column in rows.T]
    return means


def inertia(X: np.ndarray, labels: np.ndarray, centers: np.ndarray) -> float:
    """Sum of squared distances of the rows to their center."""
    return float(((X - centers[labels]) ** 2).sum())


def evaluate(X: np.ndarray, labels: np.ndarray, k: int | None = None, *, exact_max: int = 20_000,
             sample_size: int = 5_000, seed: int = 0, single_precision: bool = False) -> tuple[dict, np.ndarray]:
    """One row of the k table (k, silhouette with its standard error and method, Calinski-Harabasz,
    Davies-Bouldin, smallest segment share) and the per-customer silhouettes (NaN where not computed).

    `k`: the number of segments the model has (an empty one counts, with share 0); default the
    number of labels present. Indices that need two non-empty segments are NaN otherwise.
    """
    return evaluate_path(X, [(labels, k)], exact_max=exact_max, sample_size=sample_size, seed=seed,
                         single_precision=single_precision)[0]


def evaluate_path(X: np.ndarray, labelings: list[tuple[np.ndarray, int | None]], *, exact_max: int = 20_000,
                  sample_size: int = 5_000, seed: int = 0, single_precision: bool = False) -> list[tuple[dict, np.ndarray]]:
    """`evaluate(X, labels, k, ...)` for each (labels, k) of the same customers (the fits of a range of k),
    the silhouettes from one pass over the distances (`silhouettes`).

    >>> X = np.array([[0.0], [0.1], [5.0], [5.1]])
    >>> [row["k"] for row, _ in evaluate_path(X, [(np.array([0, 0, 1, 1]), 2), (np.array([0, 1, 2, 2]), None)])]
    [2, 3]
    """
    rows, scored = [], []
    for i, (labels, k) in enumerate(labelings):
        labels = np.asarray(labels)
        k = len(np.unique(labels)) if k is None else int(k)
        counts = np.bincount(labels, minlength=k)
        rows.append({"k": k, "silhouette": np.nan, "silhouette_se": np.nan, "silhouette_method": "",
                     "calinski_harabasz": np.nan, "davies_bouldin": np.nan, "min_share": float(counts.min() / len(labels))})
        if 2 <= int((counts > 0).sum()) < len(X):
            scored.append(i)
    samples = [np.full(len(X), np.nan) for _ in labelings]
    estimates = silhouettes(X, [labelings[i][0] for i in scored], exact_max=exact_max, sample_size=sample_size, seed=seed,
                            single_precision=single_precision)
    for i, sil in zip(scored, estimates):
        labels = labelings[i][0]
        rows[i] |= {"silhouette": sil.value, "silhouette_se": sil.stderr, "silhouette_method": sil.method,
                    "calinski_harabasz": float(calinski_harabasz_score(X, labels)),
                    "davies_bouldin": float(davies_bouldin_score(X, labels))}
        samples[i] = sil.samples
    return list(zip(rows, samples))


def hopkins(X: np.ndarray, seed: int = 0, sample_size: int = 5_000, probe_share: float = 0.1, max_probes: int = 500) -> float:
    """Hopkins statistic of clustering tendency: about 0.5 for data without groups, near 1 for clustered data.

    H = sum(u) / (sum(u) + sum(w)), with u the distances from uniform points in the data's
    bounding box to their nearest customer, w those from sampled customers to their nearest
    other customer. Distinct rows only (duplicates would make w zero), a seeded sample of at
    most `sample_size` of them, and 10% of it (at most `max_probes`) as probes.

    >>> rng = np.random.default_rng(0)
    >>> round(hopkins(rng.uniform(size=(2_000, 2)), seed=1), 1)
    0.5
    """
    rng = np.random.default_rng([seed, 1])  # not the stream of data drawn with the same seed
    X = np.unique(np.asarray(X, dtype=np.float64), axis=0)
    if len(X) > sample_size:
        X = X[np.sort(rng.choice(len(X), size=sample_size, replace=False))]
    if len(X) < 3:
        return float("nan")
    m = max(1, min(int(probe_share * len(X)), max_probes))
    neighbours = NearestNeighbors(n_neighbors=2).fit(X)
    w = neighbours.kneighbors(X[rng.choice(len(X), size=m, replace=False)])[0][:, 1]
    u = neighbours.kneighbors(rng.uniform(X.min(axis=0), X.max(axis=0), size=(m, X.shape[1])), n_neighbors=1)[0][:, 0]
    return float(u.sum() / (u.sum() + w.sum()))
