"""Engines: where the ibis expressions run. DuckDB (embedded, default) or Spark (scale-out).

Every stage writes one ibis expression; the few things that differ between the two
engines are here and nowhere else:

- parsing text dates: DuckDB's `try_strptime` takes strptime formats, Spark's
  `try_to_timestamp` takes Java patterns (`strptime_to_java` translates);
- opening the input and connecting (`connect`; Spark's reader is in `_spark`);

>>> strptime_to_java("%d/%m/%Y %H:%M")
'dd/MM/yyyy HH:mm'
"""

from __future__ import annotations

import contextlib
import datetime as dtm

import ibis
import ibis.expr.datatypes as dt
import numpy as np

from .._errors import UsageError
from ._limits import configure_engine, temp_folder
from ._read import open_source
from ._spark import check_local_input, open_spark_source, spark_backend
from ._spark_session import fit_shuffle_partitions, session_record, spark_failures


_JAVA = {"Y": "yyyy", "y": "yy", "m": "MM", "d": "dd", "H": "HH", "I": "hh", "M": "mm", "S": "ss", "f": "SSSSSS",
         "p": "a", "b": "MMM", "B": "MMMM", "a": "EEE", "A": "EEEE", "%": "%"}


@ibis.udf.scalar.builtin
def try_strptime(text: str, formats: list[str]) -> dtm.datetime:  # noqa: ARG001
    """DuckDB's try_strptime: NULL where no format matches."""


@ibis.udf.scalar.builtin
def try_to_timestamp(text: str, pattern: str) -> dtm.datetime:  # noqa: ARG001
    """Spark's try_to_timestamp: NULL where the pattern does not match."""


def strptime_to_java(fmt: str) -> str:
    """A strptime format as a Java (Spark) datetime pattern; letters outside codes are quoted."""
    out, i = [], 0
    while i < len(fmt):
        char = fmt[i]
        if char == "%" and i + 1 < len(fmt):
            code = fmt[i + 1]
            if code not in _JAVA:
                raise UsageError(f"date format {fmt!r}: %{code} has no Spark equivalent")
            out.append(_JAVA[code])
            i += 2
            continue
        out.append(f"'{char}'" if char.isalpha() else "''" if char == "'" else char)
        i += 1
    return "".join(out)


def backend_name(expr: ibis.Expr) -> str:
    """'duckdb', 'pyspark', ... : the backend an expression is bound to."""
    return expr.get_backend().name


def duckdb_column(table: ibis.Table) -> np.ndarray:
    """The one column of a table on DuckDB, without NULLs, as one numpy array, fetched by DuckDB itself.

    Through Arrow (`to_pyarrow`), 30M values came in 200+ chunks, and joining them into
    one array cost 1.2-2.8 s more on the benchmark VM. The in-memory tables the query
    uses are registered first, as ibis' own execute does.
    """
    (name,) = table.columns
    backend = table.get_backend()
    backend._run_pre_execute_hooks(table)  # ibis 10-12: registers the memtables and UDFs a query names
    values = backend.raw_sql(backend.compile(table)).fetchnumpy()[name]
    if np.ma.is_masked(values):  # DuckDB masks its NULLs: a plain array would show them as values
        raise ValueError(f"column {name!r} has NULLs; duckdb_column reads columns without")
    return np.asarray(values)


def parse_timestamp(text: ibis.Value, formats: list[str]) -> ibis.Value:
    """Text -> timestamp trying each strptime format in order; NULL where none matches."""
    if backend_name(text) == "pyspark":
        return ibis.coalesce(*(try_to_timestamp(text, strptime_to_java(f)) for f in formats))
    return try_strptime(text, ibis.literal(formats, type=dt.Array(dt.string)))


def connect(config, data=None) -> ibis.BaseBackend:
    """The ibis backend `config.engine` names: an in-memory DuckDB, or the Spark session (`data`'s local files
    checked before it starts)."""
    if config.engine == "spark":
        check_local_input(data)
        return spark_backend(config.spark_master, config.spark_conf, config.spark_wait)
    con = ibis.duckdb.connect()
    configure_engine(con, config)
    return con


def open_input(data, con: ibis.BaseBackend, config, columns: dict[str, str] | None):
    """Open `data` as an ibis table on `con` (see `_read.open_source`, `_spark.open_spark_source`).

    `columns`: the mapped columns and their kinds (`ColumnMapping.column_kinds`); a file may
    lack the mapping's optional ones (Spark keeps those present).
    """
    if con.name == "pyspark":
        source = open_spark_source(data, con, config.read, list(columns) if columns else None)
        fit_shuffle_partitions(con._session, sum(part.get("bytes") or 0 for part in source.files))
        return source
    optional = tuple(config.mapping.optional_columns()) if config.mapping and columns else ()
    return open_source(data, con, config.read, columns, temp_folder(config), optional)


def engine_failures(config, what: str):
    """A context in which the Spark engine's failures are one line naming `what` (DuckDB's: `_limits.engine_errors`)."""
    return spark_failures(what) if config.engine == "spark" else contextlib.nullcontext()


def engine_record(config) -> dict:
    """What run.json says about the engine (on Spark: the master, cores and shuffle partitions the session has)."""
    if config.engine == "spark":
        import pyspark
        from pyspark.sql import SparkSession

        return {"name": "spark", "pyspark": pyspark.__version__, **session_record(SparkSession.getActiveSession()),
                "conf": dict(config.spark_conf), "kmeans": "Spark MLlib KMeans (Lloyd to convergence from the same "
                                                           "k-means++ starts as duckdb; the best of n_init per k)",
                "silhouette": "Euclidean, computed by custseg as for duckdb (column silhouette); Spark's "
                              "ClusteringEvaluator (squared Euclidean) in column silhouette_sqeuclidean_spark"}
    return {"name": "duckdb", "kmeans": "scikit-learn KMeans (Lloyd to convergence from n_init k-means++ starts, "
                                        "the best kept)",
            "silhouette": "Euclidean (column silhouette)"}
