"""Clustering algorithms behind one interface: K-means, Ward, Gaussian mixture, MiniBatch K-means, K-prototypes.

Every model is built by `make_model(name, k, seed)` and follows scikit-learn: `fit(X)`
returns the model and sets `labels_` (0..k-1) and `cluster_centers_` (model units; for
Ward the mean of each cluster, for a Gaussian mixture its means); `predict(X)` gives
the nearest center (Ward, K-means) or the most probable component (mixture). Every
random step is seeded.

>>> import numpy as np
>>> X = np.r_[np.zeros((20, 2)), np.full((20, 2), 5.0)] + np.random.default_rng(0).normal(size=(40, 2)) * 0.1
>>> sorted(np.bincount(make_model("ward", 2, seed=0).fit(X).labels_).tolist())
[20, 20]
"""

from __future__ import annotations

import contextlib

import numpy as np
import sklearn
from scipy.cluster.hierarchy import cut_tree as scipy_cut_tree, dendrogram, fcluster, linkage
from sklearn.cluster import KMeans, MiniBatchKMeans, kmeans_plusplus
from sklearn.mixture import GaussianMixture

from .._errors import DataError, NotFittedError, UsageError, check_param
from ._metrics import nearest_center

ALGORITHMS = ("kmeans", "ward", "gmm", "minibatch")
MIXED_ALGORITHMS = ("kprototypes",)
WARD_MAX = 10_000
MINIBATCH_SIZE = 4_096
SINGLE_THREAD_MAX = 50_000


def checked_once():
    """scikit-learn's per-call checks of inputs and parameters off, on this thread, for fits of data custseg checked.

    Every model here checks its data once (`_check_X`; the Segmenter's `validate_data`)
    and its parameters (`check_param`); the same checks repeated inside each of the
    hundreds of small fits of the choice of k took 6-13% of their time. Same results.
    """
    return sklearn.config_context(assume_finite=True, skip_parameter_validation=True)


@contextlib.contextmanager
def fitting_threads(n: int):
    """Context for fitting many small models: OpenMP and BLAS limited to one thread up to `SINGLE_THREAD_MAX` rows
    (and `checked_once`).

    scikit-learn's K-means spreads each fit over all cores; on a few thousand customers
    the threads mostly wait for each other (10x slower on a busy 2-core machine:
    docs/methods.md), so the many refits of stability and comparison run one per core.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1) if n <= SINGLE_THREAD_MAX else contextlib.nullcontext(), checked_once():
        yield


def _check_X(X, k: int) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or len(X) == 0:
        raise DataError(f"X must be a non-empty 2-D array; got shape {X.shape}")
    if not np.isfinite(X).all():
        raise DataError("features contain missing or infinite values; cannot cluster them")
    if len(X) < k:
        raise DataError(f"n_samples={len(X)} should be >= n_clusters={k}.")
    return X


def cluster_means(X: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Mean of each cluster's rows (k x d)."""
    counts = np.bincount(labels, minlength=k).astype(float)
    sums = np.zeros((k, X.shape[1]))
    np.add.at(sums, labels, X)
    return sums / np.maximum(counts, 1)[:, None]


class _Model:
    """Shared fitted-state checks and nearest-center prediction."""

    name = "?"

    def _check_fitted(self) -> None:
        if not hasattr(self, "labels_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit first")

    def predict(self, X) -> np.ndarray:
        """Index of the nearest cluster center for each row."""
        self._check_fitted()
        return nearest_center(np.asarray(X, dtype=np.float64), self.cluster_centers_)


KMEANS_TOL = 0.0  # both engines: Lloyd iterations until no customer changes segment (no centre moves) ...
KMEANS_MAX_ITER = 300  # ... or this many; scikit-learn's default tol (1e-4 x variance) stopped 1-2% of customers short


def kmeans_starts(X: np.ndarray, k: int, n_init: int, seed: int) -> list[np.ndarray]:
    """The `n_init` k-means++ starting centres of K-means at k, the same for both engines (k x d each, rows of `X`).

    They are the successive draws of one `RandomState(seed)` on the rows centred on their
    mean, as scikit-learn's `KMeans(random_state=seed)` draws its restarts: the embedded
    engine's partitions are those it gave before the starts were shared (issue 25).
    """
    centred = X - X.mean(axis=0)
    state = np.random.RandomState(seed)
    return [X[kmeans_plusplus(centred, k, random_state=state)[1]] for _ in range(n_init)]


class KMeansModel(_Model):
    """K-means (Lloyd, k-means++ starts), as the pipeline runs it."""

    name = "kmeans"

    def __init__(self, k: int = 4, seed: int = 0, n_init: int = 10):
        self.k = k
        self.seed = seed
        self.n_init = n_init

    def fit(self, X) -> "KMeansModel":
        """Fit K-means with `n_init` seeded restarts."""
        check_param("KMeansModel", "k", self.k, int, 1)
        X = _check_X(X, self.k)
        model = KMeans(n_clusters=self.k, n_init=self.n_init, random_state=self.seed, tol=KMEANS_TOL,
                       max_iter=KMEANS_MAX_ITER).fit(X)
        self.labels_, self.cluster_centers_, self.inertia_ = model.labels_, model.cluster_centers_, float(model.inertia_)
        return self


