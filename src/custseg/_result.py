"""The result of a segmentation run, in memory or loaded back from a run directory."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import _schema as S
from ._atomic import restore_frame
from ._errors import DataError
from ._i18n import format_number, format_percent

# The report's words for what the summary shows (a test keeps them equal to _report/_texts.py).
SUMMARY_LABELS = {
    "en": {"segment": "Segment", "name": "Name", "customers": "Customers", "customer_share": "Share of customers",
           "revenue_share": "Share of revenue", "period_customers": "{customers} customers, {period}",
           "no_dates": "no dates in this data"},
    "fr": {"segment": "Segment", "name": "Nom", "customers": "Clients", "customer_share": "Part des clients",
           "revenue_share": "Part du chiffre d'affaires", "period_customers": "{customers} clients, {period}",
           "no_dates": "pas de dates dans ces données"},
}
SUMMARY_COLUMNS = ("segment", "name", "customers", "customer_share", "revenue_share")
NUMERIC_STYLE = ' style="text-align:right"'


def segment_texts(profiles: pd.DataFrame, column: str, lang: str) -> list[str]:
    """name/description/action in `lang`, falling back to English when a cell is empty."""
    own, english = f"{column}_{lang}", f"{column}_en"
    values = profiles[own] if own in profiles.columns else profiles[english]
    return [str(v) if isinstance(v, str) and v else str(profiles[english].iloc[i] if english in profiles else "")
            for i, v in enumerate(values)]


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

    def summary(self) -> dict:
        """What a notebook shows of the run, as texts in the run's language, numbers formatted as the report does:
        the input, the customers and the period, k and the reason for it, and one row per segment (id,
        name, customers, share of customers, share of revenue).

        >>> SegmentationResult.load("out/").summary()["rows"][0]  # doctest: +SKIP
        ['1', 'Key accounts', '1,234', '15.9%', '61.2%']
        """
        lang = self.run.get("lang", "en")
        labels = SUMMARY_LABELS[lang]
        profiles = restore_frame(self.profiles).sort_values(S.SEGMENT_ID).reset_index(drop=True)
        names = segment_texts(profiles, "name", lang)
        has_revenue = "revenue_share" in profiles.columns and profiles["revenue_share"].notna().any()
        rows = [[str(int(row[S.SEGMENT_ID])), names[i], format_number(row["size"], lang),
                 format_percent(row["customer_share"], lang),
                 format_percent(row["revenue_share"], lang) if has_revenue else "–"]
                for i, row in enumerate(profiles.to_dict("records"))]
        date_min, date_max = self.run.get("date_min"), self.run.get("date_max")
        period = f"{date_min} → {date_max}" if date_min and date_max else labels["no_dates"]
        source = self.run.get("input", {})
        k_info = self.run["k"]
        return {"input": source.get("name") or source.get("path", ""),
                "customers": labels["period_customers"].format(customers=format_number(len(self.assignments), lang),
                                                               period=period),
                "k": f"k = {self.k}", "reason": k_info.get(f"reason_{lang}") or k_info.get("reason_en", ""),
                "columns": [labels[c] for c in SUMMARY_COLUMNS], "rows": rows}

    def __repr__(self) -> str:
        """The summary as text: a heading line, k and its reason, the segments in aligned columns."""
        summary = self.summary()
        table = [summary["columns"], *summary["rows"]]
        widths = [max(len(row[j]) for row in table) for j in range(len(SUMMARY_COLUMNS))]
        lines = ["  ".join(cell.ljust(width) if j == 1 else cell.rjust(width)
                           for j, (cell, width) in enumerate(zip(row, widths))).rstrip() for row in table]
        return "\n".join([f"SegmentationResult: {summary['input']} · {summary['customers']}",
                          f"{summary['k']}: {summary['reason']}", *lines])

    def _repr_html_(self) -> str:
        """The summary as HTML for Jupyter; every text is escaped."""
        summary = self.summary()
        text = {key: html.escape(value) for key, value in summary.items() if isinstance(value, str)}

        def cells(tag: str, row: list[str]) -> str:
            return "".join(f"<{tag}{'' if j == 1 else NUMERIC_STYLE}>{html.escape(cell)}</{tag}>" for j, cell in enumerate(row))

        body = "".join(f"<tr>{cells('td', row)}</tr>" for row in summary["rows"])
        return (f'<div class="custseg-result"><p><strong>{text["input"]}</strong> · {text["customers"]}</p>'
                f'<p><strong>{text["k"]}</strong>: {text["reason"]}</p>'
                f'<table><thead><tr>{cells("th", summary["columns"])}</tr></thead><tbody>{body}</tbody></table></div>')

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
