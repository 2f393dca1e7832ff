"""Cleaning rules for sales lines, each counted: what was dropped and why, and what was netted."""

from __future__ import annotations

import datetime as dtm
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import ibis
import numpy as np

from .._config._columns import ColumnMapping
from .._config._options import CleaningRules
from .._engines import duckdb_column
from .._errors import DataError
from ._features import is_cancellation, revenue
from ._netting import (NOT_NETTED, UNMATCHED, mark_orphan_customers, mark_orphans, mark_unmatched, netting_counts,
                       signed_counts)
from ._parse import REPEATED_HEADER, ROW_KEY, row_key

RULES = (
    "repeated_header",
    "total_row",
    "missing_customer",
    "missing_order",
    "cancellation",
    "quantity_not_positive",
    "missing_or_non_finite_price",
    "negative_price",
    "zero_price",
    "missing_date",
    "after_as_of",
)
MAX_MISSING_CUSTOMER_SHARE = 0.5  # above this, the customer column is probably the wrong one
ORDER_PROBE_LINES = 100_000  # first kept lines whose order ids are checked for a repeat before all of them
HIT = "_rule"  # the number of the first rule that drops a line (0: kept)
ORDER_SORT_MAX = 2**26  # order-id hashes sorted in memory up to this many lines (512 MB); more are grouped by DuckDB
RULE_TEXT = {
    "repeated_header": "a header line repeated among the data rows (files joined one after the other)",
    "total_row": "no customer and no order id (a total or subtotal row)",
    "missing_customer": "no customer id",
    "missing_order": "no order id",
    "cancellation": "cancellation (order id starts with the cancellation prefix)",
    "quantity_not_positive": "quantity <= 0",
    "missing_or_non_finite_price": "price missing, NaN or infinite",
    "negative_price": "negative price",
    "zero_price": "zero price (free item)",
    "missing_date": "no date",
    "after_as_of": "dated on or after the as-of day (--as-of): after the period analysed",
    "duplicate_line": "duplicate of another line (the same values in every column: ids, numbers and dates as read, "
                      "spaces and number formats aside)",
    "unmatched_refund": "refund (negative amount) with no earlier purchase to net it against",
    "negative_customer": "line of a customer whose signed total is negative or who has amendment lines only "
                         "(amends purchases not in the data)",
}
FLOAT_COUNTS = ("revenue_netted", "revenue_not_netted", "amendments_revenue")




def _conditions(lines: ibis.Table, mapping: ColumnMapping, rules: CleaningRules,
                as_of: dtm.date | None) -> dict[str, ibis.Value]:
    """Rule name -> boolean expression 'this line is dropped by this rule' (only rules that apply)."""
    cols = lines.columns
    signs_kept = mapping.cancellations in ("net", "signed")  # negative lines netted or summed, not dropped
    conditions = {}
    if REPEATED_HEADER in cols:  # flagged by `_parse.flag_repeated_headers`, its cells NULL
        conditions["repeated_header"] = lines[REPEATED_HEADER]
    if "order" in cols:
        conditions["total_row"] = lines.customer.isnull() & lines.order.isnull()
    conditions["missing_customer"] = lines.customer.isnull()
    if "order" in cols:
        conditions["missing_order"] = lines.order.isnull()
    if mapping.cancellation_prefix and "order" in cols and not signs_kept:
        conditions["cancellation"] = lines.order.startswith(mapping.cancellation_prefix).fill_null(False)
    if "quantity" in cols:
        quantity = lines.quantity  # NaN compares greater than everything in DuckDB: test it apart
        odd = quantity.isnan() | quantity.isinf()
        # netted or signed, a negative quantity is a cancellation or an amendment, kept (netting drops the unmatched ones)
        conditions["quantity_not_positive"] = (((quantity == 0) if signs_kept else (quantity <= 0)) | odd).fill_null(True)
    if "price" in cols or "amount" in cols:
        money = revenue(lines)  # by now the quantity is there and not 0: the price's checks
        conditions["missing_or_non_finite_price"] = money.isnull() | money.isnan() | money.isinf()
        refunds = signs_kept and "price" not in cols  # a negative amount is a refund, netted or summed
        if rules.drop_negative_price and not refunds:
            conditions["negative_price"] = (lines.price if "price" in cols else lines.amount) < 0
        if rules.drop_zero_price:
            conditions["zero_price"] = money == 0
    if "date" in cols:
        conditions["missing_date"] = lines.date.isnull()
        if as_of:  # the period analysed ends the day before as_of (the default as_of is the day after the last line)
            conditions["after_as_of"] = lines.date.cast("date") >= as_of
    return conditions


