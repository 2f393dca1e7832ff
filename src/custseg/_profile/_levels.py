"""Level words of a segment on a feature: where its median stands among all customers, when the deviation is real.

The word is the band of the segment median's percentile among all customers (LEVEL_CUTS:
below 20% "very low", 40% "low", 60% "average", 80% "high", else "very high"). It is kept
when the deviation is real, in significance or in effect:

- significance: the v-test's p-value is below SIGNIFICANCE (0.05);
- effect: the median lies in the outer tails (below the 5th or from the 95th percentile,
  EXTREME). A segment of one account can never reach p < 0.05 on ranks (its v-test is
  at most about 1.7), yet an account above 95% of all customers is "very high".

A significant deviation whose median stays in the middle band (40% to 60%) is "average":
with thousands of customers, p < 0.05 comes with effects too small to name. A word must
also agree with the v-test's direction ("high"/"very high" need v > 0, "low"/"very low"
v < 0), else it is "average": when most customers share one value (69% of credit-card
holders have a balance frequency of exactly 1), every segment's median is that value at
the same mid-rank percentile, and a segment below the others on average is not "high".

>>> segment_level(0.99, 0.4, 1.7), segment_level(0.7, 0.4, 0.9), segment_level(0.7, 0.01, 3.0)
('very high', 'average', 'high')
>>> segment_level(0.45, 0.001, -4.0), segment_level(0.65, 1e-9, -20.1)
('average', 'average')
"""

from __future__ import annotations

import numpy as np

from .. import _schema as S

LEVEL_CUTS = (0.2, 0.4, 0.6, 0.8)
SIGNIFICANCE = 0.05  # p-value under which a deviation names a segment
EXTREME = (0.05, 0.95)  # percentiles beyond which a segment's median is named whatever its size
_SIDE = {"very low": -1, "low": -1, "average": 0, "high": 1, "very high": 1}  # the v-test's sign each word needs


def level_of(percentile: float) -> str:
    """Level word of a 0..1 percentile.

    >>> level_of(0.1), level_of(0.5), level_of(0.95)
    ('very low', 'average', 'very high')
    """
    return S.LEVELS[int(np.searchsorted(LEVEL_CUTS, percentile, side="right"))]


def percentile_of(values: np.ndarray, point: float) -> float:
    """Mid-rank percentile of `point` among `values` (ties count half).

    >>> percentile_of(np.array([1.0, 2.0, 3.0, 4.0]), 3.0)
    0.625
    """
    return float(np.mean(values < point) + 0.5 * np.mean(values == point))


def is_extreme(percentile: float) -> bool:
    """Whether a percentile lies in the outer tails that name a segment without significance."""
    return percentile < EXTREME[0] or percentile >= EXTREME[1]


def segment_level(percentile: float, pvalue: float, vtest: float) -> str:
    """The level of a segment whose median is at `percentile` among all customers, its v-test `vtest` (p-value `pvalue`)."""
    word = level_of(percentile)
    agrees = np.sign(vtest) == _SIDE[word]
    return word if agrees and (pvalue < SIGNIFICANCE or is_extreme(percentile)) else "average"
