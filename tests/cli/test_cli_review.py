"""`custseg review`, in-process: the status, export, apply and approve lines a user sees."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from custseg import ColumnMapping, segment, write_run
from custseg._review import read_review_table
from custseg.cli import app

runner = CliRunner()
GOOD = "cust,inv,qty,price\n" + "".join(f"c{i % 9},i{i},{1 + i % 3},{5 + (i % 9) ** 2}\n" for i in range(90))
# customer cj has the 10 lines i = j, j + 9, ...: quantity 1 + j % 3 (9 is a multiple of 3), price 5 + j**2, so its
# revenue is 10 (1 + j % 3)(5 + j**2): c0 50, c1 120, c2 270, c3 140, c4 420, c5 900, c6 410, c7 1080, c8 2070; 5460 in all
REVENUE = {"c0": 50, "c1": 120, "c2": 270, "c3": 140, "c4": 420, "c5": 900, "c6": 410, "c7": 1080, "c8": 2070}


def invoke(*args) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def nine_customers(tmp_path_factory) -> Path:
    """Nine customers in three segments, with a report."""
    folder = tmp_path_factory.mktemp("cli_review")
    frame = pd.read_csv(pd.io.common.StringIO(GOOD), dtype=str)
    mapping = ColumnMapping(customer="cust", order="inv", quantity="qty", price="price")
    return write_run(segment(frame, mapping=mapping, k=3), folder / "run")


@pytest.fixture
def run_dir(nine_customers, tmp_path) -> Path:
    return Path(shutil.copytree(nine_customers, tmp_path / "run"))


def test_status_export_apply_approve(run_dir, tmp_path):
    code, out = invoke("review", run_dir)
    assert code == 0 and "3 segments of" in out and "Not reviewed yet." in out
    assert f'Not approved: nobody approved it. To approve: custseg review {run_dir} --approve --by "Your Name"' in " ".join(out.split())

    table = tmp_path / "segments.csv"
    code, out = invoke("review", run_dir, "--export", table)
    assert code == 0 and f"Review table: {table} (3 segments)." in " ".join(out.split())
    frame = read_review_table(table)
    old_name = frame.loc[0, "name_en"]
    frame.loc[0, "name_en"] = "Best clients"
    frame.loc[2, "merge_into"] = "2"
    frame.to_csv(table, index=False)

    code, out = invoke("review", run_dir, "--apply", table, "--by", "A. Name")
    text = " ".join(out.split())
    assert code == 0, out
    assert "by A. Name: 2 change(s), 3 -> 2 segments." in text
    assert f"segment 1 name_en: '{old_name}' -> 'Best clients'" in text and "segment 3 merged into 2" in text
    assert f"Every output of {run_dir} rewritten." in text and "2 segments of" in text
    assert "Reviewed by A. Name on " in text and "Not approved: nobody approved it." in text

    code, out = invoke("review", run_dir, "--approve", "--by", "B. Boss")
    assert code == 0 and "Approved by B. Boss on " in out
    assert "assignments.parquet, profiles.csv and model.json are those approved." in " ".join(out.split())


@pytest.mark.parametrize("args, code, message", [
    (("--approve",), 2, 'Error: say who signs with --by, e.g. --by "A. Name" (recorded in run.json)'),
    (("--export", "t.csv", "--approve", "--by", "X"), 2, "Error: review does one thing at a time: --export, --apply or --approve"),
    (("--export", "t.txt"), 2, "Error: review table t.txt must end with .xlsx or .csv"),
    (("--apply", "missing.csv", "--by", "X"), 1, "Error: missing.csv: file not found"),
])
def test_errors_are_one_line(run_dir, tmp_path, monkeypatch, args, code, message):
    monkeypatch.chdir(tmp_path)
    got, out = invoke("review", run_dir, *args)
    assert got == code and out.strip() == message


def test_a_folder_that_is_not_a_run(tmp_path):
    code, out = invoke("review", tmp_path)
    assert code == 1 and out.strip().startswith(f"Error: {tmp_path}: not a finished custseg run (missing assignments.parquet")


def test_the_merged_segment_holds_the_sums_of_its_parts(run_dir, tmp_path):
    """Hand-checkable: after merging 3 into 2, segment 2's size and revenue are those of its customers (REVENUE)."""
    before = pd.read_parquet(run_dir / "assignments.parquet")
    parts = before.loc[before["segment_id"].isin([2, 3]), "customer_id"].tolist()
    invoke("review", run_dir, "--export", tmp_path / "t.csv")
    frame = read_review_table(tmp_path / "t.csv")
    frame.loc[frame["segment_id"] == "3", "merge_into"] = "2"
    frame.to_csv(tmp_path / "t.csv", index=False)
    code, out = invoke("review", run_dir, "--apply", tmp_path / "t.csv", "--by", "A. Name")
    assert code == 0, out
    profiles = pd.read_csv(run_dir / "profiles.csv").set_index("segment_id")
    revenue = sum(REVENUE[c] for c in parts)
    assert profiles.loc[2, "size"] == len(parts) and profiles.loc[2, "revenue"] == pytest.approx(revenue)
    assert profiles.loc[2, "revenue_share"] == pytest.approx(revenue / 5460)
    assert profiles["revenue"].sum() == pytest.approx(5460)
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    row = html[html.index('<tr style="--seg:', html.index('data-segment="2"') - 60):]
    row = row[:row.index("</tr>")]
    assert f"<td class=\"num\">{len(parts)}<br>" in row and f"{revenue / 5460:.1%}" in row
