"""Where the real datasets are (../shared/data beside the project, absent in a user's own clone), and a small
table of sales lines built in code."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def shared_file(name: str) -> Path:
    """Path of a real dataset, or skip the test with the reason."""
    path = SHARED_DATA / name
    if not path.is_file():
        pytest.skip(f"{path} not found: real-data tests need the shared datasets in ../shared/data")
    return path


def small_lines_frame() -> pd.DataFrame:
    """The `small_lines` fixture's table, for fixtures of a wider scope."""
    rows = []
    for c in range(60):
        kind = c % 3
        n_lines = (2, 12, 30)[kind]
        price = (500.0, 40.0, 10.0)[kind]
        for i in range(n_lines):
            rows.append({"Client": f"C{c:03d}", "Ligne": f"L{c:03d}-{i:02d}", "Article": f"P{(c + i) % 7}",
                         "Qte": 1.0 + (i % 2), "PU": price * (1 + 0.01 * (c % 5)), "Jour": f"{1 + i % 28:02d}/03/2021"})
    return pd.DataFrame(rows)
