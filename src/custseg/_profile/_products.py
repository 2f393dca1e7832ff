"""Top products of each segment: revenue, share of the segment's revenue, lift against the whole base."""

from __future__ import annotations

import ibis
import pandas as pd

from .. import _schema as S
from .._prep._features import product_labels, revenue

TOP_N = 5


def top_products(lines: ibis.Table, segments: pd.DataFrame, n: int = TOP_N, labels: ibis.Table | None = None) -> pd.DataFrame:
    """Top `n` products per segment by revenue, with share of the segment's revenue and lift vs the base.

    `lines`: sales lines, or their revenue per (customer, product) (`product_revenue`);
    `segments` has columns `customer` and `segment_id`; `labels`: `product_labels` of the
    lines (made from `lines` when they have labels). A product's label is the largest of its
    labels, the same in every segment.
    """
    columns = ["segment_id", "rank", "product", "label", "revenue", "share", "lift"]
    if "product" not in lines.columns:
        return pd.DataFrame(columns=columns)
    labels = product_labels(lines) if labels is None else labels
    keyed = lines.mutate(_revenue=revenue(lines)).inner_join(ibis.memtable(segments), "customer")
    # one row per (segment, product): a small table, so the join with the segments runs once and the rest in pandas
    per = keyed.group_by([S.SEGMENT_ID, "product"]).aggregate(revenue=keyed._revenue.sum()).to_pandas()
    names = labels.to_pandas().set_index("product")["product_label"] if labels is not None else None
    per["label"] = per["product"].map(names) if names is not None else None
    per["share"] = per["revenue"] / per.groupby(S.SEGMENT_ID)["revenue"].transform("sum")
    per["lift"] = per["share"] / (per.groupby("product", dropna=False)["revenue"].transform("sum") / per["revenue"].sum())
    per = per.sort_values([S.SEGMENT_ID, "revenue", "product"], ascending=[True, False, True], kind="stable")
    per["rank"] = per.groupby(S.SEGMENT_ID).cumcount() + 1
    return per.loc[per["rank"] <= n, columns].reset_index(drop=True)
