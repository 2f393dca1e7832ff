"""Issue 21 item 2: CPQ amendments summed with their sign (`cancellations="signed"`), values computed by hand."""

from __future__ import annotations

import pandas as pd
import pytest
from test_netting import LINES, run

from custseg import ColumnMapping, segment
from custseg._cli._support import summary_lines

SIGNED = LINES.with_overrides(cancellations="signed")


def test_an_amendment_counts_in_revenue_and_units_not_as_an_order():
    customers, summary = run([
        ("A", "1", "seat", "10", "100", "2023-01-01"),   # 10 seats at 100: 1,000
        ("A", "2", "seat", "-4", "50", "2023-06-01"),    # amendment: 4 seats fewer at a prorated 50: -200
        ("B", "3", "seat", "2", "100", "2023-01-01"),
        ("B", "4", "seat", "-5", "100", "2023-02-01"),   # B's total 200 - 500 = -300: B dropped, both lines
        ("C", "5", "seat", "-1", "30", "2023-01-01"),    # amendments only: C dropped
        ("D", "6", "seat", "3", "20", "2023-01-01"),
    ], SIGNED)
    # A: 10 x 100 - 4 x 50 = 800 (not 1,000: dropped, nor 1,000: unmatched by netting); 1 order, 6 seats
    assert customers.loc["A"].to_dict() == {"TotalSales": 800.0, "OrderCount": 1.0, "LineCount": 1.0, "Units": 6.0,
                                            "TopProduct": "seat"}
    assert customers.index.tolist() == ["A", "D"] and customers.loc["D", "TotalSales"] == 60.0
    assert summary["cancellations"] == {"rule": "signed", "amendments": 1, "revenue": -200.0, "customers_dropped": 2}
    assert summary["dropped"]["negative_customer"] == 3 and summary["rows_out"] == 3
    assert summary["rules"]["negative_customer"].startswith("line of a customer whose signed total is negative")
    assert ("  cancellations summed signed: 1 amendment line(s) (negative quantity) kept in revenue and units, not as "
            "orders (revenue -200.00); 2 customer(s) with a negative total or amendments only dropped") in summary_lines(summary)


def test_signed_refunds_given_as_amounts_are_summed():
    mapping = ColumnMapping(customer="cust", order="inv", amount="amount", date="day", date_format="%Y-%m-%d",
                            cancellations="signed")
    customers, summary = run([("a", "1", "500", "2023-01-01"), ("a", "R1", "-200", "2023-02-01"),
                              ("b", "2", "300", "2023-01-01")], mapping)
    assert customers["TotalSales"].to_dict() == {"a": 300.0, "b": 300.0} and customers.loc["a", "OrderCount"] == 1.0
    assert summary["cancellations"] == {"rule": "signed", "amendments": 1, "revenue": -200.0, "customers_dropped": 0}


def test_the_issue_example_through_segment():
    rows = [(f"c{i}", f"L{i}", "seat", str(1 + i % 5), str(20 * (1 + i)), "01/01/2023") for i in range(12)]
    rows += [("A", "LA1", "seat", "10", "100", "01/01/2023"), ("A", "LA2", "seat", "-4", "50", "01/06/2023")]
    frame = pd.DataFrame(rows, columns=["acct", "line", "sku", "qty", "price", "day"])
    mapping = ColumnMapping(customer="acct", order="line", product="sku", quantity="qty", price="price", date="day",
                            date_format="%d/%m/%Y", cancellations="signed")
    result = segment(frame, mapping=mapping, k=2)
    spend = result.assignments.set_index("customer_id")["TotalSales"]
    assert spend["A"] == 800.0 and spend["c3"] == 4 * 80.0
    assert result.cleaning["cancellations"] == {"rule": "signed", "amendments": 1, "revenue": -200.0,
                                                "customers_dropped": 0}
    dropped = segment(frame, mapping=mapping.with_overrides(cancellations="drop"), k=2)
    assert dropped.assignments.set_index("customer_id").loc["A", "TotalSales"] == 1000.0


@pytest.mark.parametrize("rule, total", [("signed", 800.0), ("drop", 1000.0)])
def test_each_rule_reads_the_amendment_its_way(rule, total):
    rows = [("A", "1", "seat", "10", "100", "2023-01-01"), ("A", "2", "seat", "-4", "50", "2023-06-01")]
    customers, summary = run(rows, LINES.with_overrides(cancellations=rule))
    assert customers.loc["A", "TotalSales"] == total and summary["cancellations"]["rule"] == rule
