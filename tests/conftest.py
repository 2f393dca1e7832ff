"""Shared fixtures: the real datasets in ../shared/data and small sales tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from shared_data import shared_file, small_lines_frame


@pytest.fixture(autouse=True)
def private_state_dir(monkeypatch, tmp_path_factory):
    """Each test keeps custseg's user state (the list of Salesforce push folders) in a folder of its own."""
    monkeypatch.setenv("CUSTSEG_STATE_DIR", str(tmp_path_factory.mktemp("state")))


@pytest.fixture
def retail_csv() -> Path:
    return shared_file("online_retail.csv")


@pytest.fixture
def cc_general_csv() -> Path:
    return shared_file("cc_general.csv")


@pytest.fixture
def mall_csv() -> Path:
    return shared_file("mall_customers.csv")


@pytest.fixture
def small_lines() -> pd.DataFrame:
    """Sales lines of 60 customers in three clear behaviours, renamed columns (nothing hard-coded)."""
    return small_lines_frame()


@pytest.fixture(scope="session")
def reference_pipeline():
    """The study's pandas pipeline, kept in benchmarks/ (also used by the benchmarks)."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "reference_pipeline.py"
    spec = importlib.util.spec_from_file_location("reference_pipeline", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def seed_shaped_csv(tmp_path_factory) -> Path:
    """A generated export with the study's size: 287,879 lines, 7,747 accounts."""
    from custseg._workflows._demo_data import write_cpq_export

    return write_cpq_export(tmp_path_factory.mktemp("cpq") / "sales_2020.csv", n_lines=287_879, n_accounts=7_747, seed=2020)
