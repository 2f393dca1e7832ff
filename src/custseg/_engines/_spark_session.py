"""The Spark session: its master, its settings, bounded waits for the master and the executors, failures as one line.

- Master: `--spark-master` when given; else the running session's (spark-submit's
  `--master`, a notebook's cluster), else `spark.master` of spark-defaults.conf, else
  `local[*]`. run.json records the master the session actually has.
- A `spark://` master is checked before the session starts (a TCP connection, at most
  10 s per host): a master that is down is one line at once, not 70 s of Java traces.
- Executors: on a cluster the run waits up to `--spark-wait` seconds (default 120) for a
  first executor; during the run, a watchdog cancels the jobs once the application has had
  no executor for that long (workers lost, no free cores), and the run stops in one line.
- Shuffle partitions (unless given): one per core the application got, and at least one
  per 128 MiB of input, instead of Spark's 200.
"""

from __future__ import annotations

import math
import os
import re
import socket
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .._config._options import DEFAULT_SPARK_MASTER, DEFAULT_SPARK_WAIT
from .._errors import CustsegError, DataError, EngineError, UsageError
from ._spark_paths import java_message

LOCAL_DEFAULTS = {"spark.driver.memory": "4g"}  # a local session only; anything given with --spark-conf wins
DEFAULTS = {
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",  # dates as written, as DuckDB reads them
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}
SHUFFLE = "spark.sql.shuffle.partitions"
SHUFFLE_BYTES = 128 * 2**20  # input bytes per shuffle partition, at least
CONNECT_TIMEOUT = 10.0
WATCH_EVERY = 2.0
STANDALONE = re.compile(r"^spark://(.+)$")


def _settings_master(text: str) -> str | None:
    """spark.master in the text of a spark-defaults.conf."""
    for line in text.splitlines():
        fields = line.strip().split(None, 1)
        if len(fields) == 2 and fields[0] == "spark.master":
            return fields[1].strip()
    return None


def _defaults_master() -> str | None:
    """spark.master of $SPARK_CONF_DIR (or $SPARK_HOME/conf)/spark-defaults.conf, when there is one."""
    folder = os.environ.get("SPARK_CONF_DIR") or (Path(os.environ["SPARK_HOME"], "conf") if os.environ.get("SPARK_HOME") else None)
    path = Path(folder, "spark-defaults.conf") if folder else None
    return _settings_master(path.read_text(errors="replace")) if path and path.is_file() else None


def check_master_reachable(master: str) -> None:
    """A spark:// master (one host or several, comma-separated) that accepts a TCP connection; else one line."""
    match = STANDALONE.match(master)
    if not match:
        return
    failures = []
    for address in match.group(1).split(","):
        host, _, port = address.rpartition(":")
        try:
            with socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT):
                return
        except (OSError, ValueError) as exc:
            failures.append(f"{address}: {exc.strerror if isinstance(exc, OSError) and exc.strerror else exc}")
    raise EngineError(f"Spark master {master} is not reachable ({'; '.join(failures)}); start it, or check --spark-master")


def spark_session(master: str | None = None, conf=(), wait: float = DEFAULT_SPARK_WAIT):
    """The SparkSession to use: the running one (spark-submit, a notebook) or a new one on `master`, settings applied."""
    try:
        from pyspark import SparkContext
        from pyspark.sql import SparkSession
    except ImportError:
        if master:
            check_master_reachable(master)
        raise UsageError("the Spark engine needs PySpark: pip install 'custseg[spark]' (and Java 17 or later)") from None
    active = SparkContext._active_spark_context
    if active is None and os.environ.get("PYSPARK_GATEWAY_PORT"):  # spark-submit started the JVM with its --master
        from pyspark import SparkConf

        SparkContext._ensure_initialized()
        master = master or SparkConf().get("spark.master", None)
    if active is None:
        master = master or _defaults_master() or DEFAULT_SPARK_MASTER
        check_master_reachable(master)
    master = master or active.master
    settings = {**DEFAULTS, **(LOCAL_DEFAULTS if master.startswith("local") else {}), **dict(conf)}
    builder = SparkSession.builder.master(master).appName("custseg")
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("OFF")  # failures reach the user as one line (`spark_failures`); --debug: the trace
    if not session.sparkContext.master.startswith("local"):
        _wait_for_executors(session.sparkContext, wait)
        _Watchdog.start(session.sparkContext, wait)
    return session


