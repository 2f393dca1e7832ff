"""DuckDB's settings: threads and memory follow the CPU quota and the cgroup, the progress bar is off without
touching it in Jupyter, and an engine failure blames the input only when the input can cause it."""

from __future__ import annotations

import duckdb
import ibis
import pytest

from custseg import DataError, EngineError, segment
from custseg._config import RunConfig, preset
from custseg._engines import _limits, connect, describe_engine_error
from custseg._prep._prepare import prepare


def _setting(con, name: str):
    return con.raw_sql(f"SELECT current_setting('{name}')").fetchone()[0]


def _mib(shown: str) -> float:
    """A size as DuckDB prints it ('476.0 MiB', '1.2 GiB') in MiB."""
    number, unit = shown.split()
    return float(number) * {"MiB": 1, "GiB": 1024}[unit]


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


def test_without_a_cgroup_limit_a_quarter_of_the_machine(monkeypatch, config):
    monkeypatch.setattr(_limits, "memory_limit_bytes", lambda: None)
    monkeypatch.setattr(_limits, "physical_memory_bytes", lambda: 24 * 2**30)
    monkeypatch.delenv(_limits.MEMORY_ENV, raising=False)
    con = ibis.duckdb.connect()
    _limits.configure_engine(con, config)
    assert _setting(con, "memory_limit") == "6.0 GiB"  # 25% of 24 GiB, not DuckDB's 80%


def test_an_explicit_limit_wins_over_the_cgroup(monkeypatch):
    monkeypatch.setattr(_limits, "memory_limit_bytes", lambda: 10 * 2**30)
    con = ibis.duckdb.connect()
    _limits.configure_engine(con, RunConfig(mapping=preset("salesforce-cpq"), max_memory="1GiB"))
    assert _setting(con, "memory_limit") == "1.0 GiB"


class JupyterLikeConnection:
    """A DuckDB connection that refuses any change of the progress bar, as DuckDB does in a Jupyter kernel
    without ipywidgets (there the bar starts off)."""

    def __init__(self) -> None:
        self.con = ibis.duckdb.connect()
        self.con.raw_sql("SET enable_progress_bar = false")
        self.statements: list[str] = []

    def raw_sql(self, sql: str):
        if "SET enable_progress_bar" in sql:
            raise duckdb.InvalidInputException("Invalid Input Error: Could not change the progress bar setting because: "
                                               "'required package 'ipywidgets' is missing'")
        self.statements.append(sql)
        return self.con.raw_sql(sql)


def test_the_progress_bar_is_turned_off_where_it_is_on(config):
    assert _setting(connect(config), "enable_progress_bar") is False  # on by default outside Jupyter


def test_a_progress_bar_already_off_is_left_alone(config):
    con = JupyterLikeConnection()
    _limits.configure_engine(con, config)
    assert _setting(con, "enable_progress_bar") is False
    assert [s for s in con.statements if s.startswith("SET")][0].startswith("SET threads")


def test_a_refused_setting_does_not_blame_the_input(monkeypatch, tmp_path):
    monkeypatch.setattr(_limits, "cpu_count", lambda: 0)
    path = tmp_path / "sales.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(EngineError) as caught:
        segment(path, customers=True, id_column="a")
    assert str(caught.value) == ("DuckDB refused SET threads = 0: Syntax Error: Must have at least 1 thread! "
                                 "(an engine setting, not a problem of the input)")


@pytest.mark.parametrize(("error", "expected"), [
    (duckdb.BinderException("Binder Error: Referenced column \"x\" not found"), EngineError),
    (duckdb.InternalException("INTERNAL Error: something broke"), EngineError),
    (duckdb.InvalidInputException("Invalid Input Error: CSV Error on Line: 3\nExpected 2 columns"), DataError),
    (duckdb.ConversionException("Conversion Error: Could not convert 'x' to INT32"), DataError),
])
def test_only_failures_the_input_can_cause_name_it(error, expected):
    @_limits.engine_errors
    def stage(data):
        raise error

    with pytest.raises(expected) as caught:
        stage("sales.csv")
    first = str(error).splitlines()[0]
    assert str(caught.value) == {
        EngineError: f"DuckDB failed while preparing sales.csv: {first} (an engine or custseg error, not a problem "
                     "of the input; please report it)",
        DataError: f"sales.csv: {describe_engine_error(error)}"}[expected]


def test_after_the_preparation_duckdb_keeps_an_eighth_and_its_tables_move_to_disk(tmp_path):
    con = ibis.duckdb.connect()
    con.raw_sql("SET memory_limit = '4GB'")
    con.raw_sql(f"SET temp_directory = '{tmp_path}'")
    con.raw_sql("CREATE TABLE held AS SELECT range AS id, repeat('x', 40) || range AS text FROM range(8000000)")  # ~0.5 GB
    used = "SELECT sum(memory_usage_bytes) FROM duckdb_memory()"
    assert con.raw_sql(used).fetchone()[0] > 300 * 2**20
    _limits.shrink_after_preparation(con)
    assert _mib(_setting(con, "memory_limit")) == pytest.approx(4e9 / 8 / 2**20, rel=0.02)  # 4 GB / 8
    con.raw_sql("SET memory_limit = '300MB'")
    _limits.shrink_after_preparation(con)  # an eighth would be 37.5 MB: DuckDB keeps 256 MiB, or all when less
    assert _setting(con, "memory_limit") == "256.0 MiB"
    assert con.raw_sql(used).fetchone()[0] <= 256 * 2**20  # the held table went to the spill folder
    assert any(tmp_path.iterdir())
    assert con.raw_sql("SELECT count(*), max(id) FROM held").fetchone() == (8_000_000, 7_999_999)  # and reads back


def test_a_prepared_input_leaves_duckdb_an_eighth_of_its_limit(retail_csv):
    prepared = prepare(retail_csv, RunConfig(mapping=preset("online-retail"), max_memory="8GB"))
    assert _mib(_setting(prepared.product_lines.get_backend(), "memory_limit")) == pytest.approx(8e9 / 8 / 2**20, rel=0.02)
    assert len(prepared.customers) == 4_339  # as test_clean.py counts them


def test_without_a_limit_duckdb_keeps_what_it_has():
    con = ibis.duckdb.connect()
    con.raw_sql("SET memory_limit = '-1'")
    before = _setting(con, "memory_limit")
    _limits.shrink_after_preparation(con)
    assert _setting(con, "memory_limit") == before
