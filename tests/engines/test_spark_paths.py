"""Cluster inputs and the Spark session's checks that need no Spark: URLs, the parts' format, the listing's identity,
a master that is down, spark-defaults.conf (the reading itself: tests/engines/test_spark_cluster.py, slow)."""

import socket
from types import SimpleNamespace

import pytest

from custseg._config._options import is_url
from custseg._engines._spark import check_local_input
from custseg._engines._spark_paths import java_message, listing_digest, part_kind, parts_kind
from custseg._engines._spark_session import _settings_master, check_master_reachable
from custseg._errors import DataError, EngineError, UsageError


def test_urls_are_told_from_local_paths():
    assert [is_url(p) for p in ("hdfs:///sales", "s3a://b/k", "gs://b/k", "abfss://c@a.dfs.core.windows.net/k",
                                "dbfs:/sales", "file:///tmp/x")] == [True] * 6
    assert [is_url(p) for p in ("C:/sales.csv", "sales.csv", "/data/s3a:/x", "./hdfs")] == [False] * 4


def test_the_parts_format_comes_from_the_option_or_their_suffix():
    parts = [{"path": f"hdfs:///s/part-0000{i}-a.c000.snappy.parquet"} for i in range(2)]
    assert parts_kind("hdfs:///s", parts, None) == "parquet"
    assert parts_kind("hdfs:///s", [{"path": "hdfs:///s/000000_0"}], "csv") == "csv"
    assert part_kind("part-00001.csv.gz") == "csv" and part_kind("_SUCCESS") is None
    with pytest.raises(UsageError, match=r"^hdfs:///s: cannot tell the format of hdfs:///s/000000_0 from its name; "
                                         r"give --input-format csv or parquet$"):
        parts_kind("hdfs:///s", [{"path": "hdfs:///s/000000_0"}], None)
    with pytest.raises(UsageError, match=r"^hdfs:///s: parts of several formats \(csv, parquet\)"):
        parts_kind("hdfs:///s", [*parts, {"path": "hdfs:///s/x.csv"}], None)


def test_the_identity_is_the_listing_so_a_rewritten_part_changes_it():
    parts = [{"path": "hdfs:///s/a.parquet", "size": 10, "mtime": 1}, {"path": "hdfs:///s/b.parquet", "size": 5, "mtime": 2}]
    touched = [parts[0], {**parts[1], "mtime": 3}]
    assert listing_digest(parts) == listing_digest([dict(p) for p in parts]) != listing_digest(touched)


def test_a_local_input_is_checked_before_spark_starts(tmp_path):
    with pytest.raises(DataError, match=r"nothere.parquet: file not found$"):
        check_local_input(str(tmp_path / "nothere.parquet"))
    check_local_input("hdfs:///sales/2021")  # Spark lists it, once the session is up


def test_a_master_that_is_down_is_one_line_at_once():
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(EngineError) as raised:
        check_master_reachable(f"spark://127.0.0.1:{port}")
    assert str(raised.value) == (f"Spark master spark://127.0.0.1:{port} is not reachable (127.0.0.1:{port}: Connection "
                                 "refused); start it, or check --spark-master")
    check_master_reachable("yarn")  # only spark:// masters are probed


def test_spark_defaults_conf_names_the_master():
    assert _settings_master("# comment\nspark.master   spark://h:7077\nspark.executor.memory 4g\n") == "spark://h:7077"
    assert _settings_master("spark.executor.memory 4g\n") is None


def test_a_java_error_is_its_message_without_the_class():
    exc = RuntimeError("An error occurred while calling o1.globStatus.")
    exc.java_exception = SimpleNamespace(toString=lambda: "java.net.ConnectException: Connection refused\n\tat x")
    assert java_message(exc) == "Connection refused"
