"""The pipeline: read -> clean -> features -> scale -> cluster -> profile, timed stage by stage."""

from __future__ import annotations

import datetime as dtm
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import ibis
import numpy as np
import pandas as pd

from .. import _schema as S
from .._prep._clean import clean_lines
from .._cluster._segmenter import Segmenter, check_enough_customers
from .._config._run import RunConfig
from .._prep._customers import customer_table
from .._engines._connect import connect, engine_record, open_input, segmenter_class
from .._engines._limits import engine_errors
from .._prep._features import (REVENUE_FEATURE, TOP_PRODUCT, check_features, check_finite, customer_features, default_as_of,
                               product_revenue)
from ._model import model_document
from .._profile import load_rules, segment_profiles, top_products
from .._engines._read import Source
from .._result import SegmentationResult
from .._cluster._scale import Scaler
from .._prep._parse import typed_lines

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


class _Timer:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str):
        start = time.perf_counter()
        yield
        self.timings[name] = round(time.perf_counter() - start, 4)


def _line_features(source: Source, config: RunConfig, timer: _Timer, extras: dict | None = None):
    mapping = config.line_mapping
    with timer.stage("clean"):
        lines, notes = typed_lines(source.table, mapping, source.name, config.read.decimal, source.delimiter)
        if source.kind in ("csv", "xlsx"):  # text parsed again by every query (a CSV view: the file too): type once
            lines = lines.cache()
        facts: dict = {}
        kept, cleaning = clean_lines(lines, mapping, source.name, config.cleaning, facts)
        cleaning |= notes | {"file": source.notes}
    names = check_features(list(config.features), list(kept.columns))
    with timer.stage("features"):
        last = cleaning.get("date_max")  # the kept lines' last date (what default_as_of would query)
        as_of = config.as_of or (dtm.date.fromisoformat(last) + dtm.timedelta(days=1) if last else default_as_of(kept))
        # per (customer, product) revenue, computed once for the top product here and the
        # segments' top products later; held in memory (fewer rows than the lines)
        per_product = product_revenue(kept).cache() if "product" in kept.columns else None
        customers = customer_features(kept, names, as_of, facts["order_unique"], per_product)
    cleaning["as_of"] = as_of.isoformat() if as_of else None
    if extras is not None:
        extras["product_lines"] = per_product
    return kept, customers, names, cleaning


def _table_features(source: Source, config: RunConfig, timer: _Timer, imputation: dict | None = None):
    with timer.stage("features"):
        customers, names, notes = customer_table(source.table, source.name, config.id_column,
                                                 list(config.columns) if config.columns else None,
                                                 config.categorical, config.read.decimal, imputation, source.delimiter,
                                                 config.salesforce_ids)
    cleaning = {"rows_in": len(customers), "rows_out": len(customers), "dropped": {}, "customers_in": len(customers),
                "customers_kept": len(customers), "date_min": None, "date_max": None, "preparation": notes,
                "number_formats": notes["number_formats"], "file": source.notes}
    if "salesforce_ids" in notes:
        cleaning["salesforce_ids"] = notes["salesforce_ids"]
    return None, customers, names, cleaning


@dataclass
class Prepared:
    """A read, cleaned input with one row of features per customer (sorted by customer id)."""

    source: Source
    lines: ibis.Table | None
    customers: pd.DataFrame
    names: list[str]
    cleaning: dict
    timer: _Timer
    product_lines: ibis.Table | None = None  # revenue per (customer, product): enough for the top products

    @property
    def X(self) -> np.ndarray:
        return self.customers[self.names].to_numpy(dtype=float)

    @property
    def ids(self) -> np.ndarray:
        return self.customers["customer"].astype(str).to_numpy()

    @property
    def revenue_feature(self) -> str | None:
        return REVENUE_FEATURE if REVENUE_FEATURE in self.customers.columns else None


@engine_errors
def prepare(data, config: RunConfig, imputation: dict | None = None) -> Prepared:
    """Read, type, clean and compute the per-customer features of `data`."""
    timer = _Timer()
    con = connect(config)
    mapping = config.mapping
    with timer.stage("read"):
        source = open_input(data, con, config, list(mapping.roles().values()) if mapping and not config.customers else None)
    extras: dict = {}
    if config.customers:
        lines, customers, names, cleaning = _table_features(source, config, timer, imputation)
    else:
        lines, customers, names, cleaning = _line_features(source, config, timer, extras)
    check_enough_customers(len(customers))
    check_finite(customers, names, source.name)
    return Prepared(source, lines, customers, names, cleaning, timer, extras.get("product_lines"))


def config_from_options(config: RunConfig | None, options: dict) -> RunConfig:
    """A RunConfig from keyword options (`preset=` names a column preset)."""
    from .._config._columns import preset

    if "preset" in options:
        options["mapping"] = preset(options.pop("preset"))
    for key in ("features", "columns"):
        if isinstance(options.get(key), list):
            options[key] = tuple(options[key])
    return config or RunConfig(**options)


