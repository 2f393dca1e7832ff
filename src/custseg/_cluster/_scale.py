"""Feature scaling, fitted once and stored so new customers are scaled the same way.

`rank` (default): rank with tied values sharing their average rank, then z-score, so
identical customers get identical model values. `rank-first` is the study's exact method:
rank with ties broken by order of appearance (pandas' `rank(method='first')`), then z-score.
model.json records the tie rule (`ties`); a saved `rank` scaler without it (written before
the tie rule existed) is a `rank-first` one and scores as it was trained.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata
from sklearn.preprocessing import RobustScaler, StandardScaler

from .._config._options import check_scaling
from .._errors import DataError, NotFittedError

RANK_DIGITS = 12
RANK_KINDS = {"rank": "average", "rank-first": "first"}  # scaling -> tie rule recorded in model.json


def _round_significant(values: np.ndarray, digits: int = RANK_DIGITS) -> np.ndarray:
    """Round to `digits` significant digits, so sums added in another order still tie."""
    magnitude = np.floor(np.log10(np.abs(np.where(values == 0, 1.0, values))))
    scale = 10.0 ** (digits - 1 - magnitude)
    return np.round(values * scale) / scale


def _first_ranks(column: np.ndarray) -> np.ndarray:
    """1-based ranks, equal values ranked by position: pandas' rank(method='first').

    Values are compared at 12 significant digits: engines add floats in different
    orders, and a last-bit difference must not reorder customers that are equal.
    """
    ranks = np.empty(len(column), dtype=np.float64)
    ranks[np.argsort(_round_significant(column), kind="stable")] = np.arange(1, len(column) + 1)
    return ranks


def _average_ranks(column: np.ndarray) -> np.ndarray:
    """1-based ranks, equal values (at 12 significant digits) sharing their average rank.

    >>> _average_ranks(np.array([5.0, 1.0, 5.0])).tolist()
    [2.5, 1.0, 2.5]
    """
    return rankdata(_round_significant(column), method="average")


def _ranks_against(ref_values: np.ndarray, ref_ids: np.ndarray, values: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Rank of each (value, id) among the training customers ordered by (value, id).

    A training customer with its training value gets exactly its training rank; any
    other customer gets the half rank between its two neighbours.
    """
    n_ref = len(ref_values)
    all_values = np.concatenate([_round_significant(ref_values), _round_significant(values)])
    all_ids = np.concatenate([ref_ids.astype(str), ids.astype(str)])
    is_query = np.concatenate([np.zeros(n_ref, bool), np.ones(len(values), bool)])
    order = np.lexsort((is_query, all_ids, all_values))
    refs_before = np.cumsum(~is_query[order])  # training customers up to and including each position
    sorted_values, sorted_ids = all_values[order], all_ids[order]
    previous_same = np.r_[False, (sorted_values[1:] == sorted_values[:-1]) & (sorted_ids[1:] == sorted_ids[:-1])]
    previous_is_ref = np.r_[False, ~is_query[order][:-1]]
    exact = previous_same & previous_is_ref
    ranks_sorted = np.where(exact, refs_before, refs_before + 0.5)
    ranks = np.empty(len(values))
    query_positions = np.flatnonzero(is_query[order])
    ranks[order[query_positions] - n_ref] = ranks_sorted[query_positions]
    return ranks


def _signed_log(values: np.ndarray) -> np.ndarray:
    return np.sign(values) * np.log1p(np.abs(values))


