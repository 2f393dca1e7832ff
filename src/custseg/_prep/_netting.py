"""Cancellations and refunds netted against the purchases they cancel, or summed signed.

A cancellation is a line with a negative quantity (or, without a quantity, a negative
amount: a refund). It is matched to a purchase of the same customer, product and size
(absolute quantity, or amount) at the same time or earlier, each purchase cancelled at most
once, the latest open purchase first. A matched cancellation is kept, so the customer's
revenue, the product's revenue and the units are net of it; it is not an order and not a
purchase line (`is_purchase`). A cancellation with no purchase to match is dropped.

In one pass per (customer, product, size) in time order, purchases count +1 and
cancellations -1: a cancellation is unmatched exactly when this running level falls below
every earlier level and below 0.

Under the rule "signed" (a CPQ export, where a negative quantity is an amendment: fewer
seats, at a prorated price) every line is kept with its sign and no matching is done. A
customer whose lines sum to a negative total, or who has amendment lines only, amends
purchases that are not in the data: all of that customer's lines are dropped and counted
(`mark_orphan_customers`), never a negative spend.
"""

from __future__ import annotations

import ibis

from ._features import is_cancellation, revenue

UNMATCHED = "_unmatched"


def mark_unmatched(lines: ibis.Table, tie_breaker: str) -> ibis.Table:
    """`lines` with a boolean column `_unmatched`: cancellations that cancel no earlier purchase."""
    cancels = is_cancellation(lines)
    size = (lines.quantity if "quantity" in lines.columns else lines.amount).abs()
    marked = lines.mutate(_cancels=cancels, _size=size)
    keys = ["customer", "_size"] + (["product"] if "product" in lines.columns else [])
    order = (["date"] if "date" in lines.columns else []) + ["_cancels", tie_breaker]
    step = ibis.ifelse(marked._cancels, -1, 1)
    marked = marked.mutate(_level=step.sum().over(ibis.window(group_by=keys, order_by=order, rows=(None, 0))))
    before = marked._level.min().over(ibis.window(group_by=keys, order_by=order, rows=(None, -1)))
    floor = ibis.least(before.fill_null(0), 0)
    return marked.mutate(**{UNMATCHED: marked._cancels & (marked._level < floor)}).drop("_cancels", "_size", "_level")


def mark_orphan_customers(lines: ibis.Table) -> ibis.Table:
    """`lines` with a boolean column `_unmatched`: every line of a customer with a negative signed total or no purchase line."""
    by_customer = ibis.window(group_by="customer")
    total = revenue(lines).sum().over(by_customer)
    purchases = (~is_cancellation(lines)).sum().over(by_customer)
    return lines.mutate(**{UNMATCHED: (total < 0) | (purchases == 0)})


def signed_counts(lines: ibis.Table) -> dict[str, ibis.Value]:
    """Aggregates over marked lines: amendments kept and their revenue, customers dropped (negative or amendments only)."""
    amendments, orphan = is_cancellation(lines) & ~lines[UNMATCHED], lines[UNMATCHED]
    return {"amendments": amendments.sum(), "amendments_revenue": revenue(lines).sum(where=amendments),
            "customers_dropped": lines.customer.nunique(where=orphan), "lines_dropped": orphan.sum()}


def netting_counts(lines: ibis.Table) -> dict[str, ibis.Value]:
    """Aggregates over marked lines: cancellations matched and unmatched, and the revenue netted."""
    cancels, unmatched = is_cancellation(lines), lines[UNMATCHED]
    return {"cancellations_matched": (cancels & ~unmatched).sum(), "cancellations_unmatched": unmatched.sum(),
            "revenue_netted": revenue(lines).sum(where=cancels & ~unmatched)}
