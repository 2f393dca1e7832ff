"""segment(): prepare -> scale -> cluster -> profile, timed stage by stage, into a SegmentationResult."""

from __future__ import annotations

import datetime as dtm
from collections.abc import Callable
from importlib import metadata

import numpy as np
import pandas as pd

from .. import _schema as S
from .._cluster import Scaler, Segmenter
from .._cluster._algorithms import dendrogram_data
from .._cluster._jaccard import stability_words
from .._cluster._metrics import segment_means
from .._cluster._spark_kmeans import SparkSegmenter
from .._config import RunConfig, config_from_options
from .._profile import separation
from .._engines import engine_failures, engine_record, input_name
from .._prep._features import TOP_PRODUCT
from .._prep._prepare import Prepared, prepare
from .._profile import load_rules, rank_products, segment_product_revenue, segment_profiles
from .._profile._products import REVENUE_COLUMNS
from .._result import SegmentationResult
from ._model import model_document

Progress = Callable[[str, int, int], None]
RECORDED_PACKAGES = ("custseg", "numpy", "pandas", "scikit-learn", "ibis-framework", "duckdb", "pyarrow", "fastexcel", "plotly")


def package_versions() -> dict[str, str]:
    """Versions of the packages that shape the results."""
    versions = {}
    for name in RECORDED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def segmenter_for(config: RunConfig) -> Segmenter:
    """The unfitted segmenter a config describes (Spark ML's K-means on the Spark engine)."""
    common = {"n_clusters": config.k, "k_range": config.k_range, "n_init": config.n_init, "random_state": config.seed,
              "min_share": config.min_share, "silhouette_exact_max": config.silhouette_exact_max,
              "silhouette_sample_size": config.silhouette_sample_size, "k_rule": config.k_rule,
              "business_min_k": config.business_min_k}
    if config.engine == "spark":
        return SparkSegmenter(**common, k_sample_size=None)  # k on all customers: Spark scales out instead
    return Segmenter(**common, algorithm=config.algorithm, n_boot=config.n_boot, gap_refs=config.gap_refs,
                     k_sample_size=config.k_sample_size)


def k_record(segmenter: Segmenter) -> dict:
    """What run.json says about the choice of k (and, when k was chosen on a sample of customers, that sample)."""
    record = {"chosen": segmenter.k_, "reason_en": segmenter.reason_["en"], "reason_fr": segmenter.reason_["fr"],
              "rule": segmenter.rule_, "knee": segmenter.knee_, "hopkins": segmenter.hopkins_,
              "warnings_en": [w["en"] for w in segmenter.warnings_], "warnings_fr": [w["fr"] for w in segmenter.warnings_]}
    if segmenter.k_sample_:
        record["sample"] = segmenter.k_sample_
    if getattr(segmenter, "structure_", None):
        record["structure"] = segmenter.structure_
    if getattr(segmenter, "segment_stability_", None) is not None:
        record["segment_stability"] = {"method": "mean best-match Jaccard over bootstrap resamples (fpc's clusterboot)",
                                       **segmenter.jaccard_record_,
                                       "jaccard": [round(float(j), 4) for j in segmenter.segment_stability_]}
    return record


def fit_model(prepared: Prepared, config: RunConfig, progress: Progress | None = None) -> tuple[Scaler, np.ndarray, Segmenter]:
    """Scale, then fit the segmenter; segments renumbered so 1 has the most revenue (or customers)."""
    timer = prepared.timer
    one_hot = {c for cols in (prepared.cleaning.get("preparation") or {}).get("one_hot", {}).values() for c in cols}
    indicators = tuple(j for j, name in enumerate(prepared.names) if name in one_hot)
    with timer.stage("scale"):
        scaler = Scaler(config.scaling, indicators, config.categorical_weight)
        Z = scaler.fit_transform(prepared.X, prepared.ids)
    with timer.stage("cluster"):
        segmenter = segmenter_for(config).fit(Z, progress=progress)
    revenue = prepared.customers[prepared.revenue_feature].to_numpy() if prepared.revenue_feature else None
    segmenter.relabel(_segment_order(segmenter.labels_, revenue))
    return scaler, Z, segmenter


def segment(data, config: RunConfig | None = None, progress: Progress | None = None, **options) -> SegmentationResult:
    """Segment customers from a file path (or several: a list, a glob pattern, a folder), a pandas DataFrame or an ibis table.

    Options are `RunConfig` fields (or pass a `RunConfig`); `preset="salesforce-cpq"`
    is a shortcut for its column mapping.

    >>> result = segment("sales.xlsx", preset="salesforce-cpq")  # doctest: +SKIP
    >>> result.profiles[["segment_id", "name_en", "size"]]         # doctest: +SKIP
    """
    config = config_from_options(config, options)
    with engine_failures(config, input_name(data)):
        prepared = prepare(data, config)
        scaler, Z, segmenter = fit_model(prepared, config, progress)
        extra_run = {"engine": engine_record(config), "algorithm": config.algorithm}
    if config.algorithm == "ward":
        extra_run["dendrogram"] = dendrogram_data(segmenter.model_.linkage_, segmenter.k_)
    return build_result(prepared, config, scaler, Z, segmenter.labels_, segmenter.cluster_centers_,
                        list(range(1, segmenter.k_ + 1)), None, segmenter.k_selection_, segmenter.silhouette_samples_,
                        k_record(segmenter), mode="run", extra_run=extra_run, stability=segmenter.segment_stability_)


