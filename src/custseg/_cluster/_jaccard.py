"""Per-segment stability as fpc's clusterboot measures it (Hennig 2007): the mean Jaccard of each segment with
its best match over bootstrap resamples.

Each resample draws n customers with replacement and keeps the distinct ones (clusterboot's
`bootmethod="boot"`, `multipleboot=FALSE`); K-means is refitted on them at the same k; each
segment, restricted to the drawn customers, is compared with every refitted segment by the
Jaccard coefficient |A and B| / |A or B|, and its best match counts (0 when it drew nobody).
The mean over the B resamples is the segment's stability: Hennig calls a segment under 0.6
dissolved, 0.6-0.75 a pattern, not a cluster; at 0.75 and over, valid and stable.

Above `max_sample` customers, the resamples are drawn from a seeded sample of that many.

>>> best_match_jaccard(np.array([0, 0, 1, 1]), np.array([1, 1, 1, 0]), 2).round(3).tolist()
[0.667, 0.5]
"""

from __future__ import annotations

import numpy as np
from joblib import Parallel, delayed
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

from .._config._resources import cpu_count
from .._errors import UsageError
from ._algorithms import checked_once

DEFAULT_B = 50
MAX_SAMPLE = 20_000  # above, a seeded sample (at 5,000, cc_general's k >= 6 read up to 0.37 under clusterboot's)
STABLE = 0.75  # under: tentative (Hennig: a pattern, not a cluster)
DISSOLVED = 0.6  # under: the segment dissolves; a k with such a segment is not eligible


def best_match_jaccard(reference: np.ndarray, refitted: np.ndarray, k: int) -> np.ndarray:
    """For each of the `k` reference segments, its largest Jaccard with a segment of `refitted` (same customers)."""
    table = np.zeros((k, int(refitted.max()) + 1))
    np.add.at(table, (reference, refitted), 1)
    union = table.sum(axis=1)[:, None] + table.sum(axis=0)[None, :] - table
    return np.where(union > 0, table / np.where(union > 0, union, 1), 0.0).max(axis=1)


def resamples(n: int, B: int, seed: int) -> list[np.ndarray]:
    """B seeded bootstrap draws of n of n customers, each as its distinct customers (sorted)."""
    rng = np.random.default_rng([seed, 2])  # not the stream of other draws with the same seed
    return [np.unique(rng.integers(0, n, size=n)) for _ in range(B)]


def _refit_scores(X: np.ndarray, labelings: dict[int, np.ndarray], draws: list[np.ndarray], seeds: list[int],
                  n_init: int) -> list[dict[int, np.ndarray]]:
    """For each resample (rows of `X` drawn), each segment's best-match Jaccard with a K-means refit at each k of
    `labelings` seeded by its entry of `seeds`; 0 for every segment when too few distinct points to refit."""
    out = []
    with threadpool_limits(limits=1), checked_once():  # one thread per worker: the workers are the parallelism
        for drawn, seed in zip(draws, seeds):
            points = X[drawn]
            distinct = len(np.unique(points, axis=0))
            out.append({k: best_match_jaccard(labels[drawn], KMeans(n_clusters=k, n_init=n_init, random_state=seed)
                                              .fit(points).labels_, k) if k <= distinct else np.zeros(k)
                        for k, labels in labelings.items()})
    return out


def _workers(B: int) -> int:
    return max(1, min(cpu_count(), B))


def _started() -> None:
    """Run in each worker by `start_workers`: unpickling it there imports this module, scikit-learn with it."""


def start_workers(B: int) -> None:
    """Start the worker processes of `segment_jaccard` (for `B` resamples) with their imports, ~1.5 s on 2 cores:
    on a thread while other work runs, `segment_jaccard` then finds them ready (joblib keeps the pool)."""
    Parallel(n_jobs=_workers(B), backend="loky")(delayed(_started)() for _ in range(_workers(B)))


def segment_jaccard(X: np.ndarray, labelings: dict[int, np.ndarray], B: int = DEFAULT_B, seed: int = 0,
                    max_sample: int = MAX_SAMPLE, n_init: int = 10) -> dict[int, np.ndarray]:
    """{k: mean best-match Jaccard of each of the k segments of `labelings[k]`} over B bootstrap refits of K-means
    (`n_init` starts each, as clusterboot's kmeansCBI with `runs`).

    The resamples run in worker processes, one per core (joblib's loky pool, kept between calls): a
    refit's k-means++ start is Python that holds the GIL, so threads reached 1.5 of 2 cores.
    Each refit is seeded by its resample's number, so the result does not depend on the workers.
    """
    if not isinstance(B, int) or isinstance(B, bool) or B < 1:
        raise UsageError(f"The 'n_jaccard' parameter must be int in [1, inf); got {B!r} instead.")
    X = np.asarray(X, dtype=np.float64)
    rows = np.arange(len(X))
    if len(X) > max_sample:
        rows = np.sort(np.random.default_rng([seed, 3]).choice(len(X), size=max_sample, replace=False))
    sample, labels = X[rows], {k: np.asarray(labeling)[rows] for k, labeling in labelings.items()}
    draws, seeds = resamples(len(rows), B, seed), [seed + 1 + b for b in range(B)]
    workers = _workers(B)
    chunks = [slice(i, None, workers) for i in range(workers)]  # the sample goes once to each worker, with its draws
    done = Parallel(n_jobs=workers, backend="loky")(
        delayed(_refit_scores)(sample, labels, draws[chunk], seeds[chunk], n_init) for chunk in chunks)
    scores: list = [None] * B
    for chunk, part in zip(chunks, done):
        scores[chunk] = part
    return {k: np.mean([d[k] for d in scores], axis=0) for k in labelings}


def stability_words(jaccard: float, lang: str = "en") -> str:
    """The segment's stability in words (NaN: not measured, a segment a review or refresh merged after the bootstrap).

    >>> stability_words(0.91), stability_words(0.7), stability_words(0.5, "fr"), stability_words(float("nan"), "fr")
    ('stable', 'tentative', 'instable', 'non mesurée')
    """
    if np.isnan(jaccard):
        return {"en": "not measured", "fr": "non mesurée"}[lang]
    if jaccard >= STABLE:
        return {"en": "stable", "fr": "stable"}[lang]
    if jaccard >= DISSOLVED:
        return {"en": "tentative", "fr": "fragile"}[lang]
    return {"en": "unstable", "fr": "instable"}[lang]
