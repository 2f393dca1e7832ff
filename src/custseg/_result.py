"""The result of a segmentation run, in memory or loaded back from a run directory."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import _schema as S
from ._errors import DataError


@dataclass
class SegmentationResult:
    """Everything a run produced; see docs/outputs.md for each table's columns.

    >>> result = SegmentationResult.load("out/")          # doctest: +SKIP
    >>> result.profiles[["segment_id", "name_en", "size"]]  # doctest: +SKIP
    """

    assignments: pd.DataFrame
    profiles: pd.DataFrame
    k_selection: pd.DataFrame
    top_products: pd.DataFrame
    cleaning: dict
    run: dict
    model: dict
    directory: Path | None = field(default=None)
    product_revenue: pd.DataFrame | None = field(default=None)  # every product's revenue per segment (merges re-rank it)

    @property
    def features(self) -> list[str]:
        """Names of the features the segments were built on."""
        return list(self.run["features"])

    @property
    def k(self) -> int:
        """Number of segments chosen."""
        return int(self.run["k"]["chosen"])

    @classmethod
    def load(cls, directory: str | Path) -> "SegmentationResult":
        """Read a finished run directory written by `custseg run`."""
        directory = Path(directory)
        missing = [
            name
            for name in (S.ASSIGNMENTS_PARQUET, S.PROFILES_CSV, S.K_SELECTION_CSV, S.RUN_JSON, S.MODEL_JSON)
            if not (directory / name).is_file()
        ]
        if missing:
            raise DataError(f"{directory}: not a finished custseg run (missing {', '.join(missing)})")

        def read_json(name: str) -> dict:
            path = directory / name
            return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}

        top_path = directory / S.TOP_PRODUCTS_CSV
        revenue_path = directory / S.PRODUCT_REVENUE_PARQUET
        return cls(
            assignments=pd.read_parquet(directory / S.ASSIGNMENTS_PARQUET),
            profiles=pd.read_csv(directory / S.PROFILES_CSV, keep_default_na=False, na_values=[""]),
            k_selection=pd.read_csv(directory / S.K_SELECTION_CSV),
            top_products=pd.read_csv(top_path, dtype={"product": str, "label": str}) if top_path.is_file() else pd.DataFrame(),
            cleaning=read_json(S.CLEANING_JSON),
            run=read_json(S.RUN_JSON),
            model=read_json(S.MODEL_JSON),
            directory=directory,
            product_revenue=pd.read_parquet(revenue_path) if revenue_path.is_file() else None,
        )


@dataclass
class RFMResult:
    """RFM segments (`custseg.rfm`): one row per customer (values, R/F/M scores, segment), one row per
    segment of the rules table, the cleaning counts, and what was run (input, as_of, bins, cuts, rules)."""

    customers: pd.DataFrame
    segments: pd.DataFrame
    cleaning: dict
    info: dict