class MiniBatchKMeansModel(_Model):
    """MiniBatch K-means for very large data: batches of `batch_size` rows, seeded."""

    name = "minibatch"

    def __init__(self, k: int = 4, seed: int = 0, n_init: int = 3, batch_size: int = MINIBATCH_SIZE):
        self.k = k
        self.seed = seed
        self.n_init = n_init
        self.batch_size = batch_size

    def fit(self, X) -> "MiniBatchKMeansModel":
        """Fit MiniBatch K-means; labels are the nearest final center."""
        check_param("MiniBatchKMeansModel", "k", self.k, int, 1)
        X = _check_X(X, self.k)
        model = MiniBatchKMeans(n_clusters=self.k, n_init=self.n_init, batch_size=self.batch_size,
                                random_state=self.seed).fit(X)
        self.cluster_centers_ = model.cluster_centers_
        self.labels_ = nearest_center(X, self.cluster_centers_)
        self.inertia_ = float(((X - self.cluster_centers_[self.labels_]) ** 2).sum())
        return self


def ward_sample(n: int, ward_max: int, seed: int) -> np.ndarray:
    """Sorted indices of the rows Ward clusters exactly: all of them, or a seeded sample of `ward_max`."""
    if n <= ward_max:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=ward_max, replace=False))


def ward_linkage(X: np.ndarray) -> np.ndarray:
    """SciPy linkage matrix of Ward's agglomerative clustering (memory O(n^2): call on a sample)."""
    return linkage(X, method="ward", metric="euclidean")


def cut_tree(tree: np.ndarray, k: int) -> np.ndarray:
    """Labels 0..k-1 from cutting a linkage matrix into k clusters.

    fcluster cuts at a height; when merges tie in height (identical customers, now that
    tied ranks are equal) no height gives k clusters, and the tree is cut by merge order.
    """
    labels = fcluster(tree, t=k, criterion="maxclust") - 1
    if labels.max() + 1 < k <= len(tree) + 1:
        labels = scipy_cut_tree(tree, n_clusters=k).ravel().astype(np.int64)
    return labels


class WardClustering(_Model):
    """Agglomerative clustering with Ward's criterion (CAH).

    Above `ward_max` rows, a seeded sample of `ward_max` rows is clustered exactly and
    every other row goes to the nearest cluster center (the mean of its sample rows).
    `linkage_` is the SciPy linkage matrix of the (sampled) tree, for a dendrogram;
    `sample_indices_` are the rows it was built on.
    """

    name = "ward"

    def __init__(self, k: int = 4, seed: int = 0, ward_max: int = WARD_MAX):
        self.k = k
        self.seed = seed
        self.ward_max = ward_max

    def fit(self, X) -> "WardClustering":
        """Build the tree (on a sample above `ward_max`), cut it into k clusters, assign the rest."""
        check_param("WardClustering", "k", self.k, int, 1)
        check_param("WardClustering", "ward_max", self.ward_max, int, 2)
        X = _check_X(X, self.k)
        sample = ward_sample(len(X), self.ward_max, self.seed)
        tree = ward_linkage(X[sample]) if len(sample) > 1 else np.empty((0, 4))
        return self._from_tree(X, sample, tree)

    def _from_tree(self, X: np.ndarray, sample: np.ndarray, tree: np.ndarray) -> "WardClustering":
        sample_labels = cut_tree(tree, self.k) if len(tree) else np.zeros(len(sample), dtype=np.int64)
        found = int(sample_labels.max()) + 1
        if found < self.k:
            raise DataError(f"Ward found only {found} distinct cluster(s) for k={self.k}; the data have too few distinct rows")
        self.cluster_centers_ = cluster_means(X[sample], sample_labels, self.k)
        labels = nearest_center(X, self.cluster_centers_)
        labels[sample] = sample_labels
        self.labels_ = labels
        self.linkage_ = tree
        self.sample_indices_ = sample
        self.inertia_ = float(((X - self.cluster_centers_[labels]) ** 2).sum())
        return self


class GaussianMixtureModel(_Model):
    """Gaussian mixture (full covariances, k-means initialisation, seeded); `bic_` scores k."""

    name = "gmm"

    def __init__(self, k: int = 4, seed: int = 0, n_init: int = 2, covariance_type: str = "full", reg_covar: float = 1e-4):
        self.k = k
        self.seed = seed
        self.n_init = n_init
        self.covariance_type = covariance_type
        self.reg_covar = reg_covar

    def fit(self, X) -> "GaussianMixtureModel":
        """Fit the mixture by EM; labels are the most probable component."""
        check_param("GaussianMixtureModel", "k", self.k, int, 1)
        X = _check_X(X, self.k)
        model = GaussianMixture(n_components=self.k, covariance_type=self.covariance_type, n_init=self.n_init,
                                reg_covar=self.reg_covar, random_state=self.seed).fit(X)
        self.mixture_ = model
        self.labels_ = model.predict(X)
        self.cluster_centers_ = model.means_
        self.bic_ = float(model.bic(X))
        self.inertia_ = float(((X - self.cluster_centers_[self.labels_]) ** 2).sum())
        self.converged_ = bool(model.converged_)
        return self

    def predict(self, X) -> np.ndarray:
        """Most probable mixture component of each row."""
        self._check_fitted()
        return self.mixture_.predict(np.asarray(X, dtype=np.float64))


