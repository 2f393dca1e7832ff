"""K-means over a range of k, the choice of k (with its reason), and the fitted segmenter."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score

from ._algorithms import ALGORITHMS, WARD_MAX, fit_path, fitting_threads
from .._errors import DataError, NotFittedError, UsageError, check_param
from ._silhouette import silhouette
from ._stability import gap_statistic, stability_table

Progress = Callable[[str, int, int], None]


def parse_k_range(text: str) -> tuple[int, int]:
    """'4..8' -> (4, 8).

    >>> parse_k_range("2..10")
    (2, 10)
    """
    try:
        low, high = (int(part) for part in text.split(".."))
    except ValueError:
        raise UsageError(f"k range must look like 2..10; got {text!r}") from None
    if not 2 <= low <= high:
        raise UsageError(f"k range must satisfy 2 <= low <= high; got {low}..{high}")
    return low, high


MIN_CUSTOMERS = 3


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _fit_kmeans(X: np.ndarray, k: int, n_init: int, seed: int) -> KMeans:
    """scikit-learn's KMeans (Lloyd, k-means++, n_init restarts) on one OpenMP thread.

    The fits for several k run side by side, one per core: at d = 3 a Lloyd iteration is
    too short for OpenMP's per-iteration barriers, which on a busy 2-core machine made the
    k = 2..10 fits of 7,747 customers take 34 s instead of 0.4 s (docs/performance.md).
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="openmp"):  # this thread only
        return KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit(X)


def check_enough_customers(n: int) -> None:
    """Segmenting needs at least three customers (two segments and a silhouette)."""
    if n < MIN_CUSTOMERS:
        raise DataError(f"n_customers={n} is too few to segment; at least {MIN_CUSTOMERS} are needed")


def _check_param(name: str, value, kind: type, low: float, high: float = float("inf")) -> None:
    check_param("Segmenter", name, value, kind, low, high)