class Scaler:
    """Scale a feature matrix; `kind` is one of rank, rank-first, log, robust, standard, none.

    >>> import numpy as np
    >>> Scaler("rank").fit_transform(np.array([[3.0], [1.0], [2.0]])).ravel().tolist()
    [1.0, -1.0, 0.0]
    >>> Scaler("rank").fit_transform(np.array([[1.0], [1.0], [2.0]])).ravel().round(3).tolist()
    [-0.577, -0.577, 1.155]
    """

    def __init__(self, kind: str = "rank", indicators: tuple[int, ...] = (), indicator_weight: float = 1.0):
        self.kind = kind
        self.indicators = indicators
        self.indicator_weight = indicator_weight

    def _check_fitted(self) -> None:
        if not hasattr(self, "center_"):
            raise NotFittedError("this Scaler is not fitted yet; call fit first")

    def _pre(self, X: np.ndarray, ids: np.ndarray | None, fitting: bool) -> np.ndarray:
        """The transform before centring; one-hot indicator columns pass through as 0/1."""
        out = self._pre_numeric(X, ids, fitting)
        indicators = list(self.indicators)
        if indicators:
            out = out.copy()
            out[:, indicators] = X[:, indicators]
        return out

    def _pre_numeric(self, X: np.ndarray, ids: np.ndarray | None, fitting: bool) -> np.ndarray:
        if self.kind == "log":
            return _signed_log(X)
        if self.kind == "rank":  # a training customer's mid-rank is its average rank: no ids needed
            ranks = np.column_stack([(_average_ranks(col) if fitting else self._midranks(col, j)) for j, col in enumerate(X.T)])
        elif self.kind == "rank-first":
            if fitting:
                ranks = np.column_stack([_first_ranks(col) for col in X.T])
            elif ids is None:
                ranks = np.column_stack([self._midranks(X[:, j], j) for j in range(X.shape[1])])
            else:
                ranks = np.column_stack([_ranks_against(self.reference_[:, j], self.reference_ids_, X[:, j], np.asarray(ids))
                                         for j in range(X.shape[1])])
        else:
            return X
        ranks[:, self.min_ == self.max_] = (len(self.reference_) + 1) / 2  # a constant feature: no order by id
        return ranks

    def _midranks(self, values: np.ndarray, j: int) -> np.ndarray:
        reference = np.sort(_round_significant(self.reference_[:, j]))
        values = _round_significant(values)
        low = np.searchsorted(reference, values, side="left")
        high = np.searchsorted(reference, values, side="right")
        return (low + high) / 2 + 0.5

    def fit(self, X: np.ndarray, ids: np.ndarray | None = None) -> "Scaler":
        """Learn the scaling of each column of X (rows in customer-id order; `ids` for rank)."""
        self.fit_transform(X, ids)
        return self

    def fit_transform(self, X: np.ndarray, ids: np.ndarray | None = None) -> np.ndarray:
        """Fit, then return X in model units.

        For `rank-first`, ties are broken by row order; `ids` (the customer ids, in that order)
        are kept so that `transform` can rank a training customer exactly as here.
        """
        check_scaling(self.kind)
        X = np.asarray(X, dtype=np.float64)
        if not np.isfinite(X).all():
            raise DataError("features contain missing or infinite values; cannot scale them")
        self.n_features_in_ = X.shape[1]
        self.min_, self.max_ = X.min(axis=0), X.max(axis=0)
        if self.kind in RANK_KINDS:
            self.reference_ = X.copy()
        if self.kind == "rank-first":
            self.reference_ids_ = np.asarray(ids if ids is not None else np.arange(len(X)).astype(str)).astype(str)
        pre = self._pre(X, None, fitting=True)
        if self.kind in (*RANK_KINDS, "log"):
            center, scale = pre.mean(axis=0), pre.std(axis=0, ddof=1 if self.kind in RANK_KINDS else 0)
        elif self.kind == "robust":
            fitted = RobustScaler().fit(pre)
            center, scale = fitted.center_, fitted.scale_
        elif self.kind == "standard":
            fitted = StandardScaler().fit(pre)
            center, scale = fitted.mean_, fitted.scale_
        else:
            center, scale = np.zeros(X.shape[1]), np.ones(X.shape[1])
        scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
        self.center_, self.scale_ = np.array(center, float), np.array(scale, float)
        indicators = list(self.indicators)
        if indicators:  # an indicator is worth `indicator_weight` model units, whatever the scaling
            self.center_[indicators], self.scale_[indicators] = 0.0, 1.0 / self.indicator_weight
        return (pre - self.center_) / self.scale_

    def transform(self, X: np.ndarray, ids: np.ndarray | None = None) -> np.ndarray:
        """Scale new rows with the fitted parameters.

        rank: the mid-rank among the training values (a training customer's own rank).
        rank-first: with `ids`, each customer is placed among the training customers by
        (value, id), so training customers get their training ranks exactly; without
        ids, the mid-rank among equal training values.
        """
        self._check_fitted()
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise DataError(f"expected {self.n_features_in_} features, got {X.shape[1] if X.ndim == 2 else X.ndim}")
        return (self._pre(X, ids, fitting=False) - self.center_) / self.scale_

    def out_of_range(self, X: np.ndarray) -> np.ndarray:
        """Boolean mask of rows with any value outside the training range."""
        self._check_fitted()
        X = np.asarray(X, dtype=np.float64)
        return ((X < self.min_) | (X > self.max_)).any(axis=1)

    def to_dict(self) -> dict:
        """JSON-ready parameters."""
        self._check_fitted()
        out = {"kind": self.kind, "indicators": list(self.indicators), "indicator_weight": self.indicator_weight,
               "center": self.center_.tolist(), "scale": self.scale_.tolist(),
               "min": self.min_.tolist(), "max": self.max_.tolist()}
        if self.kind in RANK_KINDS:
            out["ties"] = RANK_KINDS[self.kind]
            out["reference"] = {"values": self.reference_.T.tolist()}
        if self.kind == "rank-first":
            out["reference"]["ids"] = self.reference_ids_.tolist()
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "Scaler":
        """Rebuild a fitted scaler from `to_dict` output (a `rank` one without `ties` is `rank-first`)."""
        kind = "rank-first" if data["kind"] == "rank" and data.get("ties", "first") == "first" else data["kind"]
        scaler = cls(kind, tuple(data.get("indicators", ())), data.get("indicator_weight", 1.0))
        scaler.center_, scaler.scale_ = np.asarray(data["center"], float), np.asarray(data["scale"], float)
        scaler.min_, scaler.max_ = np.asarray(data["min"], float), np.asarray(data["max"], float)
        scaler.n_features_in_ = len(scaler.center_)
        if scaler.kind in RANK_KINDS:
            scaler.reference_ = np.asarray(data["reference"]["values"], float).T
        if scaler.kind == "rank-first":
            scaler.reference_ids_ = np.asarray(data["reference"]["ids"]).astype(str)
        return scaler
