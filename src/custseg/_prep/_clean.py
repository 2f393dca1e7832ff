"""Cleaning rules for sales lines, each counted: what was dropped and why, and what was netted."""

from __future__ import annotations

import datetime as dtm

import ibis
import numpy as np

from .._config._columns import ColumnMapping
from .._config._options import CleaningRules
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


def _orders_unique(kept: ibis.Table, n_kept: int) -> bool:
    """Whether each of the `n_kept` kept lines has its own order id (none missing).

    First the first `ORDER_PROBE_LINES` ids: one repeated there is repeated in all (an
    invoice id repeated on each of its lines is found there, without the full check). Then, on DuckDB,
    the sorted 64-bit hashes of the ids; no two equal means no two ids equal (30M lines:
    2.6 s, where the count-distinct takes 6.4 s). Two equal hashes (a repeated id, or a
    collision) leave it to the exact count-distinct.
    """
    head = kept.select(order=kept.order).filter(kept.order.notnull()).limit(ORDER_PROBE_LINES)
    probe = head.aggregate(n=head.count(), distinct=head.order.nunique()).execute().iloc[0]
    if int(probe["distinct"]) < int(probe["n"]):
        return False
    if kept.get_backend().name == "duckdb":
        hashes = np.sort(kept.filter(kept.order.notnull()).select(h=kept.order.hash()).to_pyarrow()["h"].to_numpy())
        if len(hashes) < n_kept:
            return False
        if not (hashes[1:] == hashes[:-1]).any():
            return True
    return int(kept.aggregate(n=kept.order.nunique()).execute().iloc[0, 0] or 0) == n_kept


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
    first_hit = {}
    earlier = ibis.literal(False)
    for name, condition in conditions.items():
        first_hit[name] = (~earlier & condition).sum()
        earlier = earlier | condition
    keep = ~earlier
    # one scan: per customer, the rules' counts and the kept lines' partial summary (`_per_customer`), rolled up
    per_customer = _per_customer(lines, first_hit, keep, rule == "signed")
    aggregates = _summary_rollup(per_customer)  # the kept lines' summary, if no line is removed later
    counts = per_customer.aggregate(rows_in=per_customer._n.sum(), customers_in=per_customer.customer.count(),
                                    **{name: per_customer[name].sum() for name in first_hit}, **aggregates).execute().iloc[0]
    rows_in, before = int(counts["rows_in"] or 0), int(counts["rows"] or 0)
    dropped = {name: int(counts[name] or 0) for name in conditions
               if counts[name] or name != "repeated_header"}  # listed when found: only text inputs can have one
    _checks(source, mapping, rows_in, dropped, before)
    kept = lines.filter(keep)
    # If the order (line) id is unique among the kept lines, no two kept lines are identical,
    # so the distinct() over all columns, and holding its result in memory, can be skipped.
    order_unique = "order" in lines.columns and _orders_unique(kept, before)
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


def _per_customer(lines: ibis.Table, first_hit: dict[str, ibis.Value], keep: ibis.Value, signed: bool) -> ibis.Table:
    """One row per customer (NULL included), held: its lines (`_n`), each rule's first hits, and its kept lines'
    partial summary (`_rows`, `_date_min`, `_date_max`, `_zero`; with `signed`, `_total`, `_purchases`, `_amendments`,
    `_amendments_revenue`). 800k rows at 30M lines: the summaries roll up from it without another scan."""
    partial = {"_n": lines.count(), **first_hit, "_rows": lines.count(where=keep)}
    if "date" in lines.columns:
        partial |= {"_date_min": lines.date.min(where=keep), "_date_max": lines.date.max(where=keep)}
    if "price" in lines.columns or "amount" in lines.columns:
        partial["_zero"] = (revenue(lines) == 0).sum(where=keep)
    if signed:
        cancels = is_cancellation(lines)
        partial |= {"_total": revenue(lines).sum(where=keep), "_purchases": (~cancels).sum(where=keep),
                    "_amendments": cancels.sum(where=keep), "_amendments_revenue": revenue(lines).sum(where=keep & cancels)}
    return lines.group_by("customer").aggregate(**partial).cache()


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
