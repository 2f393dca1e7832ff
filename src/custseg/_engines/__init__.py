"""Engines: the only place that imports DuckDB or PySpark. Connect, read, memory limits, engine errors.

Names load on first use, so that the command line can start parsing a workbook (`_xlsx`)
before DuckDB and ibis are imported.
"""

from .._lazy import lazy_names

_LAZY = {
    "backend_name": "._connect",
    "connect": "._connect",
    "duckdb_column": "._connect",
    "engine_failures": "._connect",
    "engine_record": "._connect",
    "open_input": "._connect",
    "parse_timestamp": "._connect",
    "describe_engine_error": "._limits",
    "engine_errors": "._limits",
    "input_name": "._limits",
    "shrink_after_preparation": "._limits",
    "Source": "._read",
    "file_sha256": "._read",
    "input_kind": "._read",
}
__all__ = sorted(_LAZY)
__getattr__, __dir__ = lazy_names(__name__, _LAZY)
