"""Top products of each segment: revenue, share of the segment's revenue, lift against the whole base."""

from __future__ import annotations

import ibis
import pandas as pd

from .. import _schema as S
from .._prep._features import product_labels, revenue

TOP_N = 5
REVENUE_COLUMNS = [S.SEGMENT_ID, "product", "label", "revenue"]
TOP_COLUMNS = [S.SEGMENT_ID, "rank", "product", "label", "revenue", "share", "lift"]


def segment_product_revenue(lines: ibis.Table, segments: pd.DataFrame, labels: ibis.Table | None = None) -> pd.DataFrame:
    """Revenue of every product in every segment (`REVENUE_COLUMNS`): what `rank_products` ranks, and what a
    merge of segments adds up.

    `lines`: sales lines, or their revenue per (customer, product) (`product_revenue`);
    `segments` has columns `customer` and `segment_id`; `labels`: `product_labels` of the
    lines (made from `lines` when they have labels). A product's label is the largest of its
    labels, the same in every segment.
    """
    if "product" not in lines.columns:
        return pd.DataFrame(columns=REVENUE_COLUMNS)
    labels = product_labels(lines) if labels is None else labels
    keyed = lines.mutate(_revenue=revenue(lines)).inner_join(ibis.memtable(segments), "customer")
    # one row per (segment, product): a small table, so the join with the segments runs once and the rest in pandas
    per = keyed.group_by([S.SEGMENT_ID, "product"]).aggregate(revenue=keyed._revenue.sum()).to_pandas()
    names = labels.to_pandas().set_index("product")["product_label"] if labels is not None else None
    per["label"] = per["product"].map(names) if names is not None else None
    return per[REVENUE_COLUMNS].sort_values([S.SEGMENT_ID, "product"], kind="stable").reset_index(drop=True)


def rank_products(per: pd.DataFrame, n: int = TOP_N) -> pd.DataFrame:
    """Top `n` products per segment by revenue, with share of the segment's revenue and lift vs the base.

    >>> per = pd.DataFrame({"segment_id": [1, 1, 2], "product": ["x", "y", "x"], "label": None, "revenue": [30.0, 10.0, 20.0]})
    >>> rank_products(per)[["segment_id", "rank", "product", "share"]].values.tolist()
    [[1, 1, 'x', 0.75], [1, 2, 'y', 0.25], [2, 1, 'x', 1.0]]
    """
    if per.empty:
        return pd.DataFrame(columns=TOP_COLUMNS)
    per = per.copy()
    per["share"] = per["revenue"] / per.groupby(S.SEGMENT_ID)["revenue"].transform("sum")
    per["lift"] = per["share"] / (per.groupby("product", dropna=False)["revenue"].transform("sum") / per["revenue"].sum())
    per = per.sort_values([S.SEGMENT_ID, "revenue", "product"], ascending=[True, False, True], kind="stable")
    per["rank"] = per.groupby(S.SEGMENT_ID).cumcount() + 1
    return per.loc[per["rank"] <= n, TOP_COLUMNS].reset_index(drop=True)


def top_products(lines: ibis.Table, segments: pd.DataFrame, n: int = TOP_N, labels: ibis.Table | None = None) -> pd.DataFrame:
    """Top `n` products per segment by revenue, with share of the segment's revenue and lift vs the base
    (`rank_products` of `segment_product_revenue`)."""
    return rank_products(segment_product_revenue(lines, segments, labels), n)