def _checks(source: str, mapping: ColumnMapping, rows_in: int, dropped: dict[str, int], rows_out: int) -> None:
    if rows_in == 0:
        raise DataError(f"{source}: no data rows (the file has a header only)")
    if dropped["missing_customer"] > rows_in * MAX_MISSING_CUSTOMER_SHARE:
        raise DataError(f"{source}: column {mapping.customer!r} (customer) is empty on {dropped['missing_customer']:,} of "
                        f"{rows_in:,} lines; is it the customer id column?")
    if rows_out == 0:
        reasons = ", ".join(f"{RULE_TEXT[k]}: {v:,}" for k, v in dropped.items() if v)
        raise DataError(f"{source}: all {rows_in:,} lines were filtered out ({reasons})")


def _orders_unique(kept: ibis.Table, hashes_distinct: Callable[[], bool] | None) -> bool:
    """Whether each line of `kept` (the lines the rules keep, an order id each) has its own order id.

    First the first `ORDER_PROBE_LINES` kept ids: one repeated there is repeated in all (an
    invoice id repeated on each of its lines is found there, without the full check). Then
    `hashes_distinct` (`_order_hashes` of all the lines): no two hashes equal means no two ids
    equal, among the kept lines too. Two equal hashes (a repeated id, maybe on a dropped line,
    or a collision), or no hashes (Spark), leave it to the exact count-distinct of the kept ids.
    """
    head = kept.select(order=kept.order).filter(kept.order.notnull()).limit(ORDER_PROBE_LINES)
    probe = head.aggregate(n=head.count(), distinct=head.order.nunique()).execute().iloc[0]
    if int(probe["distinct"]) < int(probe["n"]):
        return False
    if hashes_distinct is not None and hashes_distinct():
        return True
    counted = kept.aggregate(n=kept.count(), distinct=kept.order.nunique()).execute().iloc[0]
    return int(counted["distinct"] or 0) == int(counted["n"])


def _order_hashes(lines: ibis.Table) -> Callable[[], bool] | None:
    """Whether the 64-bit hashes of the lines' order ids all differ (then so do the ids), as a call that waits for
    the answer; None off DuckDB.

    Up to `ORDER_SORT_MAX` lines, the hashes are pulled now and sorted on a thread (numpy
    releases the GIL) while the rules are counted (30M lines: 1 s, then 2-4 s of sorting,
    where DuckDB's group-by takes 5.3 s and the ids' count-distinct 6.4 s). Above (the first
    `ORDER_SORT_MAX` + 1 pulled tell), DuckDB groups them when asked, spilling to disk (300M
    lines: 2.4 GB of hashes kept out of memory).
    """
    if lines.get_backend().name != "duckdb":
        return None
    hashes = lines.filter(lines.order.notnull()).select(h=lines.order.hash())
    values = duckdb_column(hashes.limit(ORDER_SORT_MAX + 1))  # one array, to sort in place (30M: 4.3 -> 1.5 s)
    if len(values) > ORDER_SORT_MAX:
        del values
        grouped = hashes.group_by("h").aggregate(n=hashes.count())
        return lambda: int(grouped.filter(grouped.n > 1).count().execute()) == 0
    pool = ThreadPoolExecutor(1)
    answer = pool.submit(_all_differ, values)
    pool.shutdown(wait=False)  # the thread ends with its sort
    return answer.result


def _all_differ(values: np.ndarray) -> bool:
    values.sort()  # in place: half the time of np.sort's copy
    return not (values[1:] == values[:-1]).any()


