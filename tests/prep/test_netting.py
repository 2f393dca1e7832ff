"""Issue 12 items 7 and 11: cancellations and refunds netted against the purchase they cancel; zero-price lines."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

from custseg import CleaningRules, ColumnMapping, preset
from custseg._prep._clean import clean_lines
from custseg._prep._features import customer_features
from custseg._prep._parse import typed_lines

LINES = ColumnMapping(customer="cust", order="inv", product="sku", quantity="qty", price="price", date="day",
                      date_format="%Y-%m-%d")
FEATURES = ["TotalSales", "OrderCount", "LineCount", "Units"]


def run(rows: list[tuple], mapping: ColumnMapping = LINES, rules: CleaningRules | None = None):
    columns = [c for c in ("cust", "inv", "sku", "qty", "price", "amount", "day") if c in mapping.roles().values()]
    con = ibis.duckdb.connect()
    lines, _ = typed_lines(con.create_table("t", pd.DataFrame(rows, columns=columns, dtype="string")), mapping, "in.csv")
    kept, summary = clean_lines(lines, mapping, "in.csv", rules)
    return customer_features(kept, [f for f in FEATURES if mapping.quantity or f != "Units"]).set_index("customer"), summary


def test_a_cancellation_nets_the_purchase_it_cancels():
    customers, summary = run([
        ("a", "1", "p1", "3", "2.5", "2023-01-01"),
        ("a", "2", "p2", "80995", "2.08", "2023-01-02"),
        ("a", "C3", "p2", "-80995", "2.08", "2023-01-02"),   # cancels invoice 2 (same customer, product, quantity)
        ("b", "C4", "p1", "-1", "5", "2023-01-01"),         # cancels nothing earlier: dropped
        ("b", "5", "p1", "1", "5", "2023-01-03"),
        ("b", "C6", "p1", "-2", "5", "2023-01-04"),         # another quantity than any purchase: dropped
    ])
    assert customers.loc["a"].to_dict() == {"TotalSales": pytest.approx(7.5), "OrderCount": 2.0, "LineCount": 2.0,
                                            "Units": 3.0, "TopProduct": "p1"}  # not the cancelled p2
    assert customers.loc["b", "TotalSales"] == 5.0
    assert summary["cancellations"] == {"rule": "net", "matched": 1, "unmatched": 2, "revenue_netted": pytest.approx(-168469.6),
                                        "revenue_not_netted": -15.0}  # C4: -1 x 5, C6: -2 x 5
    assert summary["dropped"]["quantity_not_positive"] == 2 and summary["rows_out"] == 4


def test_each_purchase_is_cancelled_once():
    customers, summary = run([
        ("a", "1", "p1", "2", "10", "2023-01-01"),
        ("a", "C2", "p1", "-2", "10", "2023-01-02"),
        ("a", "C3", "p1", "-2", "10", "2023-01-03"),  # the only purchase is already cancelled
        ("a", "4", "p2", "1", "7", "2023-01-04"),
    ])
    assert customers.loc["a", "TotalSales"] == 7.0
    assert (summary["cancellations"]["matched"], summary["cancellations"]["unmatched"]) == (1, 1)


def test_a_refund_given_as_a_negative_amount_nets_to_zero():
    mapping = ColumnMapping(customer="cust", order="inv", amount="amount", date="day", date_format="%Y-%m-%d")
    customers, summary = run([("a", "1", "1000", "2023-01-01"), ("a", "R1", "-1000", "2023-02-01"),
                              ("b", "2", "300", "2023-01-01")], mapping)
    assert customers.loc["a", "TotalSales"] == 0.0 and customers.loc["a", "OrderCount"] == 1.0
    assert summary["cancellations"]["matched"] == 1 and summary["dropped"].get("negative_price", 0) == 0


def test_the_study_rule_is_kept_as_an_option():
    rows = [("a", "1", "p1", "2", "10", "2023-01-01"), ("a", "C2", "p1", "-2", "10", "2023-01-02")]
    customers, summary = run(rows, LINES.with_overrides(cancellations="drop"))
    assert customers.loc["a", "TotalSales"] == 20.0 and summary["dropped"]["quantity_not_positive"] == 1
    assert summary["cancellations"] == {"rule": "drop"}
    assert preset("online-retail").cancellations == "net"  # salesforce-cpq: "signed" (tests/config/test_cancellations.py)


def test_zero_price_lines_are_kept_counted_and_can_be_dropped():
    rows = [("a", "1", "p1", "1", "0", "2023-01-01"), ("a", "2", "p2", "1", "9", "2023-01-02"),
            ("b", "3", "p1", "2", "0", "2023-01-01")]
    customers, summary = run(rows)
    assert customers["OrderCount"].to_dict() == {"a": 2.0, "b": 1.0}
    assert summary["zero_price_lines"] == {"kept": 2, "dropped": 0}
    customers, summary = run(rows, rules=CleaningRules(drop_zero_price=True))
    assert list(customers.index) == ["a"] and summary["zero_price_lines"] == {"kept": 0, "dropped": 2}


def _stack_matching(retail: pd.DataFrame) -> pd.Series:
    """Independent check: per (customer, product, |quantity|) in time order, each cancellation pops the latest open purchase."""
    cancel = retail["q"] < 0
    keys = ["CustomerID", "StockCode", "size"]
    wanted = retail.loc[cancel, keys].drop_duplicates()
    matched = pd.Series(False, index=retail.index)
    candidates = retail.reset_index().merge(wanted, on=keys).sort_values(keys + ["t", "cancel"], kind="stable")
    for _, group in candidates.groupby(keys, sort=False):
        open_purchases = 0
        for index, is_cancel in zip(group["index"], group["cancel"]):
            if not is_cancel:
                open_purchases += 1
            elif open_purchases:
                open_purchases -= 1
                matched[index] = True
    return matched


def test_online_retail_netted(retail_csv):
    con = ibis.duckdb.connect()
    mapping = preset("online-retail")
    table = con.read_csv(retail_csv, all_varchar=True)
    lines, _ = typed_lines(table, mapping, "online_retail.csv")
    lines = lines.cache()
    kept, summary = clean_lines(lines, mapping, "online_retail.csv")
    customers = customer_features(kept, ["TotalSales", "OrderCount"]).set_index("customer")
    # independent pandas computation: lines with a customer, whole-row duplicates removed, then stack matching
    retail = pd.read_csv(retail_csv, dtype=str)
    retail = retail[retail["CustomerID"].notna()].drop_duplicates()
    retail = retail.assign(q=retail["Quantity"].astype(float), p=retail["UnitPrice"].astype(float),
                           t=pd.to_datetime(retail["InvoiceDate"]))
    retail = retail.assign(size=retail["q"].abs(), cancel=retail["q"] < 0)
    matched = _stack_matching(retail)
    kept_pd = retail[~retail["cancel"] | matched]
    revenue = (kept_pd["q"] * kept_pd["p"]).groupby(kept_pd["CustomerID"]).sum()
    assert summary["cancellations"]["matched"] == int(matched.sum()) == 2_882
    assert summary["cancellations"]["unmatched"] == int((retail["cancel"] & ~matched).sum()) == 5_990
    assert customers["TotalSales"].sum() == pytest.approx(revenue.sum(), rel=1e-12)
    assert revenue.sum() == pytest.approx(8_481_524.60, abs=0.01)  # 8,887,208.89 with the study's rule
    np.testing.assert_allclose(customers["TotalSales"].to_numpy(), revenue.loc[customers.index].to_numpy(), rtol=1e-9, atol=1e-6)
    # customer 16446 bought 168,472.50 and cancelled 168,469.60 (C581484 cancels 581483): 2.90 net
    assert customers.loc["16446", "TotalSales"] == pytest.approx(2.90)
    assert summary["customers_kept"] == 4_339 and summary["zero_price_lines"] == {"kept": 40, "dropped": 0}
    _, dropped = clean_lines(lines, mapping, "online_retail.csv", CleaningRules(drop_zero_price=True))
    assert dropped["customers_kept"] == 4_338


AMOUNTS = ColumnMapping(customer="cust", order="inv", amount="amount", date="day", date_format="%Y-%m-%d")


def test_a_partial_refund_nets_part_of_the_order_and_the_excess_is_counted():
    customers, summary = run([
        ("a", "1", "500", "2023-01-01"), ("a", "R1", "-200", "2023-02-01"),   # 500 - 200 = 300
        ("b", "2", "500", "2023-01-01"), ("b", "R2", "-700", "2023-02-01"),   # nets 500, the other 200 not: 0
        ("c", "3", "100", "2023-01-01"), ("c", "4", "50", "2023-01-05"),
        ("c", "R3", "-120", "2023-02-01"), ("c", "R4", "-40", "2023-03-01"),  # 150 - 120 = 30 open, then 30 of 40 nets
        ("d", "R5", "-80", "2023-01-01"), ("d", "5", "90", "2023-02-01"),     # refund before any purchase: dropped
    ], AMOUNTS)
    assert customers["TotalSales"].to_dict() == {"a": 300.0, "b": 0.0, "c": 0.0, "d": 90.0}
    assert customers["OrderCount"].to_dict() == {"a": 1.0, "b": 1.0, "c": 2.0, "d": 1.0}
    # netted: -200 (a), -500 (b), -120 and -30 (c); not netted: -200 (b), -10 (c), -80 (d)
    assert summary["cancellations"] == {"rule": "net", "matched": 4, "unmatched": 1, "revenue_netted": -850.0,
                                        "revenue_not_netted": -290.0}
    assert summary["dropped"]["unmatched_refund"] == 1 and summary["rows_out"] == 9


def test_nothing_to_net_reads_zero_not_nan():
    """A run without a cancellation nets 0.00 (a sum over no line is NaN in SQL; the console printed 'revenue nan')."""
    _, summary = run([("a", "1", "p1", "3", "2.5", "2023-01-01"), ("b", "2", "p1", "1", "4", "2023-01-02")])
    assert summary["cancellations"] == {"rule": "net", "matched": 0, "unmatched": 0, "revenue_netted": 0.0,
                                        "revenue_not_netted": 0.0}
