"""Who moved where between two runs: from -> to matrices in customers and revenue."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .. import _schema as S
from .._prep._features import REVENUE_FEATURE
from .._result import SegmentationResult

NEW = "new customer"
LOST = "lost customer"
MIN_SHARED_SHARE = 0.10  # below this share of shared customers, two periods' ids are probably written differently


def customer_overlap(earlier_ids, later_ids) -> dict:
    """How many customers two periods share; a `warning` when it is under 10% of the smaller period.

    >>> customer_overlap(["1", "2"], ["2", "3"])["shared"]
    1
    """
    earlier, later = set(map(str, earlier_ids)), set(map(str, later_ids))
    shared = len(earlier & later)
    smaller = min(len(earlier), len(later)) or 1
    overlap = {"shared": shared, "earlier": len(earlier), "later": len(later), "shared_share": shared / smaller,
               "warning": None}
    if shared / smaller < MIN_SHARED_SHARE:
        overlap["warning"] = (f"only {shared:,} of {smaller:,} customers ({shared / smaller:.0%}) appear in both periods; "
                              "are the customer ids written the same way in both files (e.g. 10001 and 10001.0, or "
                              "15- and 18-character Salesforce ids)?")
    return overlap


@dataclass
class Migration:
    """Matrices indexed by the earlier segment (plus `NEW`) and the later one (plus `LOST`)."""

    counts: pd.DataFrame
    revenue: pd.DataFrame | None
    movers: pd.DataFrame
    summary: dict


def _labelled(result: SegmentationResult, lang: str) -> pd.DataFrame:
    frame = result.assignments[[S.CUSTOMER_ID, S.SEGMENT_ID]].copy()
    names = dict(zip(result.profiles[S.SEGMENT_ID], result.profiles[f"name_{lang}"]))
    frame["label"] = [f"{i} · {names[i]}" for i in frame[S.SEGMENT_ID]]
    if REVENUE_FEATURE in result.assignments.columns:
        frame["revenue"] = result.assignments[REVENUE_FEATURE].to_numpy()
    return frame.set_index(S.CUSTOMER_ID)


def migration(earlier: SegmentationResult, later: SegmentationResult, lang: str = "en") -> Migration:
    """Compare two runs (or a run and a scoring) customer by customer.

    Revenue is the later period's for customers in the later run, and the earlier
    period's for lost customers, so the revenue matrix adds up to later revenue plus
    revenue lost.
    """
    a, b = _labelled(earlier, lang), _labelled(later, lang)
    joined = a.join(b, how="outer", suffixes=("_from", "_to"))
    joined["from"] = joined["label_from"].fillna(NEW)
    joined["to"] = joined["label_to"].fillna(LOST)
    has_revenue = "revenue_from" in joined.columns and "revenue_to" in joined.columns
    order_from = [*sorted(a["label"].unique(), key=_id_of), NEW]
    order_to = [*sorted(b["label"].unique(), key=_id_of), LOST]
    counts = pd.crosstab(joined["from"], joined["to"]).reindex(index=order_from, columns=order_to, fill_value=0)
    revenue = None
    if has_revenue:
        joined["revenue"] = joined["revenue_to"].fillna(joined["revenue_from"])
        revenue = (joined.pivot_table(index="from", columns="to", values="revenue", aggfunc="sum", fill_value=0.0)
                   .reindex(index=order_from, columns=order_to, fill_value=0.0))
    moved = joined[(joined["segment_id_from"] != joined["segment_id_to"])]
    movers = moved.reset_index()[[S.CUSTOMER_ID, "segment_id_from", "from", "segment_id_to", "to"]]
    both = joined["label_from"].notna() & joined["label_to"].notna()
    summary = {
        "customers_earlier": int(len(a)), "customers_later": int(len(b)),
        "new_customers": int(joined["label_from"].isna().sum()), "lost_customers": int(joined["label_to"].isna().sum()),
        "stayed_in_segment": int((both & (joined["segment_id_from"] == joined["segment_id_to"])).sum()),
        "changed_segment": int((both & (joined["segment_id_from"] != joined["segment_id_to"])).sum()),
        "earlier": earlier.run.get("input", {}).get("name"), "later": later.run.get("input", {}).get("name"),
        "customer_overlap": customer_overlap(a.index, b.index),
    }
    return Migration(counts, revenue, movers, summary)


def _id_of(label: str) -> int:
    return int(label.split(" · ", 1)[0])
