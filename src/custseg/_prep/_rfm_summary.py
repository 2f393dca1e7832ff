"""The per-customer RFM summary (recency, frequency, monetary value) from clean sales lines, one ibis expression.

Per customer: `RecencyDays` (days from the last purchase to `as_of`), `OrderCount`
(distinct orders: the frequency), `TotalSales` (the monetary value), plus the lifetimes /
PyMC-Marketing summary on purchase days: `frequency` (repeat purchase days), `recency`
(days from first to last purchase day), `T` (days from first purchase day to `as_of`) and
`monetary_value` (mean revenue of the repeat purchase days). docs/methods.md compares the
two sets of definitions.
"""

from __future__ import annotations

import datetime as dtm

import ibis
import ibis.expr.datatypes as dt
import pandas as pd

from .._config._options import RFM_FEATURES
from .._errors import UsageError
from ._features import feature_expression, revenue


def rfm_summary_expression(lines: ibis.Table, as_of: dtm.date) -> ibis.Table:
    """Lazy per-customer RFM table (custseg's and lifetimes' definitions), see the module docstring."""
    missing = [role for role in ("customer", "date") if role not in lines.columns]
    if missing or not ({"amount"} <= set(lines.columns) or {"quantity", "price"} <= set(lines.columns)):
        raise UsageError("RFM needs the customer, date and price (or amount) column roles; "
                         f"the lines have {', '.join(lines.columns)}")
    ours = feature_expression(lines, list(RFM_FEATURES), as_of)
    end = ibis.literal(as_of, type=dt.date)
    days = lines.mutate(_day=lines.date.cast(dt.date), _revenue=revenue(lines))
    daily = days.group_by(["customer", "_day"]).aggregate(_day_revenue=days._revenue.sum())
    daily = daily.mutate(_first=daily._day.min().over(group_by="customer"))
    summary = daily.group_by("customer").aggregate(
        frequency=(daily._day.nunique() - 1).cast(dt.float64),
        recency=daily._day.max().delta(daily._day.min(), unit="day").cast(dt.float64),
        T=end.delta(daily._day.min(), unit="day").cast(dt.float64),
        _repeat_revenue=daily._day_revenue.sum(where=daily._day != daily._first),
    )
    summary = summary.mutate(
        monetary_value=ibis.ifelse(summary.frequency > 0, summary._repeat_revenue / summary.frequency, 0.0)
    ).drop("_repeat_revenue")
    return ours.inner_join(summary, "customer")


def rfm_summary(lines: ibis.Table, as_of: dtm.date) -> pd.DataFrame:
    """Per-customer RFM values, sorted by customer id.

    Columns: customer, RecencyDays, OrderCount, TotalSales, frequency, recency, T,
    monetary_value (the last four as lifetimes' `summary_data_from_transaction_data`
    with `freq="D"` and `observation_period_end=as_of`).
    """
    frame = rfm_summary_expression(lines, as_of).to_pandas()
    frame["customer"] = frame["customer"].astype(str)
    return frame.sort_values("customer", kind="stable").reset_index(drop=True)
