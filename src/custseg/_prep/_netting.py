"""Cancellations and refunds netted against the purchases they cancel, or summed signed.

A cancellation is a line with a negative quantity. It is matched to a purchase of the same
customer, product and absolute quantity at the same time or earlier, each purchase
cancelled at most once, the latest open purchase first. A matched cancellation is kept, so
the customer's revenue, the product's revenue and the units are net of it; it is not an
order and not a purchase line (`is_cancellation`). A cancellation with no purchase to
match is dropped.

A refund (no quantity, a negative amount) nets the open amount of the earlier purchases of
the same customer (and product): their amounts less the refunds already netted. A 200
refund of a 500 order leaves 300; the part of a refund beyond the open amount is not
netted (the line keeps the netted part, and drops whole if none) and its revenue counted.

In one pass per (customer, product, size) in time order, purchases count +1 and
cancellations -1 (refunds: their signed amounts, per customer and product): the part of a
line that takes this running level below every earlier level and below 0 is unmatched.

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
NOT_NETTED = "_not_netted"  # per line, the revenue of a cancellation's part that nets no purchase
WHOLE = 1e-9  # a refund's netted part smaller than this share of it is none: the refund is unmatched


def mark_unmatched(lines: ibis.Table, tie_breaker: str) -> ibis.Table:
    """`lines` with `_unmatched` (cancellations that cancel no earlier purchase) and `_not_netted`.

    Refunds given as amounts (no quantity) keep, as `amount`, the part they net.
    """
    cancels = is_cancellation(lines)
    by_amount = "quantity" not in lines.columns
    sizes = {} if by_amount else {"_size": lines.quantity.abs()}  # refunds net amounts, of any size
    marked = lines.mutate(_cancels=cancels, **sizes)
    keys = ["customer", *sizes] + (["product"] if "product" in lines.columns else [])
    order = (["date"] if "date" in lines.columns else []) + ["_cancels", tie_breaker]
    step = marked.amount if by_amount else ibis.ifelse(marked._cancels, -1, 1)
    marked = marked.mutate(_level=step.sum().over(ibis.window(group_by=keys, order_by=order, rows=(None, 0))))
    before = marked._level.min().over(ibis.window(group_by=keys, order_by=order, rows=(None, -1)))
    floor = ibis.least(before.fill_null(0), 0)
    excess = floor - ibis.least(marked._level, floor)  # the part below every earlier level and 0 (0 on purchases)
    if not by_amount:
        unmatched = marked._cancels & (excess > 0)
        marked = marked.mutate(**{UNMATCHED: unmatched, NOT_NETTED: ibis.ifelse(unmatched, revenue(marked), 0.0)})
    else:
        netted = marked.amount + excess
        marked = marked.mutate(**{UNMATCHED: marked._cancels & (netted >= marked.amount * WHOLE),
                                  NOT_NETTED: -excess.cast("float64"), "amount": netted})
    return marked.drop("_cancels", "_level", *sizes)


def mark_orphan_customers(lines: ibis.Table) -> ibis.Table:
    """`lines` with a boolean column `_unmatched`: every line of a customer with a negative signed total or no purchase line.

    The customers are found by a group-by (one row each) and the lines joined to them
    (`mark_orphans`): a window over the customer sorts every line with all its columns
    (30M lines: 4 GB).
    """
    per_customer = lines.group_by("customer").aggregate(_total=revenue(lines).sum(),
                                                         _purchases=(~is_cancellation(lines)).sum())
    return mark_orphans(lines, per_customer.filter((per_customer._total < 0) | (per_customer._purchases == 0)).customer)


def mark_orphans(lines: ibis.Table, orphans: ibis.Column) -> ibis.Table:
    """`lines` with a boolean column `_unmatched`: true on the lines of the customers `orphans` (held first: a
    join to a lazy group-by of the same lines makes DuckDB hold all the lines)."""
    held = orphans.name("_orphan").as_table().mutate(_flag=ibis.literal(True)).cache()
    joined = lines.left_join(held, lines.customer == held._orphan)
    return joined.mutate(**{UNMATCHED: joined._flag.fill_null(False)}).drop("_orphan", "_flag")


def signed_counts(lines: ibis.Table) -> dict[str, ibis.Value]:
    """Aggregates over marked lines: amendments kept and their revenue, customers dropped (negative or amendments only)."""
    amendments, orphan = is_cancellation(lines) & ~lines[UNMATCHED], lines[UNMATCHED]
    return {"amendments": amendments.sum(), "amendments_revenue": revenue(lines).sum(where=amendments),
            "customers_dropped": lines.customer.nunique(where=orphan), "lines_dropped": orphan.sum()}


def netting_counts(lines: ibis.Table) -> dict[str, ibis.Value]:
    """Aggregates over marked lines: cancellations matched and unmatched, and the revenue netted."""
    cancels, unmatched = is_cancellation(lines), lines[UNMATCHED]
    return {"cancellations_matched": (cancels & ~unmatched).sum(), "cancellations_unmatched": unmatched.sum(),
            "revenue_netted": revenue(lines).sum(where=cancels & ~unmatched), "revenue_not_netted": lines[NOT_NETTED].sum()}