class KPrototypesModel(_Model):
    """K-prototypes (kmodes) for numeric plus categorical columns.

    `X` holds numeric columns in model units and, at the positions `categorical`,
    integer category codes. `gamma` weighs a categorical mismatch against squared
    numeric distance (kmodes' default, half the numeric standard deviation, when None).
    `cluster_centers_` are the numeric means with the categorical modes as codes.
    """

    name = "kprototypes"

    def __init__(self, k: int = 4, seed: int = 0, categorical: tuple[int, ...] = (), gamma: float | None = None, n_init: int = 4):
        self.k = k
        self.seed = seed
        self.categorical = categorical
        self.gamma = gamma
        self.n_init = n_init

    def fit(self, X) -> "KPrototypesModel":
        """Fit K-prototypes (Huang initialisation, seeded)."""
        from kmodes.kprototypes import KPrototypes

        check_param("KPrototypesModel", "k", self.k, int, 1)
        X = _check_X(X, self.k)
        categorical = list(self.categorical)
        if not categorical or not set(categorical) <= set(range(X.shape[1])) or len(categorical) == X.shape[1]:
            raise UsageError(f"K-prototypes needs categorical column positions among 0..{X.shape[1] - 1} and at least "
                             f"one numeric column; got {self.categorical!r}")
        model = KPrototypes(n_clusters=self.k, init="Huang", n_init=self.n_init, gamma=self.gamma,
                            random_state=self.seed, n_jobs=1).fit(X, categorical=categorical)
        self.model_ = model
        self.labels_ = np.asarray(model.labels_, dtype=np.int64)
        numeric = [j for j in range(X.shape[1]) if j not in categorical]
        centers = np.empty((self.k, X.shape[1]))
        centers[:, numeric] = cluster_means(X[:, numeric], self.labels_, self.k)
        for j in categorical:
            column = X[:, j].astype(np.int64)
            for s in range(self.k):
                values = column[self.labels_ == s]
                centers[s, j] = np.bincount(values).argmax() if len(values) else 0
        self.cluster_centers_ = centers
        self.gamma_ = float(model.gamma)
        self.cost_ = float(model.cost_)
        return self

    def predict(self, X) -> np.ndarray:
        """Nearest prototype (kmodes' mixed distance)."""
        self._check_fitted()
        return np.asarray(self.model_.predict(np.asarray(X, dtype=np.float64), categorical=list(self.categorical)))


_FACTORIES = {
    "kmeans": KMeansModel,
    "ward": WardClustering,
    "gmm": GaussianMixtureModel,
    "minibatch": MiniBatchKMeansModel,
    "kprototypes": KPrototypesModel,
}


def make_model(name: str, k: int, seed: int = 0, **options) -> _Model:
    """An unfitted model of algorithm `name` with k clusters.

    >>> make_model("gmm", 3, seed=1).k
    3
    """
    if name not in _FACTORIES:
        raise UsageError(f"algorithm must be one of {', '.join(_FACTORIES)}; got {name!r}")
    return _FACTORIES[name](k=k, seed=seed, **options)


def fit_path(name: str, X, ks: list[int], seed: int = 0, **options) -> dict[int, _Model]:
    """Fitted models for each k; Ward builds its tree once and cuts it at every k."""
    X = np.asarray(X, dtype=np.float64)
    if name != "ward":
        return {k: make_model(name, k, seed, **options).fit(X) for k in ks}
    ward_max = options.get("ward_max", WARD_MAX)
    _check_X(X, max(ks))
    sample = ward_sample(len(X), ward_max, seed)
    tree = ward_linkage(X[sample])
    return {k: WardClustering(k=k, seed=seed, ward_max=ward_max)._from_tree(X, sample, tree) for k in ks}


def dendrogram_data(tree: np.ndarray, k: int, leaves: int = 30) -> dict:
    """Coordinates of Ward's dendrogram truncated to its last `leaves` merges, and the height cutting it into k."""
    picture = dendrogram(tree, truncate_mode="lastp", p=leaves, no_plot=True, count_sort="descending")
    heights = np.sort(tree[:, 2])
    cut = float((heights[-k] + heights[-k + 1]) / 2) if k >= 2 and len(heights) >= k else float(heights[-1])
    return {"icoord": picture["icoord"], "dcoord": picture["dcoord"], "leaves": picture["ivl"], "cut_height": cut,
            "k": k, "n_sampled": int(len(tree) + 1)}
