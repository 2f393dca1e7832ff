"""The Segmenter: K-means (or another algorithm) over a range of k, the choice of k with its reason, scikit-learn style.

It is a scikit-learn estimator (`BaseEstimator`, `ClusterMixin`, `TransformerMixin`):
`clone`, `Pipeline` and `GridSearchCV` accept it, and `check_estimator` passes.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import pandas as pd
from kneed import KneeLocator
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.cluster import KMeans
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.metrics import adjusted_rand_score
from sklearn.utils.validation import validate_data
from threadpoolctl import threadpool_limits

from .._config._options import K_RULE_MIN_SHARE, K_RULES, MIN_CUSTOMERS
from .._config._resources import cpu_count
from .._errors import DataError, NotFittedError, UsageError, check_param
from ._algorithms import (ALGORITHMS, KMEANS_MAX_ITER, KMEANS_TOL, WARD_MAX, checked_once, fit_path, fitting_threads,
                          kmeans_starts)
from ._choice import choose_k
from ._indices import panel
from ._jaccard import DEFAULT_B, MAX_SAMPLE as JACCARD_MAX_SAMPLE, segment_jaccard, start_workers
from ._metrics import evaluate, evaluate_path, hopkins, nearest_center
from ._reference import structure
from ._stability import gap_statistic, stability_table
from ._vote import BUSINESS_MIN_K, deciding_ks, inertia_ratios

VOTE_N_BOOT = 5  # subsamples per k for the vote's stability
VOTE_GAP_REFS = 5  # reference sets per k for the vote's gap statistic
VOTE_MAX_SAMPLE = 3_000  # customers per stability subsample
VOTE_GAP_SAMPLE = 2_000  # customers for the gap statistic

Progress = Callable[[str, int, int], None]


class SegmenterNotFittedError(NotFittedError, SklearnNotFittedError):
    """Raised by `predict`/`transform` before `fit`: custseg's error (one line in the CLI) and scikit-learn's."""

DEPRECATED = "deprecated"
_SAMPLE_NOTE = {
    "en": "The indices are those of a random sample (seed {seed}) of {m:,} of the {n:,} customers; k={k} was then "
          "fitted on all customers, starting from the sample's centres.",
    "fr": "Les indices sont ceux d'un échantillon aléatoire (graine {seed}) de {m:,} des {n:,} clients ; k={k} a ensuite "
          "été ajusté sur tous les clients, à partir des centres de l'échantillon.",
}
_BEYOND_NOTE = {
    "en": "k={top} was at the top of the range {low}..{top}, so k={next} were tried too before choosing.",
    "fr": "k={top} était en haut de la plage {low} à {top} ; k={next} ont donc aussi été essayés avant de choisir.",
}
EDGE_TRIES = 2  # k's tried above the range when the vote lands on its top
_RENAMED = {"k": "n_clusters", "seed": "random_state"}


def _fit_kmeans(X: np.ndarray, k: int, n_init: int, seed: int) -> KMeans:
    """scikit-learn's KMeans (Lloyd to convergence: `KMEANS_TOL`) from each of the `n_init` shared k-means++ starts
    (`kmeans_starts`, as the Spark engine), the lowest inertia kept (a tie: the first), on one OpenMP thread.

    The fits for several k run side by side, one per core: at d = 3 a Lloyd iteration is
    too short for OpenMP's per-iteration barriers, which on a busy 2-core machine made the
    k = 2..10 fits of 7,747 customers take 34 s instead of 0.4 s (docs/performance.md).
    """
    with threadpool_limits(limits=1, user_api="openmp"), checked_once():  # this thread only
        fits = [KMeans(n_clusters=k, init=centres, n_init=1, tol=KMEANS_TOL, max_iter=KMEANS_MAX_ITER).fit(X)
                for centres in kmeans_starts(X, k, n_init, seed)]
    return min(fits, key=lambda model: model.inertia_)


def _refit_kmeans(X: np.ndarray, centers: np.ndarray, seed: int) -> KMeans:
    """K-means on all rows started from `centers` (one run), on the OpenMP threads the CPU quota allows."""
    with threadpool_limits(limits=cpu_count(), user_api="openmp"), checked_once():
        return KMeans(n_clusters=len(centers), init=centers, n_init=1, random_state=seed, tol=KMEANS_TOL,
                      max_iter=KMEANS_MAX_ITER).fit(X)


class Segmenter(ClusterMixin, TransformerMixin, BaseEstimator):
    """Segmentation that chooses its number of segments, scikit-learn style.

    With `n_clusters` set, that k is used; otherwise every k in `k_range` is fitted and the
    k is chosen by `choose_k` with `k_rule`: "vote" (default: NbClust's panel of indices and
    custseg's vote among the k whose smallest segment holds at least `min_share` of the
    customers, default 5%, and whose every segment keeps a bootstrap Jaccard of at least 0.6;
    ties to the smaller k; `_vote`) or "silhouette" (the
    previous rule: highest silhouette among the k whose smallest segment holds at least
    `min_share`, default 2%; lowest BIC for `algorithm="gmm"`). `n_boot` and `gap_refs`
    default to 5 for the vote (seeded subsamples of at most 3,000 and 2,000 customers), 0
    otherwise. `k` and `seed` are deprecated aliases of `n_clusters` and `random_state`.

    Above `k_sample_size` customers (None: never), K-means chooses k on a seeded uniform
    sample of that many customers (the k table's indices are the sample's; its column
    `n_scored` says so), then fits the chosen k on all customers, started from the
    sample's best centers; `k_sample_` records the sample and the final fit.

    Fitted attributes: `labels_`, `cluster_centers_`, `inertia_`, `k_`, `k_selection_`
    (one row of indices per k, with the votes), `reason_` ({"en", "fr"}), `warnings_`
    ([{"en", "fr"}]), `hopkins_`, `rule_`, `knee_`, `model_`, `silhouette_samples_`,
    `k_sample_` (None without sampling), `jaccard_` ({k: each segment's bootstrap Jaccard}, `_jaccard`),
    `segment_stability_` (the chosen k's, None when not measured), `structure_` (the chosen k against copies
    of the data without groups, `_reference`), `n_features_in_`.

    When the vote lands on the top of `k_range`, the next `EDGE_TRIES` k's are fitted and the
    vote runs again over the wider range (the reason says so). At the bottom, no k under
    `business_min_k` (3) is advised: the fewest segments a marketing partition is worth.

    Per-segment stability: `n_jaccard` bootstrap resamples (default 50 for K-means, 0
    otherwise), K-means refitted on each as fpc's clusterboot does (`_jaccard`).

    >>> import numpy as np
    >>> X = np.r_[np.zeros((20, 2)), np.ones((20, 2)) * 5] + np.random.default_rng(0).normal(size=(40, 2)) * 0.1
    >>> Segmenter(k_range=(2, 4), random_state=0).fit(X).k_
    2
    >>> Segmenter(k_range=(2, 4), random_state=0, k_rule="silhouette").fit(X).k_
    2
    """

    def __init__(self, n_clusters: int | None = None, *, k_range: tuple[int, int] = (3, 8), n_init: int = 10,
                 random_state: int = 0, min_share: float | None = None, silhouette_exact_max: int = 20_000,
                 silhouette_sample_size: int = 5_000, algorithm: str = "kmeans", n_boot: int | None = None,
                 gap_refs: int | None = None, ward_max: int = WARD_MAX, k_rule: str = "vote",
                 k_sample_size: int | None = 100_000, n_jaccard: int | None = None, business_min_k: int = BUSINESS_MIN_K,
                 k=DEPRECATED, seed=DEPRECATED):
        self.n_clusters = n_clusters
        self.k_range = k_range
        self.n_init = n_init
        self.random_state = random_state
        self.min_share = min_share
        self.silhouette_exact_max = silhouette_exact_max
        self.silhouette_sample_size = silhouette_sample_size
        self.algorithm = algorithm
        self.n_boot = n_boot
        self.gap_refs = gap_refs
        self.ward_max = ward_max
        self.k_rule = k_rule
        self.k_sample_size = k_sample_size
        self.n_jaccard = n_jaccard
        self.business_min_k = business_min_k
        self.k = k
        self.seed = seed

    def _resolved(self, name: str):
        """A parameter's value, taking its deprecated alias (with a warning) when that was given."""
        old = next(o for o, n in _RENAMED.items() if n == name)
        if getattr(self, old) != DEPRECATED:
            warnings.warn(f"Segmenter's {old!r} is deprecated; use {name!r} (the scikit-learn name)",
                          FutureWarning, stacklevel=3)
            return getattr(self, old)
        return getattr(self, name)

    def _check(self, name: str, value, kind: type, low: float, high: float = float("inf")) -> None:
        check_param(type(self).__name__, name, value, kind, low, high)

    def _settings(self, n_clusters: int | None) -> tuple[float, int, int, int]:
        """(min_share, n_boot, gap_refs, n_jaccard), defaults resolved for the rule; the vote needs stability and gap
        unless k is given; per-segment stability (`n_jaccard` resamples) is measured for K-means, k given or not."""
        if self.k_rule not in K_RULES:
            raise UsageError(f"The 'k_rule' parameter of {type(self).__name__} must be one of "
                             f"{', '.join(K_RULES)}; got {self.k_rule!r} instead.")
        voting = self.k_rule == "vote" and n_clusters is None
        min_share = K_RULE_MIN_SHARE[self.k_rule] if self.min_share is None else self.min_share
        n_boot = (VOTE_N_BOOT if voting else 0) if self.n_boot is None else self.n_boot
        gap_refs = (VOTE_GAP_REFS if voting else 0) if self.gap_refs is None else self.gap_refs
        self._check("min_share", min_share, float, 0.0, 0.5)
        self._check("n_boot", n_boot, int, 0)
        self._check("gap_refs", gap_refs, int, 0)
        n_jaccard = (DEFAULT_B if self.algorithm == "kmeans" else 0) if self.n_jaccard is None else self.n_jaccard
        self._check("n_jaccard", n_jaccard, int, 0)
        self._check("business_min_k", self.business_min_k, int, 1)
        return min_share, n_boot, gap_refs, n_jaccard

    def _candidate_ks(self, X: np.ndarray, n_clusters: int | None, seed: int) -> list[int]:
        self._check("n_init", self.n_init, int, 1)
        self._check("random_state", seed, int, 0, 2**32 - 1)
        if self.algorithm not in ALGORITHMS:
            raise UsageError(f"The 'algorithm' parameter of {type(self).__name__} must be one of "
                             f"{', '.join(ALGORITHMS)}; got {self.algorithm!r} instead.")
        n = len(X)
        if n < MIN_CUSTOMERS:
            raise DataError(f"n_customers={n} is too few to segment (n_samples={n}); at least {MIN_CUSTOMERS} are needed")
        distinct = len(np.unique(X, axis=0))
        if n_clusters is not None:
            self._check("n_clusters", n_clusters, int, 1)
            ks = [n_clusters]
        else:
            low, high = self.k_range
            self._check("k_range[0]", low, int, 2)
            self._check("k_range[1]", high, int, low)
            ks = [k for k in range(low, high + 1) if k <= min(n - 1, distinct)]
            if not ks:
                raise DataError(f"n_customers={n} with {distinct} distinct feature value(s) is too few for k={low}..{high}")
        if ks[0] > n - 1:
            raise DataError(f"n_customers={n} should be > k={ks[0]}")
        if ks[0] > distinct:
            raise DataError(f"only {distinct} distinct customer profile(s); cannot make k={ks[0]} segments")
        return ks

    def _options(self) -> dict:
        """Algorithm-specific options for `_algorithms`."""
        return {"kmeans": {"n_init": self.n_init}, "ward": {"ward_max": self.ward_max}}.get(self.algorithm, {})

    def _evaluate(self, X: np.ndarray, fits: dict, seed: int) -> tuple[list[dict], dict[int, np.ndarray]]:
        """One k-table row per fitted k, in order, and each k's per-customer silhouettes (one pass over the distances)."""
        scored = evaluate_path(X, [(model.labels_, k) for k, model in fits.items()], exact_max=self.silhouette_exact_max,
                               sample_size=self.silhouette_sample_size, seed=seed, single_precision=True)
        rows, samples = [], {}
        for (k, model), (row, samples[k]) in zip(fits.items(), scored):
            row["inertia"] = float(model.inertia_)
            if hasattr(model, "bic_"):
                row["bic"] = float(model.bic_)
            rows.append(row)
        return rows, samples

    def _k_table(self, X: np.ndarray, fits: dict, seed: int, n_boot: int, gap_refs: int,
                 voting: bool) -> tuple[pd.DataFrame, dict[int, np.ndarray]]:
        """The k table (indices; when `voting`, HCPC's ratio and NbClust's panel; stability and gap columns when asked)
        and each k's silhouettes.

        The silhouettes and the panel run on threads of their own (their BLAS products and
        array passes release the GIL; BLAS on one thread) beside the stability and gap's many
        small fits, which are mostly Python and hold it: on 2 cores they cost little wall time.
        """
        with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(max_workers=2) as background:
            scoring = background.submit(self._evaluate, X, fits, seed)
            indices = background.submit(self._panel_table, X, fits, seed) if voting else None
            checks = self._checks(X, fits, seed, n_boot, gap_refs)
            rows, samples = scoring.result()
            if indices is not None:
                checks.append(indices.result())
        table = pd.DataFrame(rows)
        table = table[["k", "inertia", *[c for c in table.columns if c not in ("k", "inertia")]]]
        for check in checks:
            table = table.merge(check, on="k")
        return table, samples

    def _checks(self, X: np.ndarray, fits: dict, seed: int, n_boot: int, gap_refs: int) -> list[pd.DataFrame]:
        """The stability table (`n_boot` subsamples) and the gap statistic table (`gap_refs` references), when asked."""
        ks = list(fits)
        checks = []
        with threadpool_limits(limits=1):  # the silhouettes run beside, on the other thread
            if n_boot:
                checks.append(stability_table(X, ks, self.algorithm, n_boot, seed=seed, max_sample=VOTE_MAX_SAMPLE,
                                              references={k: fits[k].labels_ for k in ks}, **self._options()))
            if gap_refs:
                checks.append(gap_statistic(X, ks, n_refs=gap_refs, seed=seed, sample_size=VOTE_GAP_SAMPLE))
        return checks

    def _fit_models(self, X: np.ndarray, ks: list[int], seed: int):
        """(k, fitted model) for each k, in order; K-means fits run side by side, one per core."""
        if self.algorithm != "kmeans":
            with fitting_threads(len(X)):
                yield from fit_path(self.algorithm, X, ks, seed, **self._options()).items()
            return
        # BLAS on one thread here, as scikit-learn sets it around each Lloyd loop: its fits, side by side, each
        # restored the count another had just lowered, and left BLAS on one thread for the silhouettes after.
        with threadpool_limits(limits=1, user_api="blas"), \
                ThreadPoolExecutor(max_workers=max(1, min(len(ks), cpu_count()))) as pool:
            yield from zip(ks, pool.map(lambda k: _fit_kmeans(X, k, self.n_init, seed), ks))

    def _fit_into(self, fits: dict, X: np.ndarray, ks: list[int], seed: int, voting: bool,
                  progress: Progress | None = None) -> None:
        """Fit each k of `ks` into `fits` and, when `voting`, the k's beside the range the panel needs into
        `_panel_fits`, all in one pool: fitted on the panel's thread, k = 11 held up the k table (at L, k = 3..8:
        the k table 3.9 -> 2.5 s, the fits 3.9 -> 4.4 s). A k the panel already has is taken from there (the
        same seed: the same fit)."""
        extra = [k for k in self._panel_ks(X, [*fits, *ks]) if k not in self._panel_fits] if voting else []
        models = {k: self._panel_fits[k] for k in ks if k in self._panel_fits}
        todo = [k for k in ks if k not in models] + extra
        for i, (k, model) in enumerate(self._fit_models(X, todo, seed)):
            models[k] = model
            if progress:
                progress(self.algorithm, i + 1, len(todo))
        fits |= {k: models[k] for k in ks}
        self._panel_fits |= {k: models[k] for k in extra}

    @staticmethod
    def _panel_ks(X: np.ndarray, ks: list[int]) -> list[int]:
        """k_min - 1 and k_max + 1 of `ks`, for the panel, where the customers allow them."""
        distinct = len(np.unique(X, axis=0))
        return [k for k in (min(ks) - 1, max(ks) + 1) if 2 <= k <= min(len(X) - 1, distinct)]

    def _k_sample(self, n: int, n_clusters: int | None, seed: int) -> np.ndarray | None:
        """Sorted indices of the seeded sample of rows k is chosen on; None: all rows."""
        size = self.k_sample_size
        if size is not None:
            self._check("k_sample_size", size, int, 2)
        if size is None or n <= size or n_clusters is not None or self.algorithm != "kmeans":
            return None
        return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))

    def _fit_everyone(self, X: np.ndarray, sample: np.ndarray, sample_model: KMeans, seed: int):
        """(model, silhouettes, record): the chosen k fitted on all rows from the sample's centers.

        Its indices are computed on the sample's rows, as the k table's (a silhouette against
        all 800k customers would cost 6 s more); `inertia` is over all rows.
        """
        model = _refit_kmeans(X, sample_model.cluster_centers_, seed)
        row, sample_silhouettes = evaluate(X[sample], model.labels_[sample], model.n_clusters,
                                           exact_max=self.silhouette_exact_max, sample_size=self.silhouette_sample_size,
                                           seed=seed, single_precision=True)
        samples = np.full(len(X), np.nan)
        samples[sample] = sample_silhouettes
        final = {"inertia": float(model.inertia_)} | {
            key: row[key] for key in ("silhouette", "silhouette_se", "silhouette_method", "min_share")}
        return model, samples, {"size": len(sample), "of": len(X), "seed": seed, "final": final,
                                "adjusted_rand_on_sample": float(adjusted_rand_score(sample_model.labels_,
                                                                                     model.labels_[sample]))}

    def fit(self, X, y=None, progress: Progress | None = None) -> "Segmenter":
        """Fit the algorithm for each candidate k and keep the chosen model (`y` is ignored)."""
        everyone = validate_data(self, X, dtype=np.float64)
        n_clusters, seed = self._resolved("n_clusters"), self._resolved("random_state")
        min_share, n_boot, gap_refs, n_jaccard = self._settings(n_clusters)
        sample = self._k_sample(len(everyone), n_clusters, seed)
        X = everyone if sample is None else everyone[sample]
        ks = self._candidate_ks(X, n_clusters, seed)
        self.jaccard_, self._structures, self._panel_fits, fits = {}, {}, {}, {}
        voting = self.k_rule == "vote" and n_clusters is None
        with ThreadPoolExecutor(max_workers=1) as starting:  # the resamples' workers start while the k's are fitted
            started = starting.submit(start_workers, n_jaccard) if n_jaccard else None
            self._fit_into(fits, X, ks, seed, voting, progress)
            settings = (seed, min_share, n_boot, gap_refs, n_jaccard, n_clusters, started)
            table, choice, samples = self._choose(X, fits, *settings)
            beyond = self._beyond(X, ks) if voting and choice.k == ks[-1] else []
            if beyond:  # at the top of the range: the next k's are tried before anything is said
                self._fit_into(fits, X, beyond, seed, voting)
                table, choice, samples = self._choose(X, fits, *settings)
                tried = {"top": ks[-1], "low": ks[0], "next": ", ".join(map(str, beyond))}
                choice = choice._replace(reason={lang: f"{text} {_BEYOND_NOTE[lang].format(**tried)}"
                                                 for lang, text in choice.reason.items()})
        chosen, self.reason_, self.rule_, self.warnings_ = choice
        table["chosen"] = table["k"] == chosen
        self.k_sample_ = None
        if sample is not None:
            table["n_scored"] = len(X)
            fits[chosen], samples[chosen], self.k_sample_ = self._fit_everyone(everyone, sample, fits[chosen], seed)
            self.reason_ = {lang: f"{text} {_SAMPLE_NOTE[lang].format(m=len(X), n=len(everyone), k=chosen, seed=seed)}"
                            for lang, text in self.reason_.items()}
        self.k_selection_ = table
        self.k_ = chosen
        self.model_ = fits[chosen]
        self.cluster_centers_ = np.asarray(self.model_.cluster_centers_, dtype=np.float64)
        self.labels_ = np.asarray(self.model_.labels_, dtype=np.int64)
        self.inertia_ = float(self.model_.inertia_)
        self.silhouette_samples_ = samples[chosen]
        self.segment_stability_ = self.jaccard_.get(chosen)
        self.jaccard_record_ = {"resamples": n_jaccard, "seed": seed, "max_sample": JACCARD_MAX_SAMPLE,
                                "n_init": self.n_init, "measured_k": sorted(self.jaccard_)} if n_jaccard else None
        return self

    def _beyond(self, X: np.ndarray, ks: list[int]) -> list[int]:
        """The `EDGE_TRIES` k's above the range that the customers allow (none when n or the distinct rows cap it)."""
        cap = min(len(X) - 1, len(np.unique(X, axis=0)))
        return [k for k in range(ks[-1] + 1, ks[-1] + 1 + EDGE_TRIES) if k <= cap] if ks[-1] == self.k_range[1] else []

    def _choose(self, X: np.ndarray, fits: dict, seed: int, min_share: float, n_boot: int, gap_refs: int,
                n_jaccard: int, n_clusters: int | None, started: Future | None):
        """(k table, KChoice, silhouettes per k) over the fitted k's; sets `knee_` and `hopkins_`."""
        ks = list(fits)
        table, samples = self._k_table(X, fits, seed, n_boot, gap_refs, self.k_rule == "vote" and n_clusters is None)
        table["eligible"] = table["min_share"] >= min_share
        table["knee"] = False
        knee = None
        if len(ks) >= 3:
            knee = KneeLocator(table["k"], table["inertia"], curve="convex", direction="decreasing").knee
            table.loc[table["k"] == knee, "knee"] = True
        self.knee_ = None if knee is None else int(knee)
        self.hopkins_ = hopkins(X, seed=seed)
        return *self._measured_choice(X, table, fits, seed, min_share, n_jaccard, n_clusters, started), samples

    def _measured_choice(self, X: np.ndarray, table: pd.DataFrame, fits: dict, seed: int, min_share: float,
                         n_jaccard: int, n_clusters: int | None, started: Future | None):
        """(k table, KChoice), each segment's bootstrap Jaccard measured (`n_jaccard` resamples, into `jaccard_`, on
        the workers `started`) at the k's that decide the choice, until the choice rests on measured k's only
        (`deciding_ks`).

        The choice is the one that measuring every k would give: a k left unmeasured only
        received votes that would be withdrawn were it not eligible, and it lost anyway.
        """
        while True:
            trial = table.copy()
            if n_jaccard:
                trial["jaccard_min"] = [float(self.jaccard_[k].min()) if k in self.jaccard_ else np.nan for k in trial.k]
            choice = choose_k(trial, min_share, self.knee_, given=n_clusters, rule=self.k_rule, hopkins=self.hopkins_,
                              business_min=self.business_min_k, structure=lambda k: self._structure(X, k, seed))
            missing = [k for k in deciding_ks(trial, choice.k) if k not in self.jaccard_] if n_jaccard else []
            if not missing:
                return trial, choice
            started.result()
            self.jaccard_ |= segment_jaccard(X, {k: fits[k].labels_ for k in missing}, n_jaccard, seed,
                                             n_init=self.n_init)

    def _structure(self, X: np.ndarray, k: int, seed: int) -> dict:
        """The k against copies of the data without groups (`_reference`), once per k; kept in `structure_`."""
        if k not in self._structures:
            self._structures[k] = structure(X, k, seed)
        self.structure_ = self._structures[k]
        return self.structure_

    def _panel_table(self, X: np.ndarray, fits: dict, seed: int) -> pd.DataFrame:
        """Per k, HCPC's inertia ratio and NbClust's panel (`_indices`), from two more fits (`_fit_into`): k_min - 1
        (the total sum of squares when that is 1) and k_max + 1; without the fit at k_max + 1 (too few distinct
        customers) the panel is left out and its indices do not vote."""
        ks = list(fits)
        extra = {k: self._panel_fits[k] for k in (ks[0] - 1, ks[-1] + 1) if k in self._panel_fits}  # those allowed
        below = extra[ks[0] - 1].inertia_ if ks[0] - 1 in extra else ((X - X.mean(axis=0)) ** 2).sum()
        inertias = pd.Series([float(model.inertia_) for model in fits.values()])
        table = pd.DataFrame({"k": ks, "inertia_ratio": inertia_ratios(inertias, float(below))})
        if ks[-1] + 1 not in extra:
            return table
        partitions = {k: np.asarray(model.labels_) for k, model in {**fits, **extra}.items()}
        return table.merge(panel(X, partitions, ks), on="k")

    def _check_fitted(self) -> None:
        if not hasattr(self, "cluster_centers_"):
            raise SegmenterNotFittedError(f"this {type(self).__name__} is not fitted yet; call fit first")

    def transform(self, X) -> np.ndarray:
        """Euclidean distance of each row to each segment center."""
        self._check_fitted()
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return np.sqrt(((X[:, None, :] - self.cluster_centers_[None, :, :]) ** 2).sum(axis=2))

    def predict(self, X) -> np.ndarray:
        """Index of the nearest segment center for each row."""
        self._check_fitted()
        return nearest_center(validate_data(self, X, dtype=np.float64, reset=False), self.cluster_centers_)

    def relabel(self, order: np.ndarray) -> "Segmenter":
        """Renumber segments so that old segment `order[i]` becomes segment i."""
        self._check_fitted()
        inverse = np.empty_like(order)
        inverse[order] = np.arange(len(order))
        self.cluster_centers_ = self.cluster_centers_[order]
        self.labels_ = inverse[self.labels_]
        if self.segment_stability_ is not None:
            self.segment_stability_ = self.segment_stability_[order]
        return self
