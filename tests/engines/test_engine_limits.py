"""DuckDB's threads and memory limit follow the CPU quota and the cgroup memory limit."""

from __future__ import annotations

import ibis
import pytest

from custseg._config import RunConfig, preset
from custseg._engines import _limits


def _setting(con, name: str):
    return con.raw_sql(f"SELECT current_setting('{name}')").fetchone()[0]


@pytest.fixture
def config():
    return RunConfig(mapping=preset("salesforce-cpq"))


def test_threads_follow_the_cpu_quota(monkeypatch, config):
    monkeypatch.setattr(_limits, "cpu_count", lambda: 1)
    monkeypatch.setattr(_limits, "memory_limit_bytes", lambda: None)
    monkeypatch.delenv(_limits.MEMORY_ENV, raising=False)
    con = ibis.duckdb.connect()
    _limits.configure_engine(con, config)
    assert _setting(con, "threads") == 1


def test_memory_limit_follows_the_cgroup(monkeypatch, config):
    monkeypatch.setattr(_limits, "cpu_count", lambda: 2)
    monkeypatch.setattr(_limits, "memory_limit_bytes", lambda: 10 * 2**30)
    monkeypatch.delenv(_limits.MEMORY_ENV, raising=False)
    con = ibis.duckdb.connect()
    _limits.configure_engine(con, config)
    assert _setting(con, "threads") == 2
    assert _setting(con, "memory_limit") == "6.0 GiB"  # 60% of 10 GiB, as DuckDB prints it


def test_an_explicit_limit_wins_over_the_cgroup(monkeypatch):
    monkeypatch.setattr(_limits, "memory_limit_bytes", lambda: 10 * 2**30)
    con = ibis.duckdb.connect()
    _limits.configure_engine(con, RunConfig(mapping=preset("salesforce-cpq"), max_memory="1GiB"))
    assert _setting(con, "memory_limit") == "1.0 GiB"
