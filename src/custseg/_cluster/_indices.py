"""The panel of NbClust's indices that are cheap at these sizes (Charrad et al. 2014, R package NbClust 3.0),
each with NbClust's own rule for the best k, computed as NbClust computes them on the same partitions.

`panel(X, partitions, ks)` takes K-means partitions for k-1 .. k+1 of every k in `ks` (the indices at k
use the partitions at k-1 and k+1, as NbClust's do) and returns one column per index. The formulas
follow NbClust's code, quirks included, so that the values match NbClust's to its printed 4 decimals
(tests/cluster/reference/nbclust.R): Hartigan uses (n - k), not (n - k - 1); Friedman sums the diagonal
of the element-wise product W^-1 * B; TrCovW is the trace of the covariance of the rows of W; DB
measures spread by the root mean squared distance to the centre; Duda, pseudo-t2 and Beale compare the
segment at k that the partition at k+1 splits, found by NbClust's walk over segment numbers (1-based).

Three indices read all pairwise distances (McClain, point-biserial, Dunn): computed in blocks, exact up
to `PAIRWISE_MAX` customers, on a seeded sample of that many above. The other pairwise ones (C-index,
Frey, Hubert, D index, SDbw, gamma, G+, tau) and SDindex are left out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import f as f_distribution

# index -> how NbClust picks its k: "max"/"min" of the value, "max_diff"/"min_diff" of |I(k) - I(k-1)|,
# "max_second"/"min_second" of the second difference (I(k+1) - I(k)) - (I(k) - I(k-1)), or "first_*" for
# the first k that passes its critical value.
RULES = {"kl": "max", "ch": "max", "hartigan": "max_diff", "ccc": "max", "scott": "max_diff",
         "marriot": "max_second", "trcovw": "max_diff", "tracew": "max_second", "friedman": "max_diff",
         "rubin": "min_second", "db": "min", "duda": "first_duda", "pseudot2": "first_pseudot2",
         "beale": "first_beale", "ratkowsky": "max", "ball": "max_diff", "ptbiserial": "max", "mcclain": "min",
         "dunn": "max"}
NAMES = {"kl": "KL", "ch": "CH", "hartigan": "Hartigan", "ccc": "CCC", "scott": "Scott", "marriot": "Marriot",
         "trcovw": "TrCovW", "tracew": "TraceW", "friedman": "Friedman", "rubin": "Rubin", "db": "DB",
         "duda": "Duda", "pseudot2": "PseudoT2", "beale": "Beale", "ratkowsky": "Ratkowsky", "ball": "Ball",
         "ptbiserial": "PtBiserial", "mcclain": "McClain", "dunn": "Dunn"}
PAIRWISE_MAX = 5_000
_PAIR_BLOCK = 512
BEALE_ALPHA = 0.1
DUDA_Z = 3.20  # Milligan and Cooper's best standard score, as NbClust


def _means(X: np.ndarray, labels: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    counts = np.bincount(labels, minlength=k).astype(float)
    sums = np.zeros((k, X.shape[1]))
    np.add.at(sums, labels, X)
    return sums / np.maximum(counts, 1)[:, None], counts


class _Data:
    """What every partition's indices share: n, p, the total scatter and NbClust's CCC constants."""

    def __init__(self, X: np.ndarray):
        self.X = np.asarray(X, dtype=np.float64)
        self.n, self.p = self.X.shape
        self.P = self.X.T @ self.X  # NbClust's TT: not centred
        eigen = np.sort(np.linalg.eigvalsh(self.P / (self.n - 1)))[::-1]
        s = np.sqrt(np.clip(eigen, 0, None))
        self.s = np.where(s != 0, s, 1.0)
        self.total_by_variable = ((self.X - self.X.mean(axis=0)) ** 2).sum(axis=0)

    def ccc(self, k: int, r2: float) -> float:
        n, p, s = self.n, self.p, self.s
        u = s / (np.prod(s) / k) ** (1 / p)
        p1 = min(int((u >= 1).sum()), k - 1)
        if 0 < p1 < p:
            u = s / (np.prod(s[:p1]) / k) ** (1 / p1)
            b = (1 / (n + u[:p1])).sum() + (u[p1:] ** 2 / (n + u[p1:])).sum()
            dims = p1
        else:
            b, dims = (1 / (n + u)).sum(), p
        expected = 1 - (b / (u ** 2).sum()) * ((n - k) ** 2 / n) * (1 + 4 / n)
        return float(np.log((1 - expected) / (1 - r2)) * np.sqrt(n * dims / 2) / (0.001 + expected) ** 1.2)


def _one(data: _Data, labels: np.ndarray, k: int) -> dict:
    """The indices that need only the partition at k."""
    X, n = data.X, data.n
    centers, counts = _means(X, labels, k)
    B = (centers * counts[:, None]).T @ centers  # between scatter, not centred (NbClust's)
    W = data.P - B
    det_w, det_p = np.linalg.det(W), np.linalg.det(data.P)
    singular = not det_w > 0  # a feature constant within every segment: NbClust stops, these indices abstain here
    trace_w, trace_p = np.trace(W), np.trace(data.P)
    residual = X - centers[labels]
    by_variable = np.zeros((k, X.shape[1]))
    np.add.at(by_variable, labels, residual ** 2)
    between_by_variable = data.total_by_variable - by_variable.sum(axis=0)
    spread = np.sqrt(np.bincount(labels, weights=(residual ** 2).sum(axis=1), minlength=k) / np.maximum(counts, 1))
    spread[counts <= 1] = 0.0
    gaps = np.sqrt(((centers[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2))
    with np.errstate(divide="ignore"):
        ratio = (spread[:, None] + spread[None, :]) / gaps
    np.fill_diagonal(ratio, -np.inf)
    wss = (residual ** 2).sum()
    return {"wss": wss, "ch": ((data.total_by_variable.sum() - wss) / (k - 1)) / (wss / (n - k)),
            "ccc": data.ccc(k, 1 - trace_w / trace_p), "scott": np.nan if singular else n * np.log(det_p / det_w), "marriot": k ** 2 * det_w,
            "trcovw": float(np.trace(np.cov(W, rowvar=False))), "tracew": trace_w,
            "friedman": np.nan if singular else float(np.diag(np.linalg.inv(W) * B).sum()), "rubin": trace_p / trace_w,
            "db": float(ratio.max(axis=1).mean()), "ball": wss / k,
            "ratkowsky": float(np.mean(np.sqrt(between_by_variable / data.total_by_variable)) / np.sqrt(k))}


def _split(data: _Data, at_k: np.ndarray, at_k1: np.ndarray) -> dict:
    """Duda, pseudo-t2 and Beale with their critical values: the segment g1 of `at_k` against segments g1 and g2
    of `at_k1`, found by NbClust's walk over 1-based segment numbers."""
    X, p = data.X, data.p
    cl1, cl2 = at_k + 1, at_k1 + 1
    g1, top = 1, cl1.max()
    while g1 <= top and (cl1 == g1).sum() == (cl2 == g1).sum():
        g1 += 1
    g2 = cl2.max()
    while g2 - 1 >= 1 and (cl1 == g2 - 1).sum() == (cl2 == g2).sum():
        g2 -= 1

    def wss(rows: np.ndarray) -> float:
        part = X[rows]
        return ((part - part.mean(axis=0)) ** 2).sum() if len(part) else np.float64(0.0)

    wk, wl, wm = wss(cl2 == g1), wss(cl2 == g2), wss(cl1 == g1)
    nk, nl, nm = (np.float64((labels == g).sum()) for labels, g in ((cl2, g1), (cl2, g2), (cl1, g1)))
    bkl = wm - wk - wl
    beale = (bkl / (wk + wl)) / (((nm - 1) / (nm - 2)) * (2 ** (2 / p) - 1))
    critical = 1 - 2 / (np.pi * p) - DUDA_Z * np.sqrt(2 * (1 - 8 / (np.pi ** 2 * p)) / (nm * p))
    return {"duda": (wk + wl) / wm, "pseudot2": bkl / ((wk + wl) / (nk + nl - 2)), "beale": beale,
            "duda_critical": critical, "pseudot2_critical": (1 - critical) / critical * (nk + nl - 2),
            "beale_pvalue": float(f_distribution.sf(beale, p, (nm - 2) * p))}


