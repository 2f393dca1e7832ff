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

from .._config._options import ALL_SHEETS, DEFAULT_SPARK_WAIT, ReadOptions, is_url
from .._errors import DataError, UsageError
from ._encodings import file_encoding
from ._inputs import check_same_columns, common_kind, file_labels, input_files
from ._read import ROW_KEY, Source, refuse_sheets_alike, several_files
from ._spark_paths import IDENTITY, java_message, list_parts, listing_digest, parts_kind
from ._spark_session import spark_session
from ._spaces import trimmed_names
from ._xlsx import sheet_key



def spark_backend(master: str | None = None, conf=(), wait: float = DEFAULT_SPARK_WAIT) -> ibis.BaseBackend:
    """An ibis backend on the Spark session (`_spark_session`).

    ibis 12's PySpark backend compiles `.cache()` without registering the in-memory tables the
    expression uses (the conversion rates, the id corrections): Spark then finds no such view.
    They are registered first, as `execute` does.
    """
    backend = ibis.pyspark.connect(spark_session(master, conf, wait))
    create_cached = backend._create_cached_table

    def create_cached_table(name, expr):
        backend._run_pre_execute_hooks(expr)
        return create_cached(name, expr)

    backend._create_cached_table = create_cached_table
    return backend


SPARK_CHARSETS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "utf-16": "UTF-16", "iso8859-1": "ISO-8859-1", "cp1252": "windows-1252"}
SPARK_NATIVE_CHARSETS = ("us-ascii", "iso-8859-1", "utf-8", "utf-16be", "utf-16le", "utf-16", "utf-32")


def _sniff_delimiter(path: Path, encoding: str) -> str:
    with path.open(encoding=encoding, errors="replace", newline="") as handle:
        return _sniffed(handle.read(1 << 16).split("\n", 1)[0])


def _spark_frame(session, path: Path, kind: str, options: ReadOptions, notes: dict):
    """Every column of one file (text for CSV and workbooks, typed by `_prep._parse` like the embedded engine's)."""
    if kind == "parquet":
        return session.read.parquet(str(path))
    if kind == "csv":
        encoding = file_encoding(path, options.encoding)
        notes |= {"encoding": encoding.codec, "encoding_rule": encoding.rule}
        delimiter = notes["delimiter"] = options.delimiter or _sniff_delimiter(path, encoding.codec)
        return _csv_reader(session, encoding.codec, delimiter).csv(str(path))
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


def _csv_reader(session, encoding: str, delimiter: str):
    charset = SPARK_CHARSETS.get(codecs.lookup(encoding).name, encoding)
    if charset.lower() not in SPARK_NATIVE_CHARSETS:  # Spark 4 reads other charsets through the JDK's on request
        session.conf.set("spark.sql.legacy.javaCharsets", "true")
    # enforceSchema off: every part's header is checked against the first part's, never matched by position
    return session.read.options(header=True, encoding=charset, sep=delimiter, inferSchema=False, enforceSchema=False)


def _parts_frame(session, paths: list[str], kind: str, options: ReadOptions, notes: dict):
    """Every column of a cluster input's parts, read by Spark in one go (CSV as text, its header line sniffed)."""
    if kind == "parquet":
        return session.read.parquet(*paths)
    encoding = options.encoding or "utf-8"
    notes |= {"encoding": encoding, "encoding_rule": "given (--encoding)" if options.encoding else
              "UTF-8: a cluster input is not sniffed (--encoding to change)"}
    if not (delimiter := options.delimiter):
        header = session.read.text(paths[0]).limit(1).collect()
        delimiter = _sniffed(header[0][0] if header else "")
    notes["delimiter"] = delimiter
    return _csv_reader(session, encoding, delimiter).csv(paths)


