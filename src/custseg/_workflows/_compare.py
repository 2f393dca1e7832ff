"""Compare segmentation methods on the same customers and features: K-means, Ward, GMM, RFM rules.

`compare_methods(data, ...)` reads, cleans and scales exactly as `custseg.segment` does,
chooses k with K-means' rule (or takes `k`), fits every method at that k, and reports
side by side: silhouette, Calinski-Harabasz, Davies-Bouldin, bootstrap stability
(mean adjusted Rand index), segment sizes, run time, each method's own preferred k,
the agreement between methods (adjusted Rand), and a recommendation with its reason.

>>> comparison = compare_methods("online_retail.csv", preset="online-retail")  # doctest: +SKIP
>>> comparison.table[["method", "k", "silhouette", "stability_ari"]]          # doctest: +SKIP
>>> print(comparison.recommendation["en"])                                    # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dtm
import time
from dataclasses import dataclass, field

import ibis
import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from .._cluster import Scaler, Segmenter
from .._cluster._algorithms import WARD_MAX, dendrogram_data, fit_path, fitting_threads, make_model
from .._cluster._choice import choose_k
from .._cluster._metrics import evaluate
from .._cluster._stability import bootstrap_ari
from .._config import RunConfig, config_from_options
from .._errors import UsageError
from .._prep._prepare import prepare
from .._prep._rfm_summary import rfm_summary
from ._rfm import load_rfm_rules, rfm_bootstrap_ari, rfm_scores, rfm_segments

METHODS = ("kmeans", "ward", "gmm", "minibatch", "rfm")
DEFAULT_METHODS = ("kmeans", "ward", "gmm", "rfm")
STABLE_ARI = 0.8
CATEGORICAL_CHOICES = ("ignore", "onehot", "kprototypes")


@dataclass
class ScaledCustomers:
    """Customers and features exactly as `segment` builds them, scaled, before clustering."""

    config: RunConfig
    source_name: str
    lines: ibis.Table | None
    customers: pd.DataFrame
    names: list[str]
    cleaning: dict
    Z: np.ndarray
    categorical: pd.DataFrame | None = None


def scaled_customers(data, config: RunConfig, categorical: str = "ignore",
                     categorical_weight: float = 1.0) -> ScaledCustomers:
    """Prepare and scale the features as `segment` does.

    Per-customer tables: `categorical` is `ignore`, `onehot` (indicator columns, each
    multiplied by `categorical_weight` after the numeric columns are scaled) or
    `kprototypes` (the same weighted indicators in `Z`, so every method and metric sees
    the categories, plus the raw categories in `categorical` for K-prototypes).
    """
    if categorical not in CATEGORICAL_CHOICES:
        raise UsageError(f"categorical must be one of {', '.join(CATEGORICAL_CHOICES)}; got {categorical!r}")
    if not (isinstance(categorical_weight, int | float) and categorical_weight > 0):
        raise UsageError(f"categorical weight must be a positive number; got {categorical_weight!r}")
    prepared = prepare(data, config)
    names, cleaning = list(prepared.names), prepared.cleaning
    Z = Scaler(config.scaling).fit_transform(prepared.X)
    categories = prepared.categories() if categorical != "ignore" else None
    if categories is not None:
        onehot = weighted_onehot(categories, categorical_weight)
        Z = np.column_stack([Z, onehot.to_numpy()])
        names = [*names, *onehot.columns]
        cleaning["categorical"] = {"mode": categorical, "weight": categorical_weight, "columns": list(categories.columns),
                                   "one_hot_columns": list(onehot.columns)}
        if categorical == "kprototypes":
            cleaning["categorical"]["kprototypes_gamma"] = kprototypes_gamma(categorical_weight)
    return ScaledCustomers(config, prepared.source.name, prepared.lines, prepared.customers, names, cleaning, Z,
                           categories if categorical == "kprototypes" else None)


def kprototypes_gamma(weight: float) -> float:
    """K-prototypes' gamma matching a one-hot weight: a category mismatch costs 2 w^2, as in the one-hot space.

    >>> kprototypes_gamma(0.5)
    0.5
    """
    return 2.0 * float(weight) ** 2


def weighted_onehot(categories: pd.DataFrame, weight: float) -> pd.DataFrame:
    """Indicator columns `column=value` worth `weight` in model units (two customers differing in one
    category are `weight * sqrt(2)` apart, as two customers `weight` standard deviations apart on two features).

    >>> weighted_onehot(pd.DataFrame({"Gender": ["F", "M"]}), 0.5).values.tolist()
    [[0.5, 0.0], [0.0, 0.5]]
    """
    dummies = pd.get_dummies(categories, prefix=list(categories.columns), prefix_sep="=", dtype=float)
    return dummies * float(weight)


@dataclass
class MethodComparison:
    """Side-by-side results of several methods on the same customers and features.

    `table`: one row per method (columns in docs/methods.md); `agreement`: adjusted Rand
    index between every pair of methods; `labels`: customer id plus one label column per
    method (1..k); `k_selection`: K-means' choice-of-k table with stability and gap
    columns; `dendrogram`: Ward's truncated dendrogram (SciPy coordinates) or None;
    `recommendation`: {"method", "en", "fr"}.
    """

    table: pd.DataFrame
    agreement: pd.DataFrame
    labels: pd.DataFrame
    k_selection: pd.DataFrame
    recommendation: dict
    dendrogram: dict | None
    info: dict = field(default_factory=dict)


def _sizes_text(labels: np.ndarray) -> str:
    counts = np.sort(np.bincount(labels))[::-1]
    counts = counts[counts > 0]
    return " / ".join(f"{c / counts.sum():.0%}" for c in counts)


def _scores(Z: np.ndarray, labels: np.ndarray, config: RunConfig) -> dict:
    row, _ = evaluate(Z, labels, exact_max=config.silhouette_exact_max, sample_size=config.silhouette_sample_size,
                      seed=config.seed)
    return row | {"sizes": _sizes_text(labels)}


def _preferred_by_silhouette(Z, path: dict, config: RunConfig) -> int:
    """K-means' rule (`choose_k`) on another algorithm's path of fits."""
    table = pd.DataFrame([_scores(Z, model.labels_, config) | {"k": k} for k, model in path.items()])
    table["eligible"] = table["min_share"] >= config.min_share
    return choose_k(table, config.min_share)[0]


def _recommend(table: pd.DataFrame, config: RunConfig) -> dict:
    candidates = table.dropna(subset=["silhouette"])
    eligible = candidates[(candidates.min_share >= config.min_share) & (candidates.stability_ari >= STABLE_ARI)]
    pct = f"{config.min_share:.0%}"
    if eligible.empty:
        best = candidates.loc[candidates.stability_ari.idxmax()]
        return {"method": best.method,
                "en": f"{best.method}: no method keeps every segment at {pct} of customers or more with a stability "
                      f"of {STABLE_ARI} or more; {best.method} is the most stable (adjusted Rand {best.stability_ari:.2f}).",
                "fr": f"{best.method} : aucune méthode ne garde chaque segment à {pct} des clients ou plus avec une "
                      f"stabilité d'au moins {STABLE_ARI} ; {best.method} est la plus stable (Rand ajusté {best.stability_ari:.2f})."}
    top = eligible.silhouette.max()
    close = eligible[eligible.silhouette >= top - 0.01].sort_values(["stability_ari", "fit_seconds"], ascending=[False, True])
    best = close.iloc[0]
    others = eligible[eligible.method != best.method].sort_values("silhouette", ascending=False)
    en = [f"{best.method}: highest silhouette ({best.silhouette:.3f}) among the methods whose segments are stable "
          f"(adjusted Rand {best.stability_ari:.2f} >= {STABLE_ARI}) and hold at least {pct} of customers each"]
    fr = [f"{best.method} : la silhouette la plus élevée ({best.silhouette:.3f}) parmi les méthodes aux segments stables "
          f"(Rand ajusté {best.stability_ari:.2f} >= {STABLE_ARI}) qui regroupent chacun au moins {pct} des clients"]
    if len(close) > 1:
        en.append(f" (within 0.01 of {', '.join(close.method.iloc[1:])}; preferred as more stable, then faster)")
        fr.append(f" (à 0,01 près de {', '.join(close.method.iloc[1:])} ; retenue car plus stable, puis plus rapide)")
    if not others.empty:
        second = others.iloc[0]
        en.append(f"; next: {second.method} ({second.silhouette:.3f})")
        fr.append(f" ; ensuite : {second.method} ({second.silhouette:.3f})")
    excluded = table[~table.method.isin(eligible.method)].method.tolist()
    if excluded:
        en.append(f"; not eligible (unstable or a segment under {pct}): {', '.join(excluded)}")
        fr.append(f" ; non retenues (instables ou un segment sous {pct}) : {', '.join(excluded)}")
    en.append(f"; fit in {best.fit_seconds:.2f} s.")
    fr.append(f" ; ajustée en {best.fit_seconds:.2f} s.")
    return {"method": best.method, "en": "".join(en), "fr": "".join(fr)}


def compare_methods(data, config: RunConfig | None = None, methods=DEFAULT_METHODS, k: int | None = None,
                    n_boot: int = 5, sample_frac: float = 0.8, n_refs: int = 5, categorical: str = "ignore",
                    categorical_weight: float = 1.0, ward_max: int = WARD_MAX, progress=None,
                    **options) -> MethodComparison:
    """Run several methods on the same features at the same k and compare them (module docstring).

    k is `k`, else the config's k, else K-means' choice over the k range. `rfm` needs
    sales lines with dates and is skipped (with a note) on per-customer tables;
    `kprototypes` is added when `categorical="kprototypes"`.
    """
    methods = list(dict.fromkeys(methods))
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise UsageError(f"methods must be among {', '.join(METHODS)}; got {', '.join(unknown) or 'none'}")
    prep = scaled_customers(data, config_from_options(config, options), categorical, categorical_weight)
    with fitting_threads(len(prep.Z)):
        return _compare(prep, methods, k, n_boot, sample_frac, n_refs, categorical_weight, ward_max, progress)


def _compare(prep: ScaledCustomers, methods: list[str], k, n_boot, sample_frac, n_refs, categorical_weight, ward_max,
             progress) -> MethodComparison:
    config, Z = prep.config, prep.Z
    say = progress or (lambda message: None)
    notes: list[str] = []
    if "rfm" in methods and (prep.lines is None or "date" not in prep.lines.columns):
        methods.remove("rfm")
        notes.append("rfm skipped: RFM needs sales lines with dates")
    if prep.categorical is not None:
        methods.append("kprototypes")

    say("k-means over the k range, with stability and gap statistic of each k")
    start = time.perf_counter()
    segmenter = Segmenter(k_range=config.k_range, n_init=config.n_init, random_state=config.seed,
                          min_share=config.min_share, silhouette_exact_max=config.silhouette_exact_max,
                          silhouette_sample_size=config.silhouette_sample_size, k_rule=config.k_rule,
                          n_boot=n_boot, gap_refs=n_refs).fit(Z)
    range_seconds = time.perf_counter() - start
    chosen = k or config.k or segmenter.k_
    reason = segmenter.reason_ if chosen == segmenter.k_ and not (k or config.k) else {
        "en": f"k={chosen} was set by the user (K-means' rule would choose k={segmenter.k_}).",
        "fr": f"k={chosen} a été imposé par l'utilisateur (la règle des K-means choisirait k={segmenter.k_})."}
    ks = segmenter.k_selection_["k"].tolist()
    k_selection = segmenter.k_selection_  # with stability and gap statistic of each k

    rows, labels, dendro = [], {}, None
    for method in methods:
        say(f"{method} at k={chosen}")
        row = {"method": method}
        if method == "rfm":
            row |= _rfm_row(prep, Z, config, n_boot, sample_frac, labels)
            rows.append(row)
            continue
        opts = {"n_init": config.n_init} if method == "kmeans" else {}
        if method == "ward":
            opts = {"ward_max": ward_max}
        X = Z
        if method == "kprototypes":
            codes = prep.categorical.apply(lambda c: pd.Categorical(c).codes).to_numpy(dtype=float)
            n_numeric = Z.shape[1] - sum(prep.categorical[c].nunique() for c in prep.categorical.columns)
            X = np.column_stack([Z[:, :n_numeric], codes])
            opts = {"categorical": tuple(range(n_numeric, X.shape[1])), "gamma": kprototypes_gamma(categorical_weight)}
        start = time.perf_counter()
        model = make_model(method, chosen, config.seed, **opts).fit(X)
        row["fit_seconds"] = time.perf_counter() - start
        labels[method] = model.labels_
        row |= _scores(Z, model.labels_, config)
        refit = (lambda sub, s, m=method, o=opts: make_model(m, chosen, s, **o).fit(sub).labels_)
        row["stability_ari"], row["stability_ari_sd"] = bootstrap_ari(X, model.labels_, refit, n_boot, sample_frac,
                                                                      config.seed)
        row |= _preferred(method, X, Z, ks, config, opts, segmenter)
        if method == "ward":
            dendro = dendrogram_data(model.linkage_, chosen)
        rows.append(row)
    table = pd.DataFrame(rows)
    order = ["method", "k", "silhouette", "calinski_harabasz", "davies_bouldin", "stability_ari", "stability_ari_sd",
             "min_share", "sizes", "fit_seconds", "preferred_k", "preferred_by"]
    table = table[[c for c in order if c in table.columns]]
    table["preferred_k"] = table["preferred_k"].astype("Int64")
    names = list(labels)
    agreement = pd.DataFrame([[adjusted_rand_score(labels[a], labels[b]) for b in names] for a in names],
                             index=names, columns=names)
    label_frame = pd.DataFrame({"customer_id": prep.customers["customer"].astype(str).to_numpy()})
    for name in names:
        label_frame[name] = np.asarray(labels[name]) + 1
    info = {"input": prep.source_name, "n_customers": int(len(Z)), "features": prep.names, "scaling": config.scaling,
            "k": chosen, "k_reason_en": reason["en"], "k_reason_fr": reason["fr"],
            "k_range_seconds": round(range_seconds, 3), "n_boot": n_boot, "sample_frac": sample_frac,
            "gap_choice": next(iter(k_selection.loc[k_selection.gap_choice, "k"].tolist()), None),
            "seed": config.seed, "notes": notes, "cleaning": prep.cleaning}
    return MethodComparison(table, agreement, label_frame, k_selection, _recommend(table, config), dendro, info)


def _preferred(method: str, X, Z, ks, config: RunConfig, opts: dict, segmenter: Segmenter) -> dict:
    """Each method's own choice of k over the range: K-means' rule, Ward's tree cuts, GMM's BIC."""
    if method == "kmeans":
        return {"preferred_k": int(segmenter.k_), "preferred_by": "silhouette rule"}
    if method == "ward":
        path = fit_path("ward", X, ks, config.seed, **opts)
        return {"preferred_k": _preferred_by_silhouette(Z, path, config), "preferred_by": "silhouette rule"}
    if method == "gmm":
        bics = {k: make_model("gmm", k, config.seed).fit(X).bic_ for k in ks}
        return {"preferred_k": int(min(bics, key=bics.get)), "preferred_by": "lowest BIC"}
    return {"preferred_k": np.nan, "preferred_by": ""}


def _rfm_row(prep: ScaledCustomers, Z, config: RunConfig, n_boot: int, sample_frac: float, labels: dict) -> dict:
    rules = load_rfm_rules()
    start = time.perf_counter()
    values = rfm_summary(prep.lines, dtm.date.fromisoformat(prep.cleaning["as_of"]))
    segmented = rfm_segments(rfm_scores(values), rules)
    seconds = time.perf_counter() - start
    by_customer = dict(zip(segmented["customer"], segmented["rfm_segment_id"]))
    raw = np.array([by_customer[c] for c in prep.customers["customer"].astype(str)])
    _, codes = np.unique(raw, return_inverse=True)
    labels["rfm"] = codes
    ari, sd = rfm_bootstrap_ari(values, segmented["rfm_segment_id"].to_numpy(), rules, n_boot=n_boot,
                                sample_frac=sample_frac, seed=config.seed)
    return {"fit_seconds": seconds, **_scores(Z, codes, config), "stability_ari": ari, "stability_ari_sd": sd,
            "preferred_k": np.nan, "preferred_by": "rules table"}
