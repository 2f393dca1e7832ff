"""custseg: customer segmentation from CRM sales data.

The public API is `__all__`. Settings and errors load at once; the workflows (and the
heavy libraries they need: scikit-learn, ibis, DuckDB, Plotly) load on first use, so the
command line starts fast.

>>> from custseg import segment
>>> result = segment("sales.xlsx", preset="salesforce-cpq")  # doctest: +SKIP
"""

from importlib.metadata import version as _installed_version

from ._config import (DEFAULT_FEATURES, PRESETS, CleaningRules, ColumnMapping, ReadOptions, RunConfig,
                      build_run_config, preset)
from ._errors import CustsegError, DataError, EngineError, NotFittedError, UsageError
from ._lazy import lazy_names

__version__ = _installed_version("custseg")

_LAZY = {
    "segment": "._workflows._segment",
    "score": "._workflows._cycle",
    "refresh": "._workflows._cycle",
    "rfm": "._workflows._rfm",
    "compare_methods": "._workflows._compare",
    "migration": "._workflows._migration",
    "list_runs": "._workflows._runs",
    "run_demo": "._workflows._demo",
    "review": "._workflows._review",
    "write_run": "._outputs",
    "write_rfm": "._outputs",
    "write_comparison": "._outputs",
    "write_migration": "._outputs",
    "render_report": "._report",
    "write_report": "._report",
    "SegmentationResult": "._result",
    "Segmenter": "._cluster",
    "Scaler": "._cluster",
    "FEATURES": "._prep",
}

__all__ = [
    "CleaningRules",
    "ColumnMapping",
    "CustsegError",
    "DataError",
    "DEFAULT_FEATURES",
    "EngineError",
    "NotFittedError",
    "PRESETS",
    "ReadOptions",
    "RunConfig",
    "UsageError",
    "build_run_config",
    "preset",
    *_LAZY,
]

__getattr__, __dir__ = lazy_names(__name__, _LAZY)
