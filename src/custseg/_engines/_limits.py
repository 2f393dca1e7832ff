"""DuckDB's settings (progress bar, threads, memory cap, spill folder) and engine failures as one line.

A failure is blamed on the input only when it can come from the input: a setting DuckDB
refuses, or a failure of the engine's own (internal, binder, parser errors), is an
`EngineError` that does not name the input.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path

from .._config._options import check_memory_limit
from .._config._resources import cpu_count, memory_limit_bytes, physical_memory_bytes
from .._errors import DataError, EngineError

MEMORY_ENV = "CUSTSEG_MAX_MEMORY"
TEMP_ENV = "CUSTSEG_TEMP_DIR"
CGROUP_MEMORY_SHARE = 0.6  # of a cgroup memory limit for DuckDB; the rest for Python (customer table, K-means)
MACHINE_MEMORY_SHARE = 0.25  # of the machine's memory without a cgroup limit (DuckDB's own default, 80%, took
# 19 GB of a 24 GB machine at 300M lines); DuckDB spills beyond it
AFTER_PREPARATION_SHARE = 1 / 8  # of that limit once the features are in Python (at least MIN_AFTER_PREPARATION)
MIN_AFTER_PREPARATION = 256 * 2**20
SIZE_UNITS = {"bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}  # as DuckDB prints a size


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _setting(con, name: str):
    return con.raw_sql(f"SELECT current_setting({_sql_text(name)})").fetchone()[0]


def _set(con, name: str, value: str) -> None:
    """SET one DuckDB setting; a refusal is an EngineError naming the setting, not the input."""
    import duckdb

    try:
        con.raw_sql(f"SET {name} = {value}")
    except duckdb.Error as exc:
        raise EngineError(f"DuckDB refused SET {name} = {value}: {describe_engine_error(exc)} "
                          "(an engine setting, not a problem of the input)") from None


def configure_engine(con, config) -> None:
    """Progress bar, threads, memory cap and spill folder of a DuckDB connection.

    The progress bar is turned off where it is on (a terminal, where it would draw over the
    command line's own). DuckDB starts with it off in a Jupyter kernel, and there it refuses
    any change to it unless ipywidgets is installed, so it is left alone.

    Threads: the CPUs this process may use (affinity and cgroup quota, `_resources`), not
    the host's. Memory: `config.max_memory`, else $CUSTSEG_MAX_MEMORY, else 60% of the
    cgroup's memory limit when there is one, else 25% of the machine's memory (DuckDB's own
    default, 80%, leaves nothing for the rest of the run or the machine).
    DuckDB spills to `config.temp_directory` (or $CUSTSEG_TEMP_DIR, default: a folder in
    the system temp folder) when a limit is set.
    """
    if _setting(con, "enable_progress_bar"):
        _set(con, "enable_progress_bar", "false")
    _set(con, "threads", str(cpu_count()))
    limit = getattr(config, "max_memory", None) or os.environ.get(MEMORY_ENV)
    if not limit:
        cgroup = memory_limit_bytes()
        total, share = (cgroup, CGROUP_MEMORY_SHARE) if cgroup else (physical_memory_bytes(), MACHINE_MEMORY_SHARE)
        limit = f"{int(total * share) // 2**20}MiB" if total else None
    if limit:
        _set(con, "memory_limit", _sql_text(check_memory_limit(limit)))
    temp = temp_folder(config)
    if temp or limit:
        import tempfile

        folder = Path(temp) if temp else Path(tempfile.gettempdir()) / f"custseg-spill-{os.getpid()}"
        _set(con, "temp_directory", _sql_text(str(folder)))


def shrink_after_preparation(con) -> None:
    """Lower a DuckDB connection's memory limit to `AFTER_PREPARATION_SHARE` of its own once the customers' features
    are in Python: DuckDB then moves the tables it holds (the (customer, product) revenues, 126M rows at 300M lines)
    to its spill folder, and the customer table, the scaling, K-means and the profiles have that memory. Its
    remaining work (the segments' top products: a join to one row per customer) runs within the lower limit,
    spilling. Left as it is on Spark, without a limit, and where DuckDB cannot free enough (it keeps what it holds).
    """
    import duckdb

    if con.name != "duckdb":
        return
    limit = _setting(con, "memory_limit")
    number, _, unit = str(limit).partition(" ")
    if unit not in SIZE_UNITS:  # no limit set: DuckDB shows its largest size, in PiB
        return
    limit_bytes = float(number) * SIZE_UNITS[unit]
    lower = int(max(limit_bytes * AFTER_PREPARATION_SHARE, min(limit_bytes, MIN_AFTER_PREPARATION)))
    try:
        con.raw_sql(f"SET memory_limit = '{lower // 2**20}MiB'")
    except duckdb.Error:  # a held block it cannot write out: the limit stays, the run goes on
        return


def temp_folder(config) -> str | None:
    """Where custseg's temporary files go: `config.temp_directory`, else $CUSTSEG_TEMP_DIR (None: the system's)."""
    return getattr(config, "temp_directory", None) or os.environ.get(TEMP_ENV)


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


def input_name(data) -> str:
    """The input as messages name it: as given; several joined with ' + ' (as `_read.several_files` names them)."""
    if isinstance(data, list | tuple):
        return " + ".join(map(input_name, data))
    return str(data) if isinstance(data, str | os.PathLike) else type(data).__name__


def engine_errors(func: Callable) -> Callable:
    """Decorate a stage taking the input first: engine failures become one line.

    A failure the input can cause (a CSV, conversion, I/O or memory error) is a DataError
    naming the input; a failure of the engine's own (internal, binder, catalog, parser,
    not implemented, connection) is an EngineError saying it is not the input's.
    """
    import duckdb

    not_the_input = (duckdb.InternalError, duckdb.FatalException, duckdb.BinderException, duckdb.CatalogException,
                     duckdb.ParserException, duckdb.SyntaxException, duckdb.NotSupportedError, duckdb.ConnectionException)

    @functools.wraps(func)
    def guarded(data, *args, **kwargs):
        try:
            return func(data, *args, **kwargs)
        except not_the_input as exc:
            raise EngineError(f"DuckDB failed while preparing {input_name(data)}: {describe_engine_error(exc)} "
                              "(an engine or custseg error, not a problem of the input; please report it)") from None
        except duckdb.Error as exc:
            raise DataError(f"{input_name(data)}: {describe_engine_error(exc)}") from None
        except MemoryError:
            raise DataError(f"{input_name(data)}: out of memory (raise --max-memory, or free memory)") from None

    return guarded
