"""Resource limits and engine failures: DuckDB's memory cap and spill folder; engine errors as one line.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path

from .._config._options import check_memory_limit
from .._errors import DataError

MEMORY_ENV = "CUSTSEG_MAX_MEMORY"
TEMP_ENV = "CUSTSEG_TEMP_DIR"


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def configure_engine(con, config) -> None:
    """Apply `config.max_memory` (or $CUSTSEG_MAX_MEMORY) and a spill folder to a DuckDB connection.

    DuckDB spills to `config.temp_directory` (or $CUSTSEG_TEMP_DIR, default: its own
    `.tmp` beside the database, i.e. the system temp folder for in-memory connections).
    """
    limit = getattr(config, "max_memory", None) or os.environ.get(MEMORY_ENV)
    if limit:
        con.raw_sql(f"SET memory_limit = {_sql_text(check_memory_limit(limit))}")
    temp = getattr(config, "temp_directory", None) or os.environ.get(TEMP_ENV)
    if temp or limit:
        import tempfile

        folder = Path(temp) if temp else Path(tempfile.gettempdir()) / f"custseg-spill-{os.getpid()}"
        con.raw_sql(f"SET temp_directory = {_sql_text(str(folder))}")


def describe_engine_error(exc: BaseException) -> str:
    """The useful part of an engine message: its first line, plus the cause for CSV errors."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    text = lines[0]
    if text.startswith("Invalid Input Error: CSV Error on Line"):
        detail = next((line for line in lines[1:] if not line.startswith(("Original Line", "Possible Solution"))), "")
        text = f"{text.removeprefix('Invalid Input Error: ')}: {detail}".rstrip(": ")
    if "Out of Memory" in text or "out of memory" in text.lower():
        text += " (raise --max-memory, or free memory)"
    return text


def _input_name(data) -> str:
    return str(data) if isinstance(data, str | os.PathLike) else type(data).__name__


def engine_errors(func: Callable) -> Callable:
    """Decorate a stage taking the input first: engine failures become a DataError naming the input."""
    import duckdb

    @functools.wraps(func)
    def guarded(data, *args, **kwargs):
        try:
            return func(data, *args, **kwargs)
        except duckdb.Error as exc:
            raise DataError(f"{_input_name(data)}: {describe_engine_error(exc)}") from None
        except MemoryError:
            raise DataError(f"{_input_name(data)}: out of memory (raise --max-memory, or free memory)") from None

    return guarded
