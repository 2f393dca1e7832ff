"""The Spark engine: the session, the reader, and the same ibis expressions compiled for Spark SQL.

`custseg run ... --engine spark [--spark-master URL] [--spark-conf KEY=VALUE ...]` reads
the input with Spark, types, cleans and aggregates it with the ibis expressions of
`_typing`, `_clean` and `_features` compiled for Spark SQL, then collects the customer
table (one row per customer) to the driver; `_cluster._spark_kmeans` clusters it with
Spark ML on the same session.
"""

from __future__ import annotations

import csv
from pathlib import Path

import ibis
import pandas as pd

from .._config._options import DEFAULT_SPARK_MASTER, ENCODINGS, ReadOptions
from .._errors import DataError, UsageError
from ._read import ROW_KEY, Source, detect_encoding, file_sha256, input_kind
from ._spaces import trim, trimmed_names

SPARK_SILHOUETTE = "silhouette_sqeuclidean_spark"
# Defaults for a local session; anything given with --spark-conf wins.
LOCAL_DEFAULTS = {
    "spark.driver.memory": "4g",
    "spark.sql.shuffle.partitions": "8",
}
DEFAULTS = {
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",  # dates as written, as DuckDB reads them
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}


def spark_session(master: str = DEFAULT_SPARK_MASTER, conf=()):
    """The SparkSession to use (created, or the active one with this configuration applied)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UsageError("the Spark engine needs PySpark: pip install 'custseg[spark]' (and Java 17 or later)") from None
    settings = {**DEFAULTS, **(LOCAL_DEFAULTS if master.startswith("local") else {}), **dict(conf)}
    builder = SparkSession.builder.master(master).appName("custseg")
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def spark_backend(master: str = DEFAULT_SPARK_MASTER, conf=()) -> ibis.BaseBackend:
    """An ibis backend on the Spark session."""
    return ibis.pyspark.connect(spark_session(master, conf))


def _sniff_delimiter(path: Path, encoding: str) -> str:
    with path.open(encoding=encoding, errors="replace", newline="") as handle:
        head = handle.read(1 << 16)
    try:
        return csv.Sniffer().sniff(head.split("\n", 1)[0], delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _spark_frame(session, path: Path, kind: str, options: ReadOptions, columns: list[str] | None, notes: dict):
    if kind == "parquet":
        frame = session.read.parquet(str(path))
    elif kind == "csv":  # every column as text, typed by _typing like the embedded engine's
        encoding = ENCODINGS[options.encoding.lower()] if options.encoding else detect_encoding(path)
        delimiter = notes["delimiter"] = options.delimiter or _sniff_delimiter(path, encoding)
        frame = session.read.options(header=True, encoding=encoding, sep=delimiter, inferSchema=False).csv(str(path))
    else:  # a workbook fits in one machine: fastexcel to Arrow, then to Spark
        import fastexcel

        sheet = options.sheet if options.sheet is not None else 0
        sheet = int(sheet) if isinstance(sheet, str) and sheet.isdigit() else sheet
        reader = fastexcel.read_excel(str(path))
        header = reader.load_sheet(sheet, n_rows=0, dtypes="string").to_arrow().column_names
        wanted = [c for c in header if trim(c) in columns] if columns else None
        arrow = reader.load_sheet(sheet, use_columns=wanted or None, dtypes="string").to_arrow()
        frame = session.createDataFrame(arrow.to_pandas())
    frame = frame.toDF(*trimmed_names(frame.columns))  # 'Account\u00a0' is 'Account', as in every reader
    if columns:
        from pyspark.sql import functions as F

        present = [c for c in columns if c in frame.columns]
        every = [frame[f"`{c}`"] for c in frame.columns]
        # the whole row's hash: duplicates are judged on every column, not only the ones kept
        key = [F.xxhash64(*every).alias(ROW_KEY)] if len(present) < len(frame.columns) else []
        frame = frame.select(*(frame[f"`{c}`"] for c in present), *key)
    return frame


def open_spark_source(data, con: ibis.BaseBackend, options: ReadOptions | None = None,
                      columns: list[str] | None = None) -> Source:
    """Open `data` (a path, a pandas DataFrame or an ibis table) as an ibis table on Spark."""
    options = options or ReadOptions()
    session = con._session
    name = ibis.util.gen_name("custseg_input")
    if isinstance(data, ibis.Table):
        return Source(data, "ibis table", "ibis", None)
    if isinstance(data, pd.DataFrame):
        frame = session.createDataFrame(data)
        frame.toDF(*trimmed_names(frame.columns)).createOrReplaceTempView(name)
        return Source(con.table(name), "DataFrame", "dataframe", None)
    path = Path(data)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    kind = input_kind(path)
    try:
        notes: dict = {}
        frame = _spark_frame(session, path, kind, options, columns, notes)
    except DataError:
        raise
    except Exception as exc:  # Spark's reader errors: the first line only
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{path}: cannot read as {kind} with Spark ({first})") from None
    frame.createOrReplaceTempView(name)
    return Source(con.table(name), str(path), kind, file_sha256(path), path, notes)