def clean_lines(lines: ibis.Table, mapping: ColumnMapping, source: str, rules: CleaningRules | None = None,
                facts: dict | None = None, as_of: dtm.date | None = None) -> tuple[ibis.Table, dict]:
    """Apply the rules to typed lines; return the kept lines and the cleaning summary.

    The summary has rows_in, rows_out, dropped (rule -> count, in order), customers_in,
    customers_kept, date_min, date_max, cancellations (the rule; with "net" the cancellations
    matched and unmatched and the revenue netted; with "signed" the amendments kept, their
    revenue and the customers dropped) and zero_price_lines.
    With `as_of`, lines dated on or after that day are dropped (rule after_as_of).
    `facts`, if given, receives `order_unique`: whether each kept line has its own order id.
    """
    rules = rules or CleaningRules()
    if ROW_KEY not in lines.columns:
        lines = lines.mutate(**{ROW_KEY: row_key(lines)})
    rule = mapping.cancellations if "quantity" in lines.columns or "amount" in lines.columns else "drop"
    marked = rule != "drop"  # lines marked `UNMATCHED` after the rules: unmatched cancellations, or orphan customers
    conditions = _conditions(lines, mapping, rules, as_of)
    # each line's first rule (0: none, kept) as one CASE: each condition evaluated once a line, where counting a
    # rule's first hits as 'this condition and none before' evaluated it once per later rule
    lines = lines.mutate(**{HIT: ibis.cases(*((condition, i) for i, condition in enumerate(conditions.values(), 1)),
                                            else_=0)})
    keep = lines[HIT] == 0
    # one scan: per customer, the rules' counts and the kept lines' partial summary (`_per_customer`), rolled up
    hashes_distinct = _order_hashes(lines) if "order" in lines.columns else None  # sorted while the rules are counted
    per_customer = _per_customer(lines, list(conditions), rule == "signed")
    aggregates = _summary_rollup(per_customer)  # the kept lines' summary, if no line is removed later
    counts = per_customer.aggregate(rows_in=per_customer._n.sum(), customers_in=per_customer.customer.count(),
                                    **{name: per_customer[name].sum() for name in conditions}, **aggregates).execute().iloc[0]
    rows_in, before = int(counts["rows_in"] or 0), int(counts["rows"] or 0)
    dropped = {name: int(counts[name] or 0) for name in conditions
               if counts[name] or name != "repeated_header"}  # listed when found: only text inputs can have one
    _checks(source, mapping, rows_in, dropped, before)
    kept = lines.filter(keep).drop(HIT)
    # If the order (line) id is unique among the kept lines, no two kept lines are identical,
    # so the distinct() over all columns, and holding its result in memory, can be skipped.
    order_unique = "order" in lines.columns and _orders_unique(kept, hashes_distinct)
    distinct = rules.drop_duplicates and not order_unique
    if distinct:
        kept = kept.distinct()  # on every column of the input: the typed ones and the row key of the rest
    if rule == "signed" and not distinct:  # the customers' partial summaries tell the orphans and the final summary
        kept, final = _signed_from_customers(kept.drop(ROW_KEY), per_customer)
    elif marked or distinct:  # lines removed or marked: count again
        if marked:  # the row key breaks ties when netting; the signed rule needs it no more (a hash of every column)
            kept = mark_unmatched(kept, ROW_KEY) if rule == "net" else mark_orphan_customers(kept.drop(ROW_KEY))
        aggregates = _summary_aggregates(kept, ~kept[UNMATCHED] if marked else ibis.literal(True), rule)
        aggregates["rows"] = kept.count()
        final = _summary_counts(kept.aggregate(**aggregates).execute().iloc[0], aggregates)
    else:
        final = _summary_counts(counts, aggregates)
    if rules.drop_duplicates:
        dropped["duplicate_line"] = before - final["rows"]
    if rule == "net":
        unmatched_rule = "quantity_not_positive" if "quantity" in lines.columns else "unmatched_refund"
        dropped[unmatched_rule] = dropped.get(unmatched_rule, 0) + final["cancellations_unmatched"]
    elif rule == "signed":
        dropped["negative_customer"] = final["lines_dropped"]
    if marked:
        kept = kept.filter(~kept[UNMATCHED]).drop(UNMATCHED, *([NOT_NETTED] if rule == "net" else []))
    rows_out = rows_in - sum(dropped.values())
    _checks(source, mapping, rows_in, dropped, rows_out)
    helpers = [c for c in (ROW_KEY, REPEATED_HEADER) if c in kept.columns]
    if (marked and rule != "signed") or distinct:  # costly to compute again (a window, a distinct): held
        kept = kept.drop(*helpers).cache()  # later stages read the kept lines several times
    else:
        kept = kept.drop(*helpers)
    cancellations = {"rule": rule}
    if rule == "net":
        cancellations |= {"matched": final["cancellations_matched"], "unmatched": final["cancellations_unmatched"],
                          "revenue_netted": final["revenue_netted"], "revenue_not_netted": final["revenue_not_netted"]}
    elif rule == "signed":
        cancellations |= {"amendments": final["amendments"], "revenue": final["amendments_revenue"],
                          "customers_dropped": final["customers_dropped"]}
    summary = {
        "rows_in": rows_in,
        "rows_out": rows_out,
        "dropped": dropped,
        "rules": {name: RULE_TEXT[name] for name in dropped},
        "customers_in": int(counts["customers_in"]),
        "customers_kept": final["customers_kept"],
        "date_min": final.get("date_min"),
        "date_max": final.get("date_max"),
        "cancellations": cancellations,
        "zero_price_lines": {"kept": final.get("zero_price_kept", 0), "dropped": dropped.get("zero_price", 0)},
    }
    if facts is not None:
        facts["order_unique"] = order_unique  # the features can count lines instead of distinct orders
    return kept, summary


