"""A real Spark standalone cluster (a master and one worker on 127.0.0.1, started from pyspark's own `spark-class`):
a folder of Parquet parts read through a file:// URL with --spark-master, and a glob of CSV parts through
spark-submit, both against the embedded engine. Slow (about 3.5 minutes on 2 busy cores); the processes are torn down.

The commands are those of README.md ("Speed, scale and Spark") and docs/performance.md.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score
from spark_support import java_problem

from custseg import preset, segment
from custseg._config._run import RunConfig
from custseg._workflows._demo_data import write_cpq_export

pytestmark = pytest.mark.slow
pyspark = pytest.importorskip("pyspark", reason="the Spark engine needs PySpark: pip install -e '.[spark]'")
if reason := java_problem():
    pytest.skip(reason, allow_module_level=True)

SPARK_HOME = Path(pyspark.__file__).parent
MAIN = Path(__import__("custseg").__file__).parent / "__main__.py"
RUN = ("--preset", "salesforce-cpq", "--engine", "spark", "--k", "4", "--no-report")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start(args: list[str], log: Path, env: dict) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen([str(SPARK_HOME / "bin" / "spark-class"), *args], stdout=out, stderr=subprocess.STDOUT,
                                env=env, start_new_session=True)


def _stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def _wait_for(log: Path, text: str, process: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while text not in log.read_text(errors="replace"):
        assert process.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")[-2000:]
        time.sleep(0.5)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """spark://127.0.0.1:PORT with one worker (2 cores, 1 GiB); its environment for the drivers."""
    folder = tmp_path_factory.mktemp("cluster")
    port = _free_port()
    env = {**os.environ, "SPARK_HOME": str(SPARK_HOME), "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable,
           "PYTHONPATH": os.pathsep.join([str(MAIN.parents[1]), os.environ.get("PYTHONPATH", "")])}
    master = _start(["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port),
                     "--webui-port", str(_free_port())], folder / "master.log", env)
    worker = None
    try:
        _wait_for(folder / "master.log", "I have been elected leader", master)
        worker = _start(["org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--cores", "2", "--memory", "1g",
                         "--webui-port", str(_free_port()), "--work-dir", str(folder / "work"), f"spark://127.0.0.1:{port}"],
                        folder / "worker.log", env)
        _wait_for(folder / "worker.log", "Successfully registered with master", worker)
        yield f"spark://127.0.0.1:{port}", env
    finally:
        for process in (worker, master):
            if process is not None:
                _stop(process)


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> pd.DataFrame:
    # tests/engines/test_spark.py's export: at k = 4 both engines' K-means reach the same optimum (adjusted Rand 1.0)
    path = write_cpq_export(tmp_path_factory.mktemp("export") / "cpq.parquet", n_lines=30_000, n_accounts=1_200, seed=5)
    return pd.read_parquet(path)


def _parts(frame: pd.DataFrame, folder: Path, suffix: str) -> Path:
    """The export as 3 part files and a _SUCCESS marker, as Spark writes a data set."""
    folder.mkdir()
    for i in range(3):
        part = frame.iloc[i::3]
        name = folder / f"part-0000{i}-1c2d.c000{suffix}"
        part.to_parquet(name, index=False) if suffix.endswith(".parquet") else part.to_csv(name, index=False)
    (folder / "_SUCCESS").touch()
    return folder


def _agrees_with_embedded(out: Path, export: pd.DataFrame, tmp_path: Path) -> dict:
    embedded = segment(_parts(export, tmp_path / "embedded", ".snappy.parquet"), RunConfig(mapping=preset("salesforce-cpq"), k=4))
    on_cluster = pd.read_csv(out / "assignments.csv")
    assert list(on_cluster["customer_id"]) == list(embedded.assignments["customer_id"])
    assert adjusted_rand_score(embedded.assignments["segment_id"], on_cluster["segment_id"]) >= 0.99
    return json.loads((out / "run.json").read_text())


def test_a_folder_of_parquet_parts_on_the_cluster(cluster, export, tmp_path):
    master, env = cluster
    url = _parts(export, tmp_path / "sales", ".snappy.parquet").as_uri()
    done = subprocess.run([sys.executable, "-m", "custseg", "run", url, *RUN, "--spark-master", master, "-o", str(tmp_path / "out")],
                          capture_output=True, text=True, env=env, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    run = _agrees_with_embedded(tmp_path / "out", export, tmp_path)
    assert run["engine"]["master"] == master and run["engine"]["application_id"].startswith("app-")
    assert run["engine"]["cores"] == 2 and run["engine"]["shuffle_partitions"] == 2  # one per core: 0.7 MB of input
    (record,) = run["input"]["files"]
    assert (record["name"], record["parts"]) == (url, 3) and record["identity"].startswith("sha256 of the files' names")


def test_spark_submit_runs_on_its_master(cluster, export, tmp_path):
    """spark-submit's --master only: custseg uses the session's master, never its local default."""
    master, env = cluster
    pattern = _parts(export, tmp_path / "csv", ".csv").as_uri() + "/part-*.csv"
    done = subprocess.run([str(SPARK_HOME / "bin" / "spark-submit"), "--master", master, str(MAIN), "run", pattern, *RUN,
                           "-o", str(tmp_path / "out")], capture_output=True, text=True, env=env, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    run = _agrees_with_embedded(tmp_path / "out", export, tmp_path)
    assert run["engine"]["master"] == master and run["input"]["files"][0]["name"] == pattern
