"""Merging segments: the customers of several segments join one, whose centre is the mean of their rows."""

from __future__ import annotations

import numpy as np


def merge_segments(Z: np.ndarray, labels: np.ndarray, groups, centers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Labels and centres after a merge: segment i joins merged segment `groups[i]` (0..m-1, each used).

    A merged segment made of one segment keeps its centre; one made of several gets the mean
    of its customers' rows of `Z` (the centre K-means would give those customers).

    >>> Z = np.array([[0.0], [2.0], [10.0], [4.0]])
    >>> labels, centers = merge_segments(Z, np.array([0, 1, 2, 1]), [0, 0, 1], np.array([[0.0], [3.0], [10.0]]))
    >>> labels.tolist(), centers.ravel().tolist()
    ([0, 0, 1, 0], [2.0, 10.0])
    """
    groups = np.asarray(groups, dtype=np.int64)
    merged = groups[np.asarray(labels)]
    out = np.empty((int(groups.max()) + 1, np.asarray(centers).shape[1]))
    for g in range(len(out)):
        parts = np.flatnonzero(groups == g)
        members = merged == g
        out[g] = centers[parts[0]] if len(parts) == 1 or not members.any() else Z[members].mean(axis=0)
    return merged, out