def _per_customer(lines: ibis.Table, rules: list[str], signed: bool) -> ibis.Table:
    """One row per customer (NULL included), held: its lines (`_n`), each rule's first hits (a column per name in
    `rules`, numbered from 1 in `HIT`), and its kept lines' partial summary (`_rows`, `_date_min`, `_date_max`,
    `_zero`; with `signed`, `_total`, `_purchases`, `_amendments`, `_amendments_revenue`). 800k rows at 30M
    lines: the summaries roll up from it without another scan.

    The lines are grouped by customer and rule first, so no aggregate over them needs a filter
    (17 filtered aggregates: 8 of the query's 12 CPU-seconds at 30M lines), then by customer.
    """
    partial = {"_n": lines.count()}
    if "date" in lines.columns:
        partial |= {"_date_min": lines.date.min(), "_date_max": lines.date.max()}
    if "price" in lines.columns or "amount" in lines.columns:
        partial["_zero"] = (revenue(lines) == 0).sum()
    if signed:
        cancels = is_cancellation(lines)
        partial |= {"_total": revenue(lines).sum(), "_purchases": (~cancels).sum(), "_amendments": cancels.sum(),
                    "_amendments_revenue": ibis.ifelse(cancels, revenue(lines), 0).sum()}
    by_rule = lines.group_by(["customer", HIT]).aggregate(**partial)
    kept = by_rule[HIT] == 0
    counts = {"_n": by_rule._n.sum(), **{name: by_rule._n.sum(where=by_rule[HIT] == i).fill_null(0)
                                          for i, name in enumerate(rules, 1)},
              "_rows": by_rule._n.sum(where=kept).fill_null(0)}
    rollup = {"_date_min": "min", "_date_max": "max"}  # the others add up
    summary = {name: getattr(by_rule[name], rollup.get(name, "sum"))(where=kept) for name in partial if name != "_n"}
    return by_rule.group_by("customer").aggregate(**counts, **summary).cache()


def _summary_rollup(customers: ibis.Table, live: ibis.Value | None = None) -> dict[str, ibis.Value]:
    """`_summary_aggregates` from `_per_customer`'s partial summaries, of the customers where `live` holds."""
    where = customers._rows > 0 if live is None else (customers._rows > 0) & live
    aggregates = {"rows": customers._rows.sum(where=where),
                  "customers_kept": customers.count(where=where & customers.customer.notnull())}
    if "_date_min" in customers.columns:
        aggregates |= {"date_min": customers._date_min.min(where=where), "date_max": customers._date_max.max(where=where)}
    if "_zero" in customers.columns:
        aggregates["zero_price_kept"] = customers._zero.sum(where=where)
    return aggregates


def _signed_from_customers(kept: ibis.Table, customers: ibis.Table) -> tuple[ibis.Table, dict]:
    """Rule "signed" without duplicates to remove: the kept lines marked `UNMATCHED` (`mark_orphan_customers`, its
    orphans from `_per_customer`), and the final summary rolled up from it (`_summary_aggregates`, `signed_counts`)."""
    orphan = (customers._rows > 0) & ((customers._total < 0) | (customers._purchases == 0))
    aggregates = _summary_rollup(customers, ~orphan)
    aggregates |= {"rows": customers._rows.sum(), "amendments": customers._amendments.sum(where=~orphan),
                   "amendments_revenue": customers._amendments_revenue.sum(where=~orphan),
                   "customers_dropped": customers.count(where=orphan), "lines_dropped": customers._rows.sum(where=orphan)}
    final = _summary_counts(customers.aggregate(**aggregates).execute().iloc[0], aggregates)
    return mark_orphans(kept, customers.filter(orphan).customer), final


def _summary_aggregates(kept: ibis.Table, live: ibis.Value, rule: str = "drop") -> dict[str, ibis.Value]:
    """What the summary needs of the kept lines where `live` holds (the lines marked `UNMATCHED` excluded)."""
    aggregates = {"rows": kept.count(where=live), "customers_kept": kept.customer.nunique(where=live)}
    if "date" in kept.columns:
        aggregates |= {"date_min": kept.date.min(where=live), "date_max": kept.date.max(where=live)}
    if "price" in kept.columns or "amount" in kept.columns:
        aggregates["zero_price_kept"] = (revenue(kept) == 0).sum(where=live)
    if rule == "net":
        aggregates |= netting_counts(kept)
    elif rule == "signed":
        aggregates |= signed_counts(kept)
    return aggregates


def _summary_counts(row, aggregates: dict) -> dict:
    """The summary's numbers from the executed `_summary_aggregates`."""
    out = {key: int(row[key] or 0) for key in aggregates if key not in ("date_min", "date_max", *FLOAT_COUNTS)}
    for key in ("date_min", "date_max"):
        if key in aggregates:
            out[key] = str(row[key].date()) if row[key] is not None and row[key] == row[key] else None
    out |= {key: float(row[key]) if row[key] == row[key] and row[key] is not None else 0.0  # a sum over no line is NaN
            for key in FLOAT_COUNTS if key in aggregates}
    return out