def _sniffed(line: str) -> str:
    try:
        return csv.Sniffer().sniff(line, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _read_failure(label: str, kind: str, exc: Exception) -> DataError:
    """Spark's reader error, its first line, naming the input as given."""
    return DataError(f"{label}: cannot read as {kind} with Spark ({java_message(exc)})")


def check_local_input(data) -> None:
    """Local files named by `data` (paths, patterns, folders) exist, before a Spark session starts (URLs: Spark checks)."""
    items = data if isinstance(data, list | tuple) else [data]
    if all(isinstance(item, str | Path) and not is_url(str(item)) for item in items):
        _local_paths(data)


def _local_paths(data) -> tuple[list[str], list[Path]]:
    given, paths = input_files(data)
    for path in paths:
        if not path.is_file():
            raise DataError(f"{path}: file not found")
    return given, paths


def open_spark_source(data, con: ibis.BaseBackend, options: ReadOptions | None = None,
                      columns: list[str] | None = None) -> Source:
    """Open `data` (a path, pattern, folder or URL, or a list of them, a pandas DataFrame or an ibis table) as an ibis
    table on Spark.

    Local files are read one by one and stacked by column name (`_inputs`), as on DuckDB; a
    URL (`_spark_paths`) is a data set of parts Spark reads in one go. Either way the input's
    identity is its listing (names, sizes, modification times), not a read of its bytes.
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
    given = [str(item) for item in (data if isinstance(data, list | tuple) else [data])]
    if any(is_url(item) for item in given):
        frames, records, kind = _cluster_parts(session, given, options)
    else:
        frames, records, kind = _local_files(session, given, data, options)
    if len(frames) == 1:
        _kept_columns(frames[0], columns).createOrReplaceTempView(name)
        record = records[0]
        path = Path(record["path"]) if not is_url(record["path"]) else None
        return Source(con.table(name), given[0] if len(given) == 1 else record["path"], kind, record["sha256"], path,
                      {key: record[key] for key in ("encoding", "encoding_rule", "delimiter", "identity") if key in record},
                      records)
    check_same_columns([(record["path"], frame.columns) for record, frame in zip(records, frames)])
    for record, frame in zip(records, frames):
        record["rows"] = frame.count()
    _kept_columns(functools.reduce(lambda top, bottom: top.unionByName(bottom), frames), columns).createOrReplaceTempView(name)
    return several_files(con.table(name), given, kind, records)


def _local_files(session, given: list[str], data, options: ReadOptions):
    """Each local file as a frame (read by Spark; a workbook on the driver), with its record."""
    _, paths = _local_paths(data)
    kind = common_kind(given, paths)
    frames, records = [], []
    labels = file_labels(paths) if len(paths) > 1 else [paths[0].name]
    for path, label in zip(paths, labels):
        notes: dict = {}
        try:
            frame = _spark_frame(session, path, kind, options, notes)
        except (DataError, UsageError):
            raise
        except Exception as exc:
            raise _read_failure(str(path), kind, exc) from None
        frames.append(frame.toDF(*trimmed_names(frame.columns)))  # 'Account\u00a0' is 'Account', as in every reader
        stat = path.stat()
        part = {"path": str(path.resolve()), "size": stat.st_size, "mtime": int(stat.st_mtime * 1000)}
        records.append({"name": label, "path": str(path), "sha256": listing_digest([part]), "bytes": stat.st_size,
                        "rows": None, "identity": IDENTITY, **notes})
    return frames, records, kind


def _cluster_parts(session, given: list[str], options: ReadOptions):
    """Each input as given (a URL, or a local path beside URLs), its parts listed by Spark and read in one go."""
    frames, records, kinds = [], [], {}
    for item in given:
        parts = list_parts(session, item if is_url(item) else Path(item).absolute().as_uri())
        kind = kinds[item] = parts_kind(item, parts, options.input_format)
        notes: dict = {}
        try:
            frame = _parts_frame(session, [p["path"] for p in parts], kind, options, notes)
        except (DataError, UsageError):
            raise
        except Exception as exc:
            raise _read_failure(item, kind, exc) from None
        frames.append(frame.toDF(*trimmed_names(frame.columns)))
        records.append({"name": item, "path": item, "sha256": listing_digest(parts), "parts": len(parts),
                        "bytes": sum(p["size"] for p in parts), "rows": None, "identity": IDENTITY, **notes})
    if len(set(kinds.values())) > 1:
        listed = "; ".join(f"{kind}: {item}" for item, kind in kinds.items())
        raise UsageError(f"{' + '.join(given)}: inputs of different formats ({listed}); read them apart, or give "
                         "--input-format")
    return frames, records, next(iter(kinds.values()))