def segmenter_for(config: RunConfig) -> Segmenter:
    """The unfitted segmenter a config describes."""
    kind, options = segmenter_class(config)
    if config.engine != "spark":
        options |= {"algorithm": config.algorithm, "n_boot": config.n_boot, "gap_refs": config.gap_refs}
    return kind(k=config.k, k_range=config.k_range, n_init=config.n_init, seed=config.seed,
                min_share=config.min_share, silhouette_exact_max=config.silhouette_exact_max,
                silhouette_sample_size=config.silhouette_sample_size, **options)


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
    """Segment customers from a file path, a pandas DataFrame or an ibis table.

    Options are `RunConfig` fields (or pass a `RunConfig`); `preset="salesforce-cpq"`
    is a shortcut for its column mapping.

    >>> result = segment("sales.xlsx", preset="salesforce-cpq")  # doctest: +SKIP
    >>> result.profiles[["segment_id", "name_en", "size"]]         # doctest: +SKIP
    """
    config = config_from_options(config, options)
    prepared = prepare(data, config)
    scaler, Z, segmenter = fit_model(prepared, config, progress)
    k_info = {"chosen": segmenter.k_, "reason_en": segmenter.reason_["en"], "reason_fr": segmenter.reason_["fr"],
              "rule": "given" if config.k else _rule_text(config), "knee": segmenter.knee_}
    extra_run = {"engine": engine_record(config), "algorithm": config.algorithm}
    if config.algorithm == "ward":
        from ._compare import dendrogram_data

        extra_run["dendrogram"] = dendrogram_data(segmenter.model_.linkage_, segmenter.k_)
    return build_result(prepared, config, scaler, Z, segmenter.labels_, segmenter.cluster_centers_,
                        list(range(1, segmenter.k_ + 1)), None, segmenter.k_selection_, segmenter.silhouette_samples_,
                        k_info, mode="run", extra_run=extra_run)


def _rule_text(config: RunConfig) -> str:
    criterion = "lowest BIC" if config.algorithm == "gmm" else "highest silhouette"
    return f"{criterion} with min segment share >= {config.min_share}"


def _segment_order(labels: np.ndarray, revenue: np.ndarray | None) -> np.ndarray:
    """Old labels sorted so that segment 1 has the most revenue (or customers), ties by label."""
    k = labels.max() + 1
    weight = np.bincount(labels, weights=revenue, minlength=k) if revenue is not None else np.bincount(labels, minlength=k)
    return np.lexsort((np.arange(k), -weight))


def build_result(prepared: Prepared, config: RunConfig, scaler: Scaler, Z: np.ndarray, labels: np.ndarray,
                 centers: np.ndarray, segment_ids: list[int], texts: list[dict | None] | None,
                 k_selection: pd.DataFrame, silhouette_samples: np.ndarray, k_info: dict, mode: str,
                 extra_columns: dict | None = None, extra_run: dict | None = None) -> SegmentationResult:
    """Profiles, assignments, top products, run record and model, from fitted pieces."""
    timer, customers, names = prepared.timer, prepared.customers, prepared.names
    with timer.stage("profile"):
        profiles, segment_texts = segment_profiles(customers, labels, centers, names, load_rules(config.rules_file),
                                                   prepared.revenue_feature, segment_ids, texts)
        ids = np.asarray(segment_ids)
        frame = pd.DataFrame({S.CUSTOMER_ID: prepared.ids, S.SEGMENT_ID: ids[labels]})
        frame[S.SEGMENT_NAME] = profiles[f"name_{config.lang}"].to_numpy()[labels]
        for name in names:
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
            products = top_products(prepared.lines if prepared.product_lines is None else prepared.product_lines, keyed)
        else:
            products = pd.DataFrame(columns=["segment_id", "rank", "product", "label", "revenue", "share", "lift"])
    source, cleaning = prepared.source, prepared.cleaning
    run = {
        "custseg_version": package_versions()["custseg"],
        "created": dtm.datetime.now(dtm.timezone.utc).isoformat(timespec="seconds"),
        "mode": mode,
        "input": {"path": str(source.path) if source.path else source.name, "name": Path(source.name).name,
                  "sha256": source.sha256, "kind": source.kind, "rows": cleaning["rows_in"]},
        "config": config.to_dict(),
        "seed": config.seed,
        "versions": package_versions(),
        "timings": timer.timings,
        "k": k_info,
        "features": names,
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
        seed=config.seed, config=run["config"], preparation=cleaning.get("preparation"),
    )
    return SegmentationResult(assignments=frame, profiles=profiles, k_selection=k_selection,
                              top_products=products, cleaning=cleaning, run=run, model=model)
