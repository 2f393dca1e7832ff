"""The Spark engine: the session, the reader, and the same ibis expressions compiled for Spark SQL.

`custseg run ... --engine spark [--spark-master URL] [--spark-conf KEY=VALUE ...]` reads
the input with Spark, types, cleans and aggregates it with the ibis expressions of
`_typing`, `_clean` and `_features` compiled for Spark SQL, then collects the customer
table (one row per customer) to the driver; `_cluster._spark_kmeans` clusters it with
Spark ML on the same session.
"""

from __future__ import annotations

import codecs
import csv
import functools
from pathlib import Path

import ibis
import pandas as pd

from .._config._options import ALL_SHEETS, DEFAULT_SPARK_MASTER, ReadOptions
from .._errors import DataError, UsageError
from ._encodings import file_encoding
from ._inputs import check_same_columns, common_kind, file_labels, input_files
from ._read import ROW_KEY, Source, file_sha256, refuse_sheets_alike, several_files
from ._spaces import trimmed_names
from ._xlsx import sheet_key

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


SPARK_CHARSETS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "utf-16": "UTF-16", "iso8859-1": "ISO-8859-1", "cp1252": "windows-1252"}
SPARK_NATIVE_CHARSETS = ("us-ascii", "iso-8859-1", "utf-8", "utf-16be", "utf-16le", "utf-16", "utf-32")


def _sniff_delimiter(path: Path, encoding: str) -> str:
    with path.open(encoding=encoding, errors="replace", newline="") as handle:
        head = handle.read(1 << 16)
    try:
        return csv.Sniffer().sniff(head.split("\n", 1)[0], delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _spark_frame(session, path: Path, kind: str, options: ReadOptions, notes: dict):
    """Every column of one file (text for CSV and workbooks, typed by `_prep._parse` like the embedded engine's)."""
    if kind == "parquet":
        return session.read.parquet(str(path))
    if kind == "csv":
        encoding = file_encoding(path, options.encoding)
        notes |= {"encoding": encoding.codec, "encoding_rule": encoding.rule}
        delimiter = notes["delimiter"] = options.delimiter or _sniff_delimiter(path, encoding.codec)
        charset = SPARK_CHARSETS.get(codecs.lookup(encoding.codec).name, encoding.codec)
        if charset.lower() not in SPARK_NATIVE_CHARSETS:  # Spark 4 reads other charsets through the JDK's on request
            session.conf.set("spark.sql.legacy.javaCharsets", "true")
        return session.read.options(header=True, encoding=charset, sep=delimiter, inferSchema=False).csv(str(path))
    import fastexcel  # a workbook fits in one machine: fastexcel to Arrow, then to Spark

    if options.sheet == ALL_SHEETS:
        raise UsageError("--sheet all reads with the duckdb engine; with --engine spark, save the sheets as CSV files "
                         "and give them all")
    reader = fastexcel.read_excel(str(path))
    arrow = reader.load_sheet(sheet_key(options.sheet), dtypes="string").to_arrow()
    if options.sheet is None:
        refuse_sheets_alike(path, reader, arrow.column_names, 0)
    return session.createDataFrame(arrow.to_pandas())


def _kept_columns(frame, columns: list[str] | None):
    """The run's columns of `frame`, and a hash of the others: with the run's typed columns, duplicates are judged on
    every column, not only the ones kept."""
    if not columns:
        return frame
    from pyspark.sql import functions as F

    present = [c for c in columns if c in frame.columns]
    others = [frame[f"`{c}`"] for c in frame.columns if c not in present]
    key = [F.xxhash64(*others).alias(ROW_KEY)] if others else []
    return frame.select(*(frame[f"`{c}`"] for c in present), *key)


def open_spark_source(data, con: ibis.BaseBackend, options: ReadOptions | None = None,
                      columns: list[str] | None = None) -> Source:
    """Open `data` (a path, pattern, folder or list of them, a pandas DataFrame or an ibis table) as an ibis table on Spark.

    Several files are read one by one and stacked by column name (`_inputs`), as on DuckDB.
    """
    options = options or ReadOptions()
    session = con._session
    name = ibis.util.gen_name("custseg_input")
    if isinstance(data, ibis.Table):
        return Source(data, "ibis table", "ibis", None)
    if isinstance(data, pd.DataFrame):
        frame = session.createDataFrame(data)
        frame.toDF(*trimmed_names(frame.columns)).createOrReplaceTempView(name)
        return Source(con.table(name), "DataFrame", "dataframe", None)
    if options.max_line_size:
        raise UsageError("--max-line-size applies to the duckdb engine; Spark reads lines of any length")
    given, paths = input_files(data)
    kind = common_kind(given, paths)
    frames, records = [], []
    for path in paths:
        if not path.is_file():
            raise DataError(f"{path}: file not found")
        try:
            notes: dict = {}
            frame = _spark_frame(session, path, kind, options, notes)
            frames.append(frame.toDF(*trimmed_names(frame.columns)))  # 'Account\u00a0' is 'Account', as in every reader
        except (DataError, UsageError):
            raise
        except Exception as exc:  # Spark's reader errors: the first line only
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DataError(f"{path}: cannot read as {kind} with Spark ({first})") from None
        records.append({"name": path.name, "path": str(path), "sha256": file_sha256(path), "rows": None, **notes})
    if len(frames) == 1:
        _kept_columns(frames[0], columns).createOrReplaceTempView(name)
        return Source(con.table(name), str(paths[0]), kind, records[0]["sha256"], paths[0], notes, records)
    for record, label in zip(records, file_labels(paths)):
        record["name"] = label
    check_same_columns([(record["path"], frame.columns) for record, frame in zip(records, frames)])
    for record, frame in zip(records, frames):
        record["rows"] = frame.count()
    _kept_columns(functools.reduce(lambda top, bottom: top.unionByName(bottom), frames), columns).createOrReplaceTempView(name)
    return several_files(con.table(name), given, kind, records)
