"""Engines: the only place that imports DuckDB or PySpark. Connect, read, memory limits, engine errors."""

from ._connect import backend_name, connect, engine_record, open_input, parse_timestamp
from ._limits import describe_engine_error, engine_errors
from ._read import Source, file_sha256, input_kind

__all__ = ["Source", "backend_name", "connect", "describe_engine_error", "engine_errors", "engine_record",
           "file_sha256", "input_kind", "open_input", "parse_timestamp"]
