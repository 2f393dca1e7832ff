"""custseg: customer segmentation from CRM sales data.

>>> from custseg import segment
>>> result = segment("sales.xlsx", preset="salesforce-cpq")  # doctest: +SKIP
"""

from ._clean import CleaningRules
from ._cluster import Segmenter
from ._columns import PRESETS, ColumnMapping, preset
from ._config import RunConfig
from ._errors import CustsegError, DataError, NotFittedError, UsageError
from ._features import DEFAULT_FEATURES, FEATURES
from ._outputs import write_run
from ._pipeline import segment
from ._read import ReadOptions
from ._result import SegmentationResult
from ._scale import Scaler

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
