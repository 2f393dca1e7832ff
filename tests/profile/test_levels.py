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


@pytest.mark.parametrize(("percentile", "pvalue", "vtest", "level"), [
    (0.70, 0.01, 2.6, "high"),        # significant, out of the middle band: its band
    (0.70, 0.20, 1.3, "average"),     # neither significant nor extreme
    (0.55, 1e-9, 6.1, "average"),     # significant but a tiny effect: the median stays in the middle band
    (0.96, 0.20, 1.3, "very high"),   # extreme: from the 95th percentile, whatever the p-value
    (0.949, 0.20, 1.3, "average"),    # just inside the tails
    (0.04, 0.50, -0.7, "very low"),   # extreme low
    (0.15, 0.01, -2.6, "very low"),
    (0.65, 1e-9, -20.1, "average"),   # a "high" median but the segment is below the others: no word
    (0.30, 1e-9, 8.0, "average"),     # a "low" median but the segment is above the others
    (0.98, 0.50, -0.7, "average"),    # extreme, against the v-test
])
def test_a_level_needs_significance_or_an_extreme_effect_in_the_v_tests_direction(percentile, pvalue, vtest, level):
    assert segment_level(percentile, pvalue, vtest) == level


def test_a_value_most_customers_share_is_high_only_for_segments_above_the_others():
    # cc_general's BALANCE_FREQUENCY: most customers at 1.0, so every segment's median is 1.0, at the same
    # mid-rank percentile (0.65 here); the segments with fewer 1.0s are below the others, not "high"
    values = np.r_[np.ones(650), np.linspace(0.1, 0.9, 350)]
    labels = np.r_[np.zeros(400, int), np.ones(250, int), np.ones(350, int)]  # segment 1 has every value below 1
    labels[:100], labels[650:700] = 1, 0  # segment 0: 300 ones, 50 others; segment 1: 350 ones, 300 others
    v, p = vtests(values[:, None], labels, 2)
    medians = [np.median(values[labels == s]) for s in (0, 1)]
    assert medians == [1.0, 1.0] and percentile_of(values, 1.0) == pytest.approx(0.675)
    assert v[0, 0] > 2 > -2 > v[1, 0] and p.max() < 0.05
    assert [segment_level(percentile_of(values, 1.0), p[s, 0], v[s, 0]) for s in (0, 1)] == ["high", "average"]


def test_a_single_whale_is_named_for_what_it_is():
    # one account of 200 with the largest spend: its rank v-test cannot reach p < 0.05 ...
    spend = np.r_[np.linspace(100, 2_000, 199), 500_000.0]
    labels = np.r_[np.zeros(199, int), 1]
    v, p = vtests(spend[:, None], labels, 2)
    # rank 200 against a mean rank of 100.5, the ranks' standard deviation sqrt((200² - 1) / 12)
    assert v[1, 0] == pytest.approx((200 - 100.5) / np.sqrt((200**2 - 1) / 12)) == pytest.approx(1.7235, abs=1e-4)
    assert p[1, 0] > 0.05
    # ... yet its median is above every other customer: "very high", not "average"
    assert segment_level(percentile_of(spend, 500_000.0), p[1, 0], v[1, 0]) == "very high"
    # the 199 others: median at the 50th percentile, "average" whatever their p-value
    assert segment_level(percentile_of(spend, np.median(spend[:199])), p[0, 0], v[0, 0]) == "average"
