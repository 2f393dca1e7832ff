"""Level words of a segment on a feature: where its median stands among all customers, when the deviation is real.

>>> level_of(0.1), level_of(0.5), level_of(0.95)
('very low', 'average', 'very high')
"""

from __future__ import annotations

import numpy as np

from .. import _schema as S

LEVEL_CUTS = (0.2, 0.4, 0.6, 0.8)
SIGNIFICANCE = 0.05  # p-value under which a deviation names a segment


def level_of(percentile: float) -> str:
    """Level word of a 0..1 percentile."""
    return S.LEVELS[int(np.searchsorted(LEVEL_CUTS, percentile, side="right"))]


def percentile_of(values: np.ndarray, point: float) -> float:
    """Mid-rank percentile of `point` among `values` (ties count half).

    >>> percentile_of(np.array([1.0, 2.0, 3.0, 4.0]), 3.0)
    0.625
    """
    return float(np.mean(values < point) + 0.5 * np.mean(values == point))


def segment_level(values: np.ndarray, median: float, pvalue: float) -> str:
    """The level of a segment whose median is `median` among all customers' `values`: the
    median's percentile word when the v-test's p-value is below SIGNIFICANCE, else "average"."""
    level = level_of(percentile_of(values, median))
    return level if pvalue < SIGNIFICANCE else "average"
