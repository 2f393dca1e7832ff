"""score and refresh of a model trained on Spark fail in one line as run does (`_engines.engine_failures`): a master
that is down (a closed port: no cluster needed), a Spark analysis error naming the input; --spark-master and
--spark-wait say where the model's Spark work runs; a URL is named as given."""

import json
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from custseg._workflows import _cycle
from custseg.cli import app

pytest.importorskip("pyspark", reason="the Spark engine needs PySpark: pip install -e '.[spark]'")

GOOD = "cust,inv,qty,price\n" + "".join(f"c{i % 9},i{i},{1 + i % 3},{5 + (i % 9) ** 2}\n" for i in range(90))
MAP = ["--customer", "cust", "--order", "inv", "--quantity", "qty", "--price", "price"]
COMMANDS = {"score": "--model", "refresh": "--previous"}


def invoke(*args) -> object:
    return CliRunner().invoke(app, [str(a) for a in args])


def closed_port() -> int:
    with socket.socket() as probe:  # a port nothing listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def down(port: int) -> str:
    return (f"Error: Spark master spark://127.0.0.1:{port} is not reachable (127.0.0.1:{port}: Connection refused); "
            "start it, or check --spark-master")


@pytest.fixture(scope="module")
def spark_model(tmp_path_factory) -> tuple[Path, Path, int]:
    """(sales file, run folder, port): a run whose model.json says it was trained on Spark at a master that is down
    (trained on duckdb, then its config pointed at Spark: the model is otherwise the same)."""
    folder = tmp_path_factory.mktemp("spark-model")
    data = folder / "sales.csv"
    data.write_text(GOOD)
    assert invoke("run", data, *MAP, "--k", "3", "-o", folder / "run", "--no-report").exit_code == 0
    port = closed_port()
    model = json.loads((folder / "run" / "model.json").read_text())
    model["config"] |= {"engine": "spark", "spark_master": f"spark://127.0.0.1:{port}"}
    (folder / "run" / "model.json").write_text(json.dumps(model))
    return data, folder / "run", port


@pytest.mark.parametrize("command", COMMANDS)
def test_a_spark_models_master_that_is_down_is_one_line(spark_model, tmp_path, command):
    data, run, port = spark_model
    result = invoke(command, data, COMMANDS[command], run, "-o", tmp_path / "out", "--no-report")
    assert result.exit_code == 1 and result.output.strip() == down(port)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", COMMANDS)
def test_spark_master_and_wait_say_where_a_spark_model_runs(spark_model, tmp_path, command):
    data, run, _ = spark_model
    other = closed_port()
    result = invoke(command, data, COMMANDS[command], run, "-o", tmp_path / "out", "--spark-master",
                    f"spark://127.0.0.1:{other}", "--spark-wait", "5", "--no-report")
    assert result.exit_code == 1 and result.output.strip() == down(other)
    bad = invoke(command, data, COMMANDS[command], run, "-o", tmp_path / "out", "--spark-wait", "0")
    assert bad.exit_code == 2 and bad.output.strip() == "Error: --spark-wait must be a number of seconds > 0; got 0.0"


class AnalysisException(Exception):
    """Named as pyspark's: what Spark raises when it cannot plan a query on the input."""


@pytest.mark.parametrize("command", COMMANDS)
def test_a_spark_analysis_error_names_the_input(spark_model, tmp_path, command, monkeypatch):
    data, run, _ = spark_model

    def unplannable(*_):
        raise AnalysisException("[UNRESOLVED_COLUMN] A column `cust` cannot be resolved.")

    monkeypatch.setattr(_cycle, "_prepare_for_model", unplannable)
    result = invoke(command, data, COMMANDS[command], run, "-o", tmp_path / "out", "--no-report")
    assert result.exit_code == 1
    assert result.output.strip() == (f"Error: {data}: Spark cannot run the query on it ([UNRESOLVED_COLUMN] A column "
                                     "`cust` cannot be resolved.)")


@pytest.mark.parametrize("command", COMMANDS)
def test_a_url_is_named_as_given(spark_model, tmp_path, command):
    """On a duckdb model a URL is refused in one line, named as given (not as a local path: hdfs:/sales/2021)."""
    data, _, _ = spark_model
    assert invoke("run", data, *MAP, "--k", "3", "-o", tmp_path / "run", "--no-report").exit_code == 0
    result = invoke(command, "hdfs:///sales/2021", COMMANDS[command], tmp_path / "run", "-o", tmp_path / "out")
    assert result.exit_code == 2 and result.output.strip() == ("Error: hdfs:///sales/2021: a cluster URL is read by the "
                                                               "Spark engine (--engine spark); the duckdb engine reads "
                                                               "local files")


def test_score_on_spark_records_its_engine_in_run_json(spark_model, tmp_path):
    data, run, _ = spark_model
    result = invoke("score", data, "--model", run, "-o", tmp_path / "out", "--spark-master", "local[1]", "--no-report")
    assert result.exit_code == 0, result.output
    engine = json.loads((tmp_path / "out" / "run.json").read_text())["engine"]
    assert engine["name"] == "spark" and engine["master"] == "local[1]" and engine["cores"] == 1
