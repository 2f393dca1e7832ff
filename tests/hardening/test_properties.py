"""Property-based tests of reading + cleaning + features (hypothesis).

For arbitrary small tables of sales lines (as text, the way files are read): features do not
depend on row order, TotalSales is the sum of the kept lines, every kept customer appears
exactly once, and nothing but custseg's own errors escapes.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custseg._prep._clean import MAX_MISSING_CUSTOMER_SHARE
from custseg._config._columns import ColumnMapping
from custseg._config._run import RunConfig
from custseg._errors import CustsegError
from custseg._workflows._segment import prepare

# The oracle below keeps the lines of the study's rule (every quantity <= 0 dropped), so the mapping says so:
# under the default "net", a -1 line of the same size as an earlier purchase nets it (tests/prep/test_netting.py).
MAPPING = ColumnMapping(customer="cust", order="inv", quantity="qty", price="price", date="day", date_format="%d/%m/%Y",
                        cancellations="drop")
CONFIG = RunConfig(mapping=MAPPING, features=("TotalSales", "OrderCount", "AvgOrderValue", "LineCount", "Units", "RecencyDays"))
CUSTOMERS = ["a", "b", " b", "c", "d", "=cmd|' /C calc'!A0", "é", "", "  ", "0042", "42"]
QUANTITIES = ["1", "2", "3", "0", "-1", "", "nan", "2.5", "10"]
PRICES = ["5", "12.25", "0", "-3", "", "inf", "NaN", "1000", "0.01", "99.99"]
DAYS = ["01/01/2020", "15/06/2020", "2020-03-01", "31/12/2019", ""]

line = st.tuples(st.sampled_from(CUSTOMERS), st.sampled_from(["o1", "o2", "o3", "o4"]), st.sampled_from(QUANTITIES),
                 st.sampled_from(PRICES), st.sampled_from(DAYS))
tables = st.lists(line, min_size=0, max_size=40)


def frame_of(rows) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=["cust", "inv", "qty", "price", "day"], dtype=object)


def number(text: str) -> float | None:
    text = text.strip()
    return float(text) if text else None


def expected_lines(rows) -> list[tuple]:
    """The kept lines, by the documented rules, computed in plain Python."""
    kept = set()
    for cust, inv, qty, price, day in rows:
        cust, q, p = cust.strip(), number(qty), number(price)
        if not cust or q is None or math.isnan(q) or q <= 0:
            continue
        if p is None or not math.isfinite(p) or p < 0 or not day:
            continue
        kept.add((cust, inv, q, p, day))
    return sorted(kept)


def grouped_report(rows) -> bool:
    """The layout of a report grouped by customer (docs/errors.md, Decisions): at least two lines without a
    customer while no customer is on two lines; read only with --fill-down, so it stops."""
    named = [cust.strip() for cust, *_ in rows if cust.strip()]
    return len(rows) - len(named) >= 2 and len(named) == len(set(named))


def run(rows) -> pd.DataFrame | CustsegError:
    try:
        return prepare(frame_of(rows), CONFIG).customers
    except CustsegError as exc:  # anything else fails the test
        return exc


ROW = re.compile(r"data row [0-9]+")
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(rows=tables, order=st.randoms(use_true_random=False))
def test_features_follow_the_rules_and_ignore_row_order(rows, order):
    result = run(rows)
    shuffled = list(rows)
    order.shuffle(shuffled)
    again = run(shuffled)
    assert (isinstance(result, CustsegError) and "report grouped by customer" in str(result)) == grouped_report(rows)
    if isinstance(result, CustsegError):  # the same error, but its first data row follows the order
        assert isinstance(again, CustsegError) and ROW.sub("", str(again)) == ROW.sub("", str(result))
        return
    kept = expected_lines(rows)
    customers = sorted({line[0] for line in kept})
    assert result["customer"].tolist() == customers  # each kept customer exactly once, sorted
    totals = {c: sum(q * p for cust, _, q, p, _ in kept if cust == c) for c in customers}
    np.testing.assert_allclose(result["TotalSales"].to_numpy(), [totals[c] for c in customers], rtol=1e-9)
    lines = {c: sum(1 for line in kept if line[0] == c) for c in customers}
    assert result["LineCount"].tolist() == [lines[c] for c in customers]
    pd.testing.assert_frame_equal(result.reset_index(drop=True), again.reset_index(drop=True), check_exact=False, rtol=1e-12)


@SETTINGS
@given(rows=tables)
def test_only_custseg_errors_escape_and_they_say_why(rows):
    result = run(rows)
    if isinstance(result, CustsegError):
        text = str(result)
        assert "\n" not in text and text
        kept = expected_lines(rows)
        missing = sum(1 for r in rows if not r[0].strip())
        assert (not rows or not kept or len({k[0] for k in kept}) < 3 or missing > len(rows) * MAX_MISSING_CUSTOMER_SHARE
                or "distinct" in text or grouped_report(rows)), text


texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)


@SETTINGS
@given(rows=st.lists(st.tuples(texts, texts, texts, texts, texts), max_size=25))
def test_arbitrary_text_in_every_column_gives_a_result_or_a_custseg_error(rows):
    result = run(rows)
    if not isinstance(result, CustsegError):
        assert result["customer"].is_unique
        assert np.isfinite(result["TotalSales"]).all()