class Segmenter:
    """K-means segmentation that chooses k itself, scikit-learn style.

    With `k` set, that k is used; otherwise every k in `k_range` is fitted and the k with
    the highest silhouette among those whose smallest segment holds at least `min_share`
    of the customers is chosen.

    >>> import numpy as np
    >>> X = np.r_[np.zeros((20, 2)), np.ones((20, 2)) * 5] + np.random.default_rng(0).normal(size=(40, 2)) * 0.1
    >>> Segmenter(k_range=(2, 4), seed=0).fit(X).k_
    2
    """

    def __init__(self, k: int | None = None, k_range: tuple[int, int] = (2, 10), n_init: int = 10, seed: int = 0,
                 min_share: float = 0.02, silhouette_exact_max: int = 20_000, silhouette_sample_size: int = 5_000,
                 algorithm: str = "kmeans", n_boot: int = 0, gap_refs: int = 0, ward_max: int = WARD_MAX):
        self.k = k
        self.k_range = k_range
        self.n_init = n_init
        self.seed = seed
        self.min_share = min_share
        self.silhouette_exact_max = silhouette_exact_max
        self.silhouette_sample_size = silhouette_sample_size
        self.algorithm = algorithm
        self.n_boot = n_boot
        self.gap_refs = gap_refs
        self.ward_max = ward_max

    def _validate(self, X: np.ndarray) -> list[int]:
        _check_param("n_init", self.n_init, int, 1)
        _check_param("seed", self.seed, int, 0, 2**32 - 1)
        _check_param("min_share", self.min_share, float, 0.0, 0.5)
        _check_param("n_boot", self.n_boot, int, 0)
        _check_param("gap_refs", self.gap_refs, int, 0)
        if self.algorithm not in ALGORITHMS:
            raise UsageError(f"The 'algorithm' parameter of Segmenter must be one of {', '.join(ALGORITHMS)}; "
                             f"got {self.algorithm!r} instead.")
        n = len(X)
        check_enough_customers(n)
        distinct = len(np.unique(X, axis=0))
        if self.k is not None:
            _check_param("k", self.k, int, 2)
            ks = [self.k]
        else:
            low, high = self.k_range
            _check_param("k_range[0]", low, int, 2)
            _check_param("k_range[1]", high, int, low)
            ks = [k for k in range(low, high + 1) if k <= min(n - 1, distinct)]
            if not ks:
                raise DataError(
                    f"n_customers={n} with {distinct} distinct feature value(s) is too few for k={low}..{high}"
                )
        if ks[0] > n - 1:
            raise DataError(f"n_customers={n} should be > k={ks[0]}")
        if ks[0] > distinct:
            raise DataError(f"only {distinct} distinct customer profile(s); cannot make k={ks[0]} segments")
        return ks

    def _options(self) -> dict:
        """Algorithm-specific options for `custseg._algorithms`."""
        return {"kmeans": {"n_init": self.n_init}, "ward": {"ward_max": self.ward_max}}.get(self.algorithm, {})

    def _evaluate(self, X: np.ndarray, k: int, model) -> tuple[object, dict, np.ndarray]:
        labels = model.labels_
        sil = silhouette(X, labels, exact_max=self.silhouette_exact_max,
                         sample_size=self.silhouette_sample_size, seed=self.seed, single_precision=True)
        shares = np.bincount(labels, minlength=k) / len(labels)
        row = {
            "k": k,
            "inertia": float(model.inertia_),
            "silhouette": sil.value,
            "silhouette_se": sil.stderr,
            "silhouette_method": sil.method,
            "calinski_harabasz": float(calinski_harabasz_score(X, labels)),
            "davies_bouldin": float(davies_bouldin_score(X, labels)),
            "min_share": float(shares.min()),
        }
        if hasattr(model, "bic_"):
            row["bic"] = float(model.bic_)
        return model, row, sil.samples

    def _fit_models(self, X: np.ndarray, ks: list[int]):
        """(k, fitted model) for each k, in order; K-means fits run side by side, one per core."""
        if self.algorithm != "kmeans":
            with fitting_threads(len(X)):
                yield from fit_path(self.algorithm, X, ks, self.seed, **self._options()).items()
            return
        with ThreadPoolExecutor(max_workers=max(1, min(len(ks), _cpu_count()))) as pool:
            yield from zip(ks, pool.map(lambda k: _fit_kmeans(X, k, self.n_init, self.seed), ks))

    def fit(self, X: np.ndarray, progress: Progress | None = None) -> "Segmenter":
        """Fit K-means for each candidate k and keep the chosen model."""
        X = np.asarray(X, dtype=np.float64)
        ks = self._validate(X)
        fits, rows, samples = {}, [], {}
        for i, (k, model) in enumerate(self._fit_models(X, ks)):
            fits[k], row, samples[k] = self._evaluate(X, k, model)
            rows.append(row)
            if progress:
                progress(self.algorithm, i + 1, len(ks))
        table = pd.DataFrame(rows)
        if self.n_boot:
            table = table.merge(stability_table(X, ks, self.algorithm, self.n_boot, seed=self.seed,
                                                references={k: fits[k].labels_ for k in ks}, **self._options()), on="k")
        if self.gap_refs:
            table = table.merge(gap_statistic(X, ks, n_refs=self.gap_refs, seed=self.seed), on="k")
        table["eligible"] = table["min_share"] >= self.min_share
        table["knee"] = False
        knee = None
        if len(ks) >= 3:
            from kneed import KneeLocator  # imports SciPy: ~0.5 s of start-up saved when not needed

            knee = KneeLocator(table["k"], table["inertia"], curve="convex", direction="decreasing").knee
            table.loc[table["k"] == knee, "knee"] = True
        self.knee_ = None if knee is None else int(knee)
        chosen, self.reason_ = self._choose(table)
        table["chosen"] = table["k"] == chosen
        self.k_selection_ = table
        self.k_ = chosen
        model = fits[chosen]
        self.model_ = model
        self.cluster_centers_ = model.cluster_centers_
        self.labels_ = model.labels_
        self.inertia_ = float(model.inertia_)
        self.silhouette_samples_ = samples[chosen]
        self.n_features_in_ = X.shape[1]
        return self

    def _choose(self, table: pd.DataFrame) -> tuple[int, dict]:
        if self.k is not None:
            row = table.iloc[0]
            return self.k, {
                "en": f"k={self.k} was set by the user (silhouette {row.silhouette:.3f}).",
                "fr": f"k={self.k} a été imposé par l'utilisateur (silhouette {row.silhouette:.3f}).",
            }
        eligible = table[table["eligible"]]
        pct = f"{self.min_share:.0%}"
        if eligible.empty:
            best = table.loc[table["min_share"].idxmax()]
            k = int(best.k)
            return k, {
                "en": f"k={k}: no k in {table.k.min()}..{table.k.max()} keeps every segment at {pct} of customers or more; "
                      f"k={k} has the largest smallest segment ({best.min_share:.1%}).",
                "fr": f"k={k} : aucun k de {table.k.min()} à {table.k.max()} ne garde chaque segment à {pct} des clients ou plus ; "
                      f"k={k} a le plus grand plus petit segment ({best.min_share:.1%}).",
            }
        if "bic" in eligible.columns:
            return self._choose_by_bic(table, eligible, pct)
        best = eligible.loc[eligible["silhouette"].idxmax()]
        k = int(best.k)
        runner = eligible[eligible.k != k]
        second = runner.loc[runner["silhouette"].idxmax()] if not runner.empty else None
        excluded = table[~table["eligible"]].k.tolist()
        en = [f"k={k} has the highest silhouette ({best.silhouette:.3f}) among k={table.k.min()}..{table.k.max()}"]
        fr = [f"k={k} a la silhouette la plus élevée ({best.silhouette:.3f}) parmi k={table.k.min()} à {table.k.max()}"]
        if second is not None:
            en.append(f", ahead of k={int(second.k)} ({second.silhouette:.3f})")
            fr.append(f", devant k={int(second.k)} ({second.silhouette:.3f})")
        en.append(f"; its smallest segment holds {best.min_share:.1%} of customers (minimum {pct})")
        fr.append(f" ; son plus petit segment regroupe {best.min_share:.1%} des clients (minimum {pct})")
        if excluded:
            en.append(f"; excluded for a segment under {pct}: k={', '.join(map(str, excluded))}")
            fr.append(f" ; exclus car un segment fait moins de {pct} : k={', '.join(map(str, excluded))}")
        if self.knee_ is not None:
            en.append(f"; the inertia elbow is at k={self.knee_}")
            fr.append(f" ; le coude de l'inertie est à k={self.knee_}")
        return k, {"en": "".join(en) + ".", "fr": "".join(fr) + "."}

    @staticmethod
    def _choose_by_bic(table: pd.DataFrame, eligible: pd.DataFrame, pct: str) -> tuple[int, dict]:
        """Gaussian mixtures: the lowest BIC among the eligible k."""
        best = eligible.loc[eligible["bic"].idxmin()]
        k, low, high = int(best.k), table.k.min(), table.k.max()
        return k, {
            "en": f"k={k} has the lowest BIC ({best.bic:,.0f}) among k={low}..{high} whose smallest segment holds "
                  f"at least {pct} of customers (silhouette {best.silhouette:.3f}).",
            "fr": f"k={k} a le BIC le plus bas ({best.bic:,.0f}) parmi k={low} à {high} dont le plus petit segment "
                  f"regroupe au moins {pct} des clients (silhouette {best.silhouette:.3f}).",
        }

    def _check_fitted(self) -> None:
        if not hasattr(self, "cluster_centers_"):
            raise NotFittedError("this Segmenter is not fitted yet; call fit first")

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Euclidean distance of each row to each segment centre."""
        self._check_fitted()
        X = np.asarray(X, dtype=np.float64)
        return np.sqrt(((X[:, None, :] - self.cluster_centers_[None, :, :]) ** 2).sum(axis=2))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Index of the nearest segment centre for each row."""
        return self.transform(X).argmin(axis=1)

    def relabel(self, order: np.ndarray) -> "Segmenter":
        """Renumber segments so that old segment `order[i]` becomes segment i."""
        self._check_fitted()
        inverse = np.empty_like(order)
        inverse[order] = np.arange(len(order))
        self.cluster_centers_ = self.cluster_centers_[order]
        self.labels_ = inverse[self.labels_]
        return self
