"""--as-of before the last line: later lines dropped and counted, recency from as_of, RFM on the same cut."""

import datetime as dtm
import json

import pandas as pd
import pytest
from typer.testing import CliRunner

import custseg
from custseg import ColumnMapping
from custseg._cli._support import summary_lines
from custseg._errors import DataError
from custseg.cli import app

AS_OF = dtm.date(2024, 7, 1)
MAPPING = ColumnMapping(customer="customer", order="order", date="date", quantity="quantity", price="price")
# customer, order, day, quantity, price
LINES = [
    ("a", "o1", "2024-01-10", 1, 10.0),
    ("a", "o2", "2024-06-30", 1, 20.0),
    ("a", "o3", "2024-09-01", 1, 40.0),   # after as_of
    ("b", "o4", "2024-03-01", 2, 5.0),
    ("b", "o5", "2024-07-01", 1, 100.0),  # on as_of: after the period
    ("c", "o6", "2024-05-15", 1, 50.0),
    ("c", "o7", "2024-12-20", 1, 60.0),   # after as_of
    ("d", "o8", "2024-08-05", 1, 70.0),   # d buys only in August: gone
    ("d", "o9", "2024-08-20", 1, 80.0),
    ("e", "o10", "2024-02-01", 1, 5.0),
]
# by hand, from 2024-07-01: a last 06-30 (1 day), first 01-10 (21+29+31+30+31+30 + 1 = 173 days);
# b last and first 03-01 (31+30+31+30 = 122); c 05-15 (16+30+1 = 47); e 02-01 (28+31+30+31+30+1 = 151)
EXPECTED = pd.DataFrame({"RecencyDays": [1.0, 122.0, 47.0, 151.0], "TenureDays": [173.0, 122.0, 47.0, 151.0],
                         "OrderCount": [2.0, 1.0, 1.0, 1.0], "TotalSales": [30.0, 10.0, 50.0, 5.0]},
                        index=pd.Index(["a", "b", "c", "e"], name="customer"))


def frame(rows=LINES) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=["customer", "order", "date", "quantity", "price"])
    out["date"] = pd.to_datetime(out["date"])
    return out


def test_segment_drops_and_counts_the_lines_on_or_after_as_of():
    result = custseg.segment(frame(), mapping=MAPPING, as_of=AS_OF, k=2,
                             features=["RecencyDays", "TenureDays", "OrderCount", "TotalSales"])
    cleaning = result.cleaning
    assert cleaning["dropped"]["after_as_of"] == 5 and cleaning["rows_out"] == 5
    assert cleaning["customers_in"] == 5 and cleaning["customers_kept"] == 4 and cleaning["customers_after_as_of"] == 1
    assert cleaning["as_of"] == "2024-07-01" and cleaning["date_max"] == "2024-06-30"
    printed = summary_lines(cleaning)
    assert "  dropped 5 line(s): dated on or after the as-of day (--as-of): after the period analysed" in printed
    assert "  1 customer(s) left out: every line on or after the as-of day 2024-07-01" in printed
    customers = result.assignments.set_index("customer_id").rename_axis("customer")
    pd.testing.assert_frame_equal(customers[EXPECTED.columns], EXPECTED, check_dtype=False)


def test_default_as_of_drops_nothing():
    result = custseg.rfm(frame(), mapping=MAPPING)
    assert result.cleaning["as_of"] == "2024-12-21" and "after_as_of" not in result.cleaning["dropped"]
    assert "customers_after_as_of" not in result.cleaning
    assert result.customers["RecencyDays"].min() == 1.0


def test_rfm_scores_use_the_same_cut():
    cut = custseg.rfm(frame(), mapping=MAPPING, as_of=AS_OF)
    by_hand = custseg.rfm(frame([row for row in LINES if row[2] < "2024-07-01"]), mapping=MAPPING, as_of=AS_OF)
    assert cut.cleaning["dropped"]["after_as_of"] == 5 and by_hand.cleaning["dropped"]["after_as_of"] == 0
    got = cut.customers.set_index("customer")
    pd.testing.assert_frame_equal(got[["RecencyDays", "OrderCount", "TotalSales"]],
                                  EXPECTED[["RecencyDays", "OrderCount", "TotalSales"]], check_dtype=False)
    pd.testing.assert_frame_equal(cut.customers, by_hand.customers)


def test_as_of_before_every_line_stops_in_one_line():
    with pytest.raises(DataError, match=r"^\S+: all 10 lines were filtered out \(dated on or after the as-of day "
                                        r"\(--as-of\): after the period analysed: 10\)$"):
        custseg.segment(frame(), mapping=MAPPING, as_of=dtm.date(2024, 1, 10))


def test_a_cancellation_after_as_of_is_cut_not_netted():
    # a returns its 06-30 purchase on 07-10: at 2024-07-01 the purchase stands (a's sales 30, not 10)
    cut = custseg.rfm(frame(LINES + [("a", "o11", "2024-07-10", -1, 20.0)]), mapping=MAPPING, as_of=AS_OF)
    assert cut.cleaning["dropped"]["after_as_of"] == 6 and cut.cleaning["cancellations"]["matched"] == 0
    assert cut.customers.set_index("customer").loc["a", "TotalSales"] == 30.0


def test_run_prints_and_records_the_cut(tmp_path):
    path = tmp_path / "lines.csv"
    frame().to_csv(path, index=False, date_format="%Y-%m-%d")
    result = CliRunner().invoke(app, ["run", str(path), "--customer", "customer", "--order", "order", "--date", "date",
                                      "--quantity", "quantity", "--price", "price", "--as-of", "2024-07-01", "--k", "2",
                                      "-o", str(tmp_path / "out"), "--no-report"])
    assert result.exit_code == 0, result.output
    assert "dropped 5 line(s): dated on or after the as-of day (--as-of): after the period analysed" in result.output
    assert "1 customer(s) left out: every line on or after the as-of day 2024-07-01" in result.output
    cleaning = json.loads((tmp_path / "out" / "cleaning.json").read_text())
    assert cleaning["dropped"]["after_as_of"] == 5 and cleaning["customers_after_as_of"] == 1
    assert cleaning["rules"]["after_as_of"] == "dated on or after the as-of day (--as-of): after the period analysed"
    for command, model in (("score", "--model"), ("refresh", "--previous")):
        again = CliRunner().invoke(app, [command, str(path), model, str(tmp_path / "out"), "--as-of", "2024-07-01",
                                         "-o", str(tmp_path / command), "--no-report"])
        assert again.exit_code == 0, again.output
        assert json.loads((tmp_path / command / "cleaning.json").read_text())["dropped"]["after_as_of"] == 5


def test_score_and_refresh_apply_the_same_cut():
    features = ["RecencyDays", "TenureDays", "OrderCount", "TotalSales"]
    model = custseg.segment(frame(), mapping=MAPPING, as_of=AS_OF, k=2, features=features).model
    for result in (custseg.score(frame(), model, as_of=AS_OF), custseg.refresh(frame(), model, as_of="2024-07-01", k=2)):
        assert result.cleaning["dropped"]["after_as_of"] == 5 and result.cleaning["customers_after_as_of"] == 1
        customers = result.assignments.set_index("customer_id").rename_axis("customer")
        pd.testing.assert_frame_equal(customers[features], EXPECTED[features], check_dtype=False)
