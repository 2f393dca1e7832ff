"""Cleaning rules for sales lines, each counted: what was dropped and why."""

from __future__ import annotations

import ibis

from .._config._columns import ColumnMapping
from .._config._options import CleaningRules
from .._errors import DataError

RULES = (
    "missing_customer",
    "cancellation",
    "quantity_not_positive",
    "missing_or_non_finite_price",
    "negative_price",
    "missing_date",
)
MAX_MISSING_CUSTOMER_SHARE = 0.5  # above this, the customer column is probably the wrong one
RULE_TEXT = {
    "missing_customer": "no customer id",
    "cancellation": "cancellation (order id starts with the cancellation prefix)",
    "quantity_not_positive": "quantity <= 0",
    "missing_or_non_finite_price": "price missing, NaN or infinite",
    "negative_price": "negative price",
    "missing_date": "no date",
    "duplicate_line": "exact duplicate of another line",
}


def _money(lines: ibis.Table) -> ibis.Value:
    return lines["amount"] if "amount" in lines.columns else lines["price"]


def _conditions(lines: ibis.Table, mapping: ColumnMapping, rules: CleaningRules) -> dict[str, ibis.Value]:
    """Rule name -> boolean expression 'this line is dropped by this rule' (only rules that apply)."""
    cols = lines.columns
    conditions = {"missing_customer": lines.customer.isnull()}
    if mapping.cancellation_prefix and "order" in cols:
        conditions["cancellation"] = lines.order.startswith(mapping.cancellation_prefix).fill_null(False)
    if "quantity" in cols:
        quantity = lines.quantity  # NaN compares greater than everything in DuckDB: test it apart
        conditions["quantity_not_positive"] = ((quantity <= 0) | quantity.isnan() | quantity.isinf()).fill_null(True)
    if "price" in cols or "amount" in cols:
        money = _money(lines)
        conditions["missing_or_non_finite_price"] = money.isnull() | money.isnan() | money.isinf()
        if rules.drop_negative_price:
            conditions["negative_price"] = money < 0
    if "date" in cols:
        conditions["missing_date"] = lines.date.isnull()
    return conditions


def clean_lines(lines: ibis.Table, mapping: ColumnMapping, source: str, rules: CleaningRules | None = None,
                facts: dict | None = None) -> tuple[ibis.Table, dict]:
    """Apply the rules to typed lines; return the kept lines and the cleaning summary.

    The summary has rows_in, rows_out, dropped (rule -> count, in order), customers_in,
    customers_kept, date_min and date_max. `facts`, if given, receives `order_unique`:
    whether each kept line has its own order id.
    """
    rules = rules or CleaningRules()
    conditions = _conditions(lines, mapping, rules)
    first_hit = {}
    earlier = ibis.literal(False)
    for name, condition in conditions.items():
        first_hit[name] = (~earlier & condition).sum()
        earlier = earlier | condition
    # One scan: the rule counts and what the summary needs of the kept lines. If the order
    # (line) id is unique among the kept lines, no two kept lines are identical, so the
    # distinct() over all columns, and holding its result in memory, can be skipped.
    keep = ~earlier
    stats = {"customers_kept": lines.customer.nunique(where=keep)}
    if "date" in lines.columns:
        stats |= {"date_min": lines.date.min(where=keep), "date_max": lines.date.max(where=keep)}
    if "order" in lines.columns:
        stats["distinct_orders"] = lines.order.nunique(where=keep)
    counts = lines.aggregate(rows_in=lines.count(), customers_in=lines.customer.nunique(), **first_hit, **stats).execute().iloc[0]
    kept = lines.filter(keep)
    dropped = {name: int(counts[name] or 0) for name in conditions}
    before = int(counts["rows_in"]) - sum(dropped.values())
    order_unique = "order" in lines.columns and int(counts["distinct_orders"] or 0) == before
    if rules.drop_duplicates:
        if order_unique:
            dropped["duplicate_line"] = 0
        else:
            kept = kept.distinct().cache()  # later stages read the kept lines several times
            dropped["duplicate_line"] = before - int(kept.count().execute())
    rows_in = int(counts["rows_in"])
    rows_out = rows_in - sum(dropped.values())
    if rows_in == 0:
        raise DataError(f"{source}: no data rows (the file has a header only)")
    if dropped["missing_customer"] > rows_in * MAX_MISSING_CUSTOMER_SHARE:
        raise DataError(f"{source}: column {mapping.customer!r} (customer) is empty on {dropped['missing_customer']:,} of "
                        f"{rows_in:,} lines; is it the customer id column?")
    if rows_out == 0:
        reasons = ", ".join(f"{RULE_TEXT[k]}: {v:,}" for k, v in dropped.items() if v)
        raise DataError(f"{source}: all {rows_in:,} lines were filtered out ({reasons})")
    summary_row = counts
    summary = {
        "rows_in": rows_in,
        "rows_out": rows_out,
        "dropped": dropped,
        "rules": {name: RULE_TEXT[name] for name in dropped},
        "customers_in": int(counts["customers_in"]),
        "customers_kept": int(summary_row["customers_kept"]),
        "date_min": str(summary_row["date_min"].date()) if "date_min" in summary_row else None,
        "date_max": str(summary_row["date_max"].date()) if "date_max" in summary_row else None,
    }
    if facts is not None:
        facts["order_unique"] = order_unique  # the features can count lines instead of distinct orders
    return kept, summary