def _pairwise(X: np.ndarray, labelings: dict[int, np.ndarray]) -> dict[int, dict]:
    """Point-biserial, McClain and Dunn of each labeling, from every pair's distance once (blocks of rows)."""
    n = len(X)
    stats = {k: np.zeros(4) for k in labelings}  # within sum, within count, between sum, between count
    diameter = {k: np.float64(0.0) for k in labelings}
    nearest = {k: np.float64(np.inf) for k in labelings}
    total = np.zeros(2)  # sum and sum of squares over all pairs
    for start in range(0, n, _PAIR_BLOCK):
        block = X[start:start + _PAIR_BLOCK]
        d = np.sqrt(np.clip((block ** 2).sum(1)[:, None] - 2 * block @ X.T + (X ** 2).sum(1)[None, :], 0, None))
        upper = np.arange(start, start + len(block))[:, None] < np.arange(n)[None, :]
        pairs = d[upper]
        total += (pairs.sum(), (pairs ** 2).sum())
        for k, labels in labelings.items():
            same = (labels[start:start + len(block)][:, None] == labels[None, :])[upper]
            within, between = pairs[same], pairs[~same]
            stats[k] += (within.sum(), len(within), between.sum(), len(between))
            if len(within):
                diameter[k] = max(diameter[k], within.max())
            if len(between):
                nearest[k] = min(nearest[k], between.min())
    m = np.float64(n) * (n - 1) / 2
    sd = np.sqrt((total[1] - total[0] ** 2 / m) / (m - 1))
    out = {}
    for k, (ws, wc, bs, bc) in stats.items():
        share = bc / m
        out[k] = {"ptbiserial": (bs / bc - ws / wc) * np.sqrt(share * (1 - share)) / sd,
                  "mcclain": (ws / wc / wc) / (bs / bc / bc), "dunn": nearest[k] / diameter[k]}
    return out


