"""The settings of a run, validated once, recorded in run.json and model.json."""

from __future__ import annotations

import datetime as dtm
from dataclasses import asdict, dataclass, field

from .._errors import UsageError, check_param
from .._i18n import check_lang
from ._columns import FILL_DOWN_ON_SPARK, ColumnMapping
from ._options import (BUSINESS_MIN_K, DEFAULT_FEATURES, DEFAULT_SEED, DEFAULT_SPARK_WAIT, K_RULE_MIN_SHARE, CleaningRules, ReadOptions, check_engine,
                       check_k_rule, check_memory_limit, check_scaling, parse_labels, parse_spark_conf)


@dataclass(frozen=True)
class RunConfig:
    """Every option of a run. Sales lines need `mapping`; per-customer tables set `customers`."""

    mapping: ColumnMapping | None = None
    customers: bool = False
    id_column: str | None = None
    columns: tuple[str, ...] | None = None
    categorical: str = "ignore"
    features: tuple[str, ...] = DEFAULT_FEATURES
    scaling: str = "rank"
    k: int | None = None
    k_range: tuple[int, int] = (3, 8)
    k_rule: str = "vote"  # or "silhouette", the previous rule (docs/methods.md)
    n_init: int = 10
    seed: int = DEFAULT_SEED
    min_share: float | None = None  # the rule's default: 0.05 for the vote, 0.02 for the silhouette
    business_min_k: int = BUSINESS_MIN_K  # fewest segments advised (--business-min-k): no k under it is chosen
    as_of: dtm.date | None = None
    read: ReadOptions = field(default_factory=ReadOptions)
    cleaning: CleaningRules = field(default_factory=CleaningRules)
    lang: str = "en"
    rules_file: str | None = None
    silhouette_exact_max: int = 20_000
    silhouette_sample_size: int = 5_000
    max_memory: str | None = None  # DuckDB memory_limit, e.g. "2GB" (docs/errors.md)
    temp_directory: str | None = None  # where DuckDB spills when over max_memory
    k_sample_size: int | None = 100_000  # above this many customers, K-means chooses k on a seeded sample (None: never)
    algorithm: str = "kmeans"  # or ward, gmm, minibatch (docs/methods.md)
    n_boot: int | None = None  # subsamples per k for the stability column (default 5 for the vote, else 0: not computed)
    gap_refs: int | None = None  # reference data sets per k for the gap statistic (default as n_boot)
    categorical_weight: float = 1.0  # model units of a one-hot indicator (--categorical onehot)
    engine: str = "duckdb"  # or "spark" (docs/performance.md)
    spark_master: str | None = None  # None: the session's (spark-submit, spark-defaults.conf), else DEFAULT_SPARK_MASTER
    spark_wait: float = DEFAULT_SPARK_WAIT  # seconds without a reachable master or any executor before the run stops
    spark_conf: tuple[tuple[str, str], ...] = ()
    salesforce_ids: bool = False  # customer ids are Salesforce ids (15 -> 18 characters); on with the salesforce-cpq preset
    labels: tuple[tuple[str, str, str], ...] = ()  # (column, English, French) words for names ([labels] in custseg.toml)
    rates: str | None = None  # conversion rates to the corporate currency, a CSV file (--rates; `_prep._rates`)

    def __post_init__(self) -> None:
        check_lang(self.lang)
        if self.engine == "spark" and self.algorithm != "kmeans":
            raise UsageError(f"--engine spark runs K-means only; got --algorithm {self.algorithm}")
        if self.engine == "spark" and self.mapping is not None and self.mapping.fill_down:
            raise UsageError(FILL_DOWN_ON_SPARK)
        if not self.categorical_weight > 0:
            raise UsageError(f"categorical weight must be > 0; got {self.categorical_weight!r}")
        check_scaling(self.scaling)
        check_k_rule(self.k_rule)
        if self.min_share is None:
            object.__setattr__(self, "min_share", K_RULE_MIN_SHARE[self.k_rule])
        if self.k is not None:  # the Segmenter checks them too; here before any data is read, in the option's name
            check_param("Segmenter", "k", self.k, int, 2)
        check_param("Segmenter", "seed", self.seed, int, 0, 2**32 - 1)
        if not isinstance(self.business_min_k, int) or isinstance(self.business_min_k, bool) or self.business_min_k < 1:
            raise UsageError(f"--business-min-k must be a whole number of segments >= 1; got {self.business_min_k!r}")
        check_engine(self.engine)
        if self.engine != "spark" and self.read.input_format:
            raise UsageError("--input-format names the format of a cluster input's parts (--engine spark); the duckdb "
                             "engine reads the format from the file names")
        if not (isinstance(self.spark_wait, int | float) and not isinstance(self.spark_wait, bool) and self.spark_wait > 0):
            raise UsageError(f"--spark-wait must be a number of seconds > 0; got {self.spark_wait!r}")
        object.__setattr__(self, "spark_conf", parse_spark_conf(self.spark_conf))
        object.__setattr__(self, "labels", parse_labels(self.labels))
        if self.max_memory is not None:
            check_memory_limit(self.max_memory)
        if self.rates is not None:
            object.__setattr__(self, "rates", str(self.rates))
            if self.customers:
                raise UsageError("--rates converts the amounts of sales lines; a per-customer table (--customers) has none")
        if not self.customers and self.mapping is None:
            raise UsageError("sales lines need a column mapping: give --preset, a [columns] table in custseg.toml, "
                             "or --customer/--quantity/--price...; for one row per customer use --customers")

    @property
    def line_mapping(self) -> ColumnMapping:
        """The mapping of sales lines, with `salesforce_ids` switched on when the run asks for it."""
        return self.mapping.with_overrides(salesforce_ids=True) if self.salesforce_ids else self.mapping

    def label_table(self) -> dict:
        """{column: {"en", "fr"}} of the labels."""
        return {column: {"en": en, "fr": fr} for column, en, fr in self.labels}

    def to_dict(self) -> dict:
        """JSON-ready copy (dates as ISO text)."""
        out = asdict(self)
        out["mapping"] = self.mapping.to_dict() if self.mapping else None
        out["as_of"] = self.as_of.isoformat() if self.as_of else None
        return out