def executor_count(context) -> int:
    """Executors the application holds now (the driver aside)."""
    return max(0, context._jsc.sc().getExecutorMemoryStatus().size() - 1)


def _no_executor(master: str, wait: float, when: str) -> EngineError:
    return EngineError(f"the Spark application on {master} {when} for {wait:g} s (no worker, workers lost, or no free "
                       "cores or memory on them); check the cluster, or wait longer with --spark-wait")


def _wait_for_executors(context, wait: float) -> None:
    deadline = time.monotonic() + wait
    while executor_count(context) == 0:
        if time.monotonic() > deadline:
            raise _no_executor(context.master, wait, "got no executor")
        time.sleep(0.5)


class _Watchdog:
    """Cancels the application's jobs once it has had no executor for `wait` seconds (one per SparkContext)."""

    tripped: dict[int, str] = {}  # id(context) -> the message
    _running: set[int] = set()

    @classmethod
    def start(cls, context, wait: float) -> None:
        if id(context) in cls._running:
            return
        cls._running.add(id(context))
        threading.Thread(target=cls._watch, args=(context, wait), daemon=True, name="custseg-spark-watchdog").start()

    @classmethod
    def _watch(cls, context, wait: float) -> None:
        since = None
        try:
            while context._jsc is not None:
                if executor_count(context) > 0:
                    since = None
                elif since is None:
                    since = time.monotonic()
                elif time.monotonic() - since > wait:
                    cls.tripped[id(context)] = str(_no_executor(context.master, wait, "has had no executor"))
                    context.cancelAllJobs()
                    since = None
                time.sleep(WATCH_EVERY)
        except Exception:  # the context stopped under the watch: nothing left to watch
            pass
        finally:
            cls._running.discard(id(context))


def fit_shuffle_partitions(session, input_bytes: int) -> None:
    """spark.sql.shuffle.partitions from the cores the application got and the input's size, unless it was given."""
    if session.sparkContext.getConf().contains(SHUFFLE):
        return
    cores = session.sparkContext.defaultParallelism
    session.conf.set(SHUFFLE, str(max(cores, math.ceil(input_bytes / SHUFFLE_BYTES), 1)))


def session_record(session) -> dict:
    """What run.json says about the session: its master, the cores it got, its shuffle partitions."""
    context = session.sparkContext
    return {"master": context.master, "cores": context.defaultParallelism, "shuffle_partitions": int(session.conf.get(SHUFFLE)),
            "application_id": context.applicationId}


@contextmanager
def spark_failures(what: str) -> Iterator[None]:
    """Spark's failures in the block as one line (`EngineError`; an analysis error, `DataError`), naming `what`."""
    try:
        with warnings.catch_warnings():  # pyspark's own warning on a failed Arrow collect repeats the failure's trace
            warnings.filterwarnings("ignore", category=UserWarning, module=r"pyspark\.")
            yield
    except CustsegError:
        raise
    except Exception as exc:
        from pyspark import SparkContext

        context = SparkContext._active_spark_context
        if context is not None and id(context) in _Watchdog.tripped:
            raise EngineError(_Watchdog.tripped.pop(id(context))) from None
        kind = type(exc).__name__
        if kind == "AnalysisException":
            raise DataError(f"{what}: Spark cannot run the query on it ({java_message(exc)})") from None
        if kind in ("Py4JNetworkError", "Py4JError", "ConnectionRefusedError") or "SparkContext was shut down" in str(exc) \
                or "stopped SparkContext" in str(exc):
            raise EngineError(f"the Spark application stopped while running {what} ({java_message(exc)}); --debug shows "
                              "the trace") from None
        if kind in ("Py4JJavaError", "SparkException", "PySparkException", "IllegalArgumentException") \
                or kind.endswith("Exception") and type(exc).__module__.startswith(("pyspark", "py4j")):
            raise EngineError(f"Spark failed while running {what}: {java_message(exc)}; --debug shows the trace") from None
        raise