def panel(X: np.ndarray, partitions: dict[int, np.ndarray], ks: list[int], seed: int = 0) -> pd.DataFrame:
    """One row per k of `ks` with each index's value (NbClust's definitions); `partitions` holds the labels
    (0-based) of every k in ks, of k_min - 1 (or k_min - 1 = 1: one segment) and of k_max + 1; `seed` draws
    the sample of the pairwise indices above `PAIRWISE_MAX` customers."""
    with np.errstate(all="ignore"):  # degenerate partitions (a segment of one, n = k) give inf or NaN, as in NbClust
        return _panel(_Data(X), partitions, ks, seed)


def _panel(data: _Data, partitions: dict[int, np.ndarray], ks: list[int], seed: int) -> pd.DataFrame:
    rows = np.arange(len(data.X))
    if len(rows) > PAIRWISE_MAX:
        rows = np.sort(np.random.default_rng([seed, 4]).choice(len(rows), size=PAIRWISE_MAX, replace=False))
    pairwise = _pairwise(data.X[rows], {k: np.asarray(partitions[k])[rows] for k in ks})
    one = {k: _one(data, labels, k) for k, labels in partitions.items() if k >= 2}
    if min(ks) - 1 == 1:
        one[1] = {"wss": data.total_by_variable.sum()}
    m = data.p
    table = []
    for k in ks:
        diff = lambda a, b: a ** (2 / m) * one[a]["wss"] - b ** (2 / m) * one[b]["wss"]  # noqa: E731
        row = {"k": k, **{i: one[k][i] for i in RULES if i in one[k]}}
        row["kl"] = abs(diff(k - 1, k)) / abs(diff(k, k + 1))
        row["hartigan"] = (one[k]["wss"] / one[k + 1]["wss"] - 1) * (data.n - k)
        table.append(row | _split(data, partitions[k], partitions[k + 1]) | pairwise[k])
    return pd.DataFrame(table)


def best_k(table: pd.DataFrame) -> dict[str, int | None]:
    """Each index's k by NbClust's rule over the rows of `table` (consecutive k); None: no k passes."""
    ks = table["k"].to_numpy()
    out: dict[str, int | None] = {}
    for index, rule in RULES.items():
        values = table[index].to_numpy(dtype=float)
        if not np.isfinite(values).any():
            out[index] = None
        elif rule in ("max", "min"):
            out[index] = int(ks[np.nanargmax(values) if rule == "max" else np.nanargmin(values)])
        elif rule.endswith("_diff"):
            steps = np.r_[np.nan, np.abs(np.diff(values))]
            out[index] = int(ks[np.nanargmax(steps)]) if np.isfinite(steps).any() else None
        elif rule.endswith("_second"):
            second = np.r_[np.nan, values[2:] - 2 * values[1:-1] + values[:-2], np.nan]
            pick = np.nanargmax if rule == "max_second" else np.nanargmin
            out[index] = int(ks[pick(second)]) if np.isfinite(second).any() else None
        else:
            passes = {"first_duda": values >= table["duda_critical"].to_numpy(),
                      "first_pseudot2": values <= table["pseudot2_critical"].to_numpy(),
                      "first_beale": table["beale_pvalue"].to_numpy() >= BEALE_ALPHA}[rule]
            out[index] = int(ks[np.argmax(passes)]) if passes.any() else None
    return out