def _segment_order(labels: np.ndarray, revenue: np.ndarray | None) -> np.ndarray:
    """Old labels sorted so that segment 1 has the most revenue (or customers), ties by label."""
    k = labels.max() + 1
    weight = np.bincount(labels, weights=revenue, minlength=k) if revenue is not None else np.bincount(labels, minlength=k)
    return np.lexsort((np.arange(k), -weight))


def add_stability(profiles: pd.DataFrame, stability) -> None:
    """Each segment's bootstrap Jaccard and its word in `profiles` (rows in the same order; NaN: not measured)."""
    profiles["stability_jaccard"] = np.asarray(stability, dtype=float)
    for lang in S.LANGUAGES:
        profiles[f"stability_{lang}"] = [stability_words(j, lang) for j in profiles["stability_jaccard"]]


def build_result(prepared: Prepared, config: RunConfig, scaler: Scaler, Z: np.ndarray, labels: np.ndarray,
                 centers: np.ndarray, segment_ids: list[int], texts: list[dict | None] | None,
                 k_selection: pd.DataFrame, silhouette_samples: np.ndarray, k_info: dict, mode: str,
                 extra_columns: dict | None = None, extra_run: dict | None = None,
                 assignment: dict | None = None, stability: np.ndarray | None = None) -> SegmentationResult:
    """Profiles, assignments, top products, run record and model, from fitted pieces (`assignment`: model.json's
    fitted centroids of merged segments; `stability`: each segment's bootstrap Jaccard, NaN for a segment not measured, None when none was).

    The profiles' centres (z columns) and paragons are measured from the segment means of `Z`, not the
    model's `centers` (equal at convergence, up to K-means' tolerance), as FactoMineR's HCPC does."""
    timer, customers, names = prepared.timer, prepared.customers, prepared.names
    with timer.stage("profile"):
        profiles, segment_texts = segment_profiles(customers, labels, segment_means(Z, labels, centers), names,
                                                   load_rules(config.rules_file), prepared.revenue_feature, segment_ids,
                                                   texts, prepared.supplementary, config.label_table(), Z, prepared.ids)
        if stability is not None:
            add_stability(profiles, stability)
        ids = np.asarray(segment_ids)
        frame = pd.DataFrame({S.CUSTOMER_ID: prepared.ids, S.SEGMENT_ID: ids[labels]})
        frame[S.SEGMENT_NAME] = profiles[f"name_{config.lang}"].to_numpy()[labels]
        revenue = [prepared.revenue_feature] if prepared.revenue_feature else []  # summed when a review merges segments
        for name in dict.fromkeys((*names, *prepared.supplementary, *revenue)):
            frame[name] = customers[name].to_numpy()
        if TOP_PRODUCT in customers.columns:
            frame[TOP_PRODUCT] = customers[TOP_PRODUCT].to_numpy()
        for j, name in enumerate(names):
            frame[S.z_column(name)] = Z[:, j]
        frame[S.DISTANCE] = np.sqrt(((Z - centers[labels]) ** 2).sum(axis=1))
        frame[S.SILHOUETTE] = silhouette_samples
        for column, values in (extra_columns or {}).items():
            frame[column] = values
        if prepared.lines is not None:
            keyed = frame[[S.CUSTOMER_ID, S.SEGMENT_ID]].rename(columns={S.CUSTOMER_ID: "customer"})
            per_product = segment_product_revenue(prepared.lines if prepared.product_lines is None else prepared.product_lines,
                                                  keyed, labels=prepared.labels)
        else:
            per_product = pd.DataFrame(columns=REVENUE_COLUMNS)
        products = rank_products(per_product)
    source, cleaning = prepared.source, prepared.cleaning
    run = {
        "custseg_version": package_versions()["custseg"],
        "created": dtm.datetime.now(dtm.timezone.utc).isoformat(timespec="seconds"),
        "mode": mode,
        "input": {"path": str(source.path) if source.path else source.name, "name": source.title,
                  "sha256": source.sha256, "kind": source.kind, "rows": cleaning["rows_in"], "files": cleaning.get("files", [])},
        "config": config.to_dict(),
        "seed": config.seed,
        "versions": package_versions(),
        "timings": timer.timings,
        "k": k_info,
        "features": names,
        "supplementary": prepared.supplementary,
        "separation": dict(zip(names, separation(Z, labels).tolist())),
        "scaling": config.scaling,
        "lang": config.lang,
        "n_customers": int(len(frame)),
        "date_min": cleaning.get("date_min"),
        "date_max": cleaning.get("date_max"),
        **(extra_run or {}),
    }
    model = model_document(
        features=names, scaler=scaler.to_dict(), centers=centers, segment_ids=segment_ids, texts=segment_texts,
        columns=config.mapping.to_dict() if config.mapping and not config.customers else None,
        mode="customers" if config.customers else "lines", cleaning_rules=config.cleaning.to_dict(),
        training={"sha256": source.sha256, "input": run["input"]["name"], "date_min": cleaning.get("date_min"),
                  "date_max": cleaning.get("date_max"), "n_customers": int(len(frame))},
        seed=config.seed, config=run["config"], preparation=cleaning.get("preparation"), assignment=assignment,
    )
    return SegmentationResult(assignments=frame, profiles=profiles, k_selection=k_selection,
                              top_products=products, cleaning=cleaning, run=run, model=model, product_revenue=per_product)
