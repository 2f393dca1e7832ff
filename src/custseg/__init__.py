"""custseg: customer segmentation from CRM sales data.

>>> from custseg import segment
>>> result = segment("sales.xlsx", preset="salesforce-cpq")  # doctest: +SKIP
"""

from ._prep._clean import CleaningRules
from ._cluster._segmenter import Segmenter
from ._config._columns import PRESETS, ColumnMapping, preset
from ._config._run import RunConfig
from ._errors import CustsegError, DataError, NotFittedError, UsageError
from ._prep._features import DEFAULT_FEATURES, FEATURES
from ._outputs import write_run
from ._workflows._segment import segment
from ._engines._read import ReadOptions
from ._result import SegmentationResult
from ._cluster._scale import Scaler

__all__ = [
    "CleaningRules",
    "ColumnMapping",
    "CustsegError",
    "DataError",
    "DEFAULT_FEATURES",
    "FEATURES",
    "NotFittedError",
    "PRESETS",
    "ReadOptions",
    "RunConfig",
    "Scaler",
    "Segmenter",
    "SegmentationResult",
    "UsageError",
    "preset",
    "segment",
    "write_run",
]
