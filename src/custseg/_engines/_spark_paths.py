"""Inputs as a cluster sees them: URLs (hdfs://, s3a://, gs://, abfss://, dbfs:/, file://), listed by Hadoop's FileSystem.

A URL names a file, a folder of part files (read recursively) or a glob (`hdfs:///sales/*/`).
The files are listed on the driver through Spark's JVM (`org.apache.hadoop.fs.FileSystem`:
names, sizes, modification times; hidden files and `_SUCCESS` markers skipped), never read
there: the input's identity is the SHA-256 of that listing. The format is the one given
(`--input-format`) or the parts' suffix (after a compression suffix: `.csv.gz` is CSV).
The input is named exactly as given in every message. (Local paths are read file by file,
`_spark._local_files`, as on DuckDB.)

>>> part_kind("part-00000-1c2d.c000.snappy.parquet"), part_kind("part-00001.csv.gz"), part_kind("000000_0")
('parquet', 'csv', None)
"""

from __future__ import annotations

import hashlib

from .._errors import DataError, UsageError
from ._inputs import GLOB_CHARS, SKIPPED_PREFIXES, SUFFIX_KINDS

COMPRESSIONS = (".gz", ".bz2", ".snappy", ".lz4", ".zst", ".deflate", ".xz")
IDENTITY = "sha256 of the files' names, sizes and modification times (listed by Spark; the data is not read on the driver)"
CLUSTER_KINDS = ("csv", "parquet")


def part_kind(name: str) -> str | None:
    """csv or parquet from a part file's name (a compression suffix skipped); None when the name does not say."""
    lowered = name.lower()
    for suffix in COMPRESSIONS:
        lowered = lowered.removesuffix(suffix)
    dot = lowered.rfind(".")
    return SUFFIX_KINDS.get(lowered[dot:]) if dot > 0 else None


def list_parts(session, given: str) -> list[dict]:
    """The part files `given` names (a file, a folder read recursively, or a glob), sorted: path, size, mtime."""
    jvm = session._jvm
    path = jvm.org.apache.hadoop.fs.Path(given)
    try:
        fs = path.getFileSystem(session._jsc.hadoopConfiguration())
        statuses = fs.globStatus(path)
    except Exception as exc:  # no connector for the scheme, no credentials, host unreachable: Hadoop's first line
        message = java_message(exc)
        hint = (f"; the {given.split(':', 1)[0]}: connector is not on Spark's classpath (e.g. --spark-conf "
                "spark.jars.packages=org.apache.hadoop:hadoop-aws:VERSION for s3a)"
                if "ClassNotFoundException" in message or "No FileSystem for scheme" in message else "")
        raise DataError(f"{given}: cannot list it with Spark ({message}){hint}") from None
    if not statuses:
        raise DataError(f"{given}: {'no file matches' if GLOB_CHARS & set(given) else 'no such file or folder'}")
    parts = []
    for status in statuses:
        if not status.isDirectory():
            parts.append(_record(status))
            continue
        root = status.getPath().toString().rstrip("/") + "/"
        found = fs.listFiles(status.getPath(), True)
        while found.hasNext():
            record = _record(found.next())
            if not any(part.startswith(SKIPPED_PREFIXES) for part in record["path"][len(root):].split("/")):
                parts.append(record)
    parts = sorted((p for p in parts if not p["path"].rsplit("/", 1)[-1].startswith(SKIPPED_PREFIXES)),
                   key=lambda p: p["path"])
    if not parts:
        raise DataError(f"{given}: no data file (only hidden files or markers such as _SUCCESS)")
    return parts


def _record(status) -> dict:
    return {"path": status.getPath().toString(), "size": int(status.getLen()), "mtime": int(status.getModificationTime())}


def parts_kind(given: str, parts: list[dict], chosen: str | None) -> str:
    """The format of the parts: `chosen` (--input-format), else their suffix; one kind only."""
    if chosen:
        return chosen
    kinds = {part_kind(p["path"].rsplit("/", 1)[-1]) for p in parts}
    if None in kinds:
        unnamed = next(p["path"] for p in parts if part_kind(p["path"].rsplit("/", 1)[-1]) is None)
        raise UsageError(f"{given}: cannot tell the format of {unnamed} from its name; give --input-format csv or parquet")
    if len(kinds) > 1:
        raise UsageError(f"{given}: parts of several formats ({', '.join(sorted(kinds))}); give --input-format, or one "
                         "folder per format")
    kind = kinds.pop()
    if kind not in CLUSTER_KINDS:
        raise UsageError(f"{given}: workbooks are read on the driver; save them as CSV or Parquet for a cluster input, "
                         "or give a local path")
    return kind


def listing_digest(parts: list[dict]) -> str:
    """The input's identity: SHA-256 of 'path<TAB>size<TAB>mtime' lines, in order."""
    text = "".join(f"{p['path']}\t{p['size']}\t{p['mtime']}\n" for p in parts)
    return hashlib.sha256(text.encode()).hexdigest()


def java_message(exc: BaseException) -> str:
    """The first line of an error from the JVM (a Py4J error's Java exception, without its class name) or of `exc`."""
    java = getattr(exc, "java_exception", None)
    text = (java.toString() if java is not None else str(exc)).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return line.split(": ", 1)[1] if line.startswith(("java.", "org.", "com.")) and ": " in line else line
