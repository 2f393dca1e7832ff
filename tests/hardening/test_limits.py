"""Resource limits: --max-memory reaches DuckDB; a big input streams under a cap, or fails in one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import ibis
import pytest
from hardening_data import MAP
from shared_data import shared_file
from typer.testing import CliRunner

from custseg._config._run import RunConfig
from custseg._engines import _limits
from custseg._engines._limits import configure_engine
from custseg.cli import app


runner = CliRunner()


def big_csv(path: Path, n_lines: int, n_customers: int) -> Path:
    """Sales lines written in blocks (the file is never held in memory)."""
    with path.open("w", encoding="utf-8") as handle:
        handle.write("cust,inv,qty,price,day\n")
        block = 100_000
        for start in range(0, n_lines, block):
            handle.write("".join(f"c{i % n_customers},i{i},{1 + i % 3},{5 + (i * 7919 % n_customers) % 97},"
                                 f"{1 + i % 28:02d}/{1 + i % 12:02d}/2020\n" for i in range(start, min(start + block, n_lines))))
    return path


@pytest.mark.parametrize("limit", ["64MB", "1GiB"])
def test_max_memory_reaches_duckdb(limit, tmp_path):
    con = ibis.duckdb.connect()
    configure_engine(con, RunConfig(customers=True, max_memory=limit, temp_directory=str(tmp_path)))
    setting = con.raw_sql("SELECT current_setting('memory_limit'), current_setting('temp_directory')").fetchone()
    expected_mib = {"64MB": 61.0, "1GiB": 1024.0}[limit]  # DuckDB reports MiB (64 MB = 61.0 MiB)
    assert setting[0].replace(" ", "").upper() in {f"{expected_mib}MIB", f"{expected_mib / 1024:.1f}GIB"}, setting
    assert setting[1] == str(tmp_path)


def test_environment_variable_is_honoured(monkeypatch):
    monkeypatch.setenv("CUSTSEG_MAX_MEMORY", "100MB")
    con = ibis.duckdb.connect()
    configure_engine(con, RunConfig(customers=True))
    assert con.raw_sql("SELECT current_setting('memory_limit')").fetchone()[0].replace(" ", "") == "95.3MiB"


def test_config_file_sets_max_memory(tmp_path):
    data = big_csv(tmp_path / "sales.csv", 2_000, 50)
    config = tmp_path / "custseg.toml"
    config.write_text('[run]\nmax_memory = "256MB"\nk = 3\n', encoding="utf-8")
    result = runner.invoke(app, ["run", str(data), *MAP, "--config", str(config), "-o", str(tmp_path / "out"), "--no-report"])
    assert result.exit_code == 0, result.output
    assert '"max_memory": "256MB"' in (tmp_path / "out" / "run.json").read_text()


def test_a_tiny_cap_streams_or_stops_in_one_line(tmp_path):
    data = big_csv(tmp_path / "sales.csv", 400_000, 20_000)
    result = runner.invoke(app, ["run", str(data), *MAP, "--max-memory", "8MB", "--k", "3", "-o", str(tmp_path / "out"), "--no-report"])
    assert not (result.exception and not isinstance(result.exception, SystemExit)), repr(result.exception)
    if result.exit_code:
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith(f"Error: {data}: ") and "Out of Memory" in lines[0] and "(raise --max-memory, or free memory)" in lines[0], result.output
        assert not (tmp_path / "out").exists()
    else:
        assert (tmp_path / "out" / "model.json").is_file()


PEAK_SCRIPT = """
import resource, sys
from custseg.cli import app
sys.argv = ["custseg", *sys.argv[1:]]
try:
    app()
finally:
    print("PEAK_KB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""


@pytest.mark.slow
def test_large_input_under_a_memory_cap_keeps_the_process_small(tmp_path):
    """3M lines (~110 MB of CSV), 300k customers, DuckDB capped at 512MB: the whole process stays under 2 GB."""
    data = big_csv(tmp_path / "big.csv", 3_000_000, 300_000)
    run = subprocess.run([sys.executable, "-c", PEAK_SCRIPT, "run", str(data), *MAP, "--max-memory", "512MB", "--k", "4",
                          "--no-report", "-o", str(tmp_path / "out")], capture_output=True, text=True, timeout=1800)
    peak_kb = int(run.stderr.rsplit("PEAK_KB", 1)[1].split()[0])
    print(f"peak RSS {peak_kb / 1024:.0f} MiB for {data.stat().st_size / 1e6:.0f} MB of CSV")
    assert run.returncode in (0, 1), run.stderr
    assert "Traceback" not in run.stderr
    assert peak_kb < 2 * 1024 * 1024


def test_every_workflow_reads_under_the_same_memory_cap(tmp_path):
    """rfm and compare-methods prepare the data as run does: the same cap, the same one-line error."""
    data = str(shared_file("online_retail.csv"))
    outputs = {}
    for command in ("run", "rfm", "compare-methods"):
        result = runner.invoke(app, [command, data, "--preset", "online-retail", "--max-memory", "16MB",
                                     "-o", str(tmp_path / command)])
        assert result.exit_code == 1, result.output
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1 and "Out of Memory" in lines[0] and "(raise --max-memory, or free memory)" in lines[0]
        outputs[command] = lines[0]
        assert not (tmp_path / command).exists()
    assert outputs["rfm"] == outputs["compare-methods"] == outputs["run"]


def test_a_setting_the_engine_refuses_is_one_line_that_does_not_blame_the_input(monkeypatch, tmp_path):
    monkeypatch.setattr(_limits, "cpu_count", lambda: 0)  # DuckDB refuses 0 threads
    data = big_csv(tmp_path / "sales.csv", 200, 20)
    result = runner.invoke(app, ["run", str(data), *MAP, "-o", str(tmp_path / "out"), "--no-report"])
    assert result.exit_code == 1 and not (tmp_path / "out").exists()
    assert [line for line in result.output.splitlines() if line.strip()] == [
        "Error: DuckDB refused SET threads = 0: Syntax Error: Must have at least 1 thread! (an engine setting, not a "
        "problem of the input)"]
