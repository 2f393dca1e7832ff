"""The bad-input catalogue (catalogue.py): exact one-line messages, exit codes, no traceback, no output."""

from __future__ import annotations

from pathlib import Path

import pytest
from catalogue import CASES, Case, expected_message, render_table
from typer.testing import CliRunner

from custseg.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def contents(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def invoke_case(case: Case, folder: Path, source: Path):
    out = folder / "out"
    written = () if case.command == "review" else ("-o", str(out), "--no-report")  # a review rewrites its run
    args = [case.command, str(source), *(a.replace("{dir}", str(folder)) for a in case.args), *written]
    return runner.invoke(app, args), out


def run_case(case: Case, folder: Path):
    return invoke_case(case, folder, case.make(folder))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(tmp_path, case):
    folder = tmp_path / "in"
    folder.mkdir()
    source = case.make(folder)
    before = contents(folder)
    result, out = invoke_case(case, folder, source)
    crashed = result.exception if not isinstance(result.exception, SystemExit) else None
    assert crashed is None, f"traceback: {crashed!r}"
    assert "Traceback" not in result.output
    assert result.exit_code == case.code, result.output
    if case.code:
        assert [line for line in result.output.splitlines() if line.strip()] == [expected_message(case, folder)]
        assert not out.exists()
        assert not [p.name for p in folder.iterdir() if p.name.startswith(".out.")]  # no staging left behind
        if case.command == "review":  # the run and the table exactly as they were
            assert contents(folder) == before and not [p.name for p in folder.iterdir() if p.name.startswith((".run.", ".~run"))]
    else:
        assert case.check is not None
        case.check(out)


def test_catalogue_is_large_and_documented():
    errors = [c for c in CASES if c.code]
    assert len(errors) >= 40 and len({c.id for c in CASES}) == len(CASES)
    doc = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    assert render_table() in doc, "docs/errors.md is out of date: regenerate it with python tests/hardening/make_errors_doc.py"
