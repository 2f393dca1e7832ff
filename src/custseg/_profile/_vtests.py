"""What sets each segment apart, FactoMineR style: v-tests per segment and feature, paragons, separating features.

v-test (Lebart's test value, FactoMineR's `catdes`/`HCPC` `desc.var`): the segment's mean
against the whole base, in standard-normal units,

    v = (mean_q - mean) / sqrt(s² / n_q * (N - n_q) / (N - 1)),

s² the base's variance (ddof 0), n_q the segment's size, N the base's; its p-value is
two-sided. Here it is computed on each feature's average ranks (tie-aware percentiles),
so a few huge accounts cannot make a segment look "high": sales data are very skewed.

Paragons (FactoMineR's `desc.ind`): the customers nearest their segment's center (the most
typical) and those farthest from every other center (the most distinct), in model units.

>>> values = np.array([[1.0], [2.0], [3.0], [10.0], [11.0], [12.0]])
>>> v, p = vtests(values, np.array([0, 0, 0, 1, 1, 1]), 2)
>>> v.round(2).ravel().tolist(), bool(p[0, 0] < 0.05)
([-1.96, 1.96], True)
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm, rankdata

N_PARAGONS = 5


def vtests(values: np.ndarray, labels: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(v-tests, p-values), each k x features, of each segment's mean rank against all customers'."""
    ranks = np.column_stack([rankdata(column, method="average") for column in np.asarray(values, float).T])
    n = len(ranks)
    mean, variance = ranks.mean(axis=0), ranks.var(axis=0)
    v = np.zeros((k, ranks.shape[1]))
    for s in range(k):
        mask = labels == s
        size = int(mask.sum())
        spread = np.sqrt(variance / max(size, 1) * (n - size) / max(n - 1, 1))
        with np.errstate(divide="ignore", invalid="ignore"):
            v[s] = np.where((spread > 0) & (size > 0), (ranks[mask].mean(axis=0) - mean) / spread, 0.0)
    return v, 2 * norm.sf(np.abs(v))


def paragons(Z: np.ndarray, labels: np.ndarray, centers: np.ndarray, ids: np.ndarray,
             n: int = N_PARAGONS) -> tuple[list[list[str]], list[list[str]]]:
    """(most typical, most distinct) customer ids of each segment, `n` each, ties by id.

    >>> Z = np.array([[0.0], [0.1], [0.5], [3.0], [3.2]])
    >>> paragons(Z, np.array([0, 0, 0, 1, 1]), np.array([[0.2], [3.1]]), np.array(list("abcde")), n=2)
    ([['b', 'a'], ['d', 'e']], [['a', 'b'], ['e', 'd']])
    """
    ids = np.asarray(ids)
    distances = np.sqrt(((Z[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2))
    typical, distinct = [], []
    for s in range(len(centers)):
        rows = np.flatnonzero(labels == s)
        own = distances[rows, s]
        others = np.delete(distances[rows], s, axis=1).min(axis=1) if len(centers) > 1 else own
        typical.append(_smallest(rows, own, ids, n))
        distinct.append(_smallest(rows, -others, ids, n))
    return typical, distinct


def _smallest(rows: np.ndarray, key: np.ndarray, ids: np.ndarray, n: int) -> list[str]:
    """The ids of the `n` `rows` with the smallest `key`, ties by id; only the rows at or under the n-th smallest
    key are sorted (800k customers in 4 segments: 0.2 s, where sorting every id took 1.2-1.7 s).

    >>> _smallest(np.arange(4), np.array([2.0, 1.0, 1.0, 0.5]), np.array(list("dcba")), 2)
    ['a', 'b']
    """
    if len(rows) > n:
        near = key <= np.partition(key, n - 1)[n - 1]
        rows, key = rows[near], key[near]
    names = ids[rows].astype(str)
    return names[np.lexsort((names, key))[:n]].tolist()


def separation(Z: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Between / within variance ratio of each feature (larger: the feature separates the segments more).

    >>> separation(np.array([[0.0, 1.0], [0.2, 0.0], [5.0, 1.0], [5.2, 0.0]]), np.array([0, 0, 1, 1])).round(1).tolist()
    [625.0, 0.0]
    """
    Z = np.asarray(Z, float)
    total = ((Z - Z.mean(axis=0)) ** 2).sum(axis=0)
    within = sum(((Z[labels == s] - Z[labels == s].mean(axis=0)) ** 2).sum(axis=0) for s in np.unique(labels))
    between = total - within
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(within > 0, between / within, np.where(between > 0, np.inf, 0.0))
