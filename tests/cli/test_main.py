"""The console script's entry point, `main()`, as `custseg` runs it."""

import gc
import sys
import weakref

import pytest

from custseg import cli
from custseg._prep import _prepare
from custseg._workflows._demo_data import write_cpq_export


def test_run_lets_go_of_the_engine_before_main_freezes_the_heap(tmp_path, monkeypatch):
    """main() ends with gc.freeze(): the DuckDB connection (and its spill files) must be closed by then, without the collector."""
    export = write_cpq_export(tmp_path / "sales.xlsx", n_lines=3_000, n_accounts=120, seed=7)
    backends = []
    connect = _prepare.connect

    def tracked(config, data=None):
        backend = connect(config, data)
        backends.append(weakref.ref(backend))
        return backend

    monkeypatch.setattr(_prepare, "connect", tracked)
    monkeypatch.setattr(sys, "argv", ["custseg", "run", str(export), "--preset", "salesforce-cpq", "--k-range", "2..4",
                                      "-o", str(tmp_path / "out"), "--no-report"])
    gc.disable()
    try:
        with pytest.raises(SystemExit) as ended:
            cli.main()
        released = [ref() is None for ref in backends]
    finally:
        gc.unfreeze()
        gc.enable()
    assert ended.value.code == 0
    assert (tmp_path / "out" / "run.json").is_file()
    assert released == [True]
    assert gc.get_freeze_count() == 0  # unfrozen again: the rest of the session collects as usual


def test_main_freezes_even_when_the_command_fails(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["custseg", "run", str(tmp_path / "missing.csv"), "--preset", "online-retail",
                                      "-o", str(tmp_path / "out")])
    try:
        with pytest.raises(SystemExit) as ended:
            cli.main()
        frozen = gc.get_freeze_count()
    finally:
        gc.unfreeze()
    assert ended.value.code == 1
    assert frozen > 0
