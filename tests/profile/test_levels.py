"""Level words: the median's percentile band, kept when the deviation is significant or extreme."""

import numpy as np
import pytest

from custseg._profile import level_of, segment_level, vtests
from custseg._profile._levels import percentile_of


def test_levels_cover_the_percentiles():
    assert [level_of(p) for p in (0.0, 0.19, 0.2, 0.5, 0.79, 0.8, 1.0)] == [
        "very low", "very low", "low", "average", "high", "very high", "very high"]


def test_percentile_counts_ties_half():
    # 2 of 5 values below 3, 2 equal: (2 + 0.5 * 2) / 5
    assert percentile_of(np.array([1.0, 2.0, 3.0, 3.0, 9.0]), 3.0) == pytest.approx(0.6)


@pytest.mark.parametrize(("percentile", "pvalue", "level"), [
    (0.70, 0.01, "high"),        # significant, out of the middle band: its band
    (0.70, 0.20, "average"),     # neither significant nor extreme
    (0.55, 1e-9, "average"),     # significant but a tiny effect: the median stays in the middle band
    (0.96, 0.20, "very high"),   # extreme: from the 95th percentile, whatever the p-value
    (0.949, 0.20, "average"),    # just inside the tails
    (0.04, 0.50, "very low"),    # extreme low
    (0.15, 0.01, "very low"),
])
def test_a_level_needs_significance_or_an_extreme_effect(percentile, pvalue, level):
    assert segment_level(percentile, pvalue) == level


def test_a_single_whale_is_named_for_what_it_is():
    # one account of 200 with the largest spend: its rank v-test cannot reach p < 0.05 ...
    spend = np.r_[np.linspace(100, 2_000, 199), 500_000.0]
    labels = np.r_[np.zeros(199, int), 1]
    v, p = vtests(spend[:, None], labels, 2)
    # rank 200 against a mean rank of 100.5, the ranks' standard deviation sqrt((200² - 1) / 12)
    assert v[1, 0] == pytest.approx((200 - 100.5) / np.sqrt((200**2 - 1) / 12)) == pytest.approx(1.7235, abs=1e-4)
    assert p[1, 0] > 0.05
    # ... yet its median is above every other customer: "very high", not "average"
    assert segment_level(percentile_of(spend, 500_000.0), p[1, 0]) == "very high"
    # the 199 others: median at the 50th percentile, "average" whatever their p-value
    assert segment_level(percentile_of(spend, np.median(spend[:199])), p[0, 0]) == "average"
