"""examples/demo.ipynb runs end to end in a fresh Jupyter kernel (without ipywidgets: DuckDB's progress bar must be
left alone there) and shows each result's summary as the run folders it wrote say."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import lxml.html
import nbclient
import nbformat
import pandas as pd

import custseg

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "demo.ipynb"


def _output(notebook, source_start: str, kind: str) -> str:
    """The `kind` (text/html, text/plain) of the result of the code cell starting with `source_start`."""
    cell = next(c for c in notebook.cells if c.cell_type == "code" and c.source.startswith(source_start))
    return next(o["data"][kind] for o in cell.outputs if o.output_type == "execute_result")


def _check_summary(page_html: str, run_dir: Path) -> None:
    """The summary's table: one row per segment of profiles.csv, id, name and size as written."""
    profiles = pd.read_csv(run_dir / "profiles.csv").sort_values("segment_id")
    run = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    page = lxml.html.fromstring(page_html)
    rows = [[td.text_content() for td in tr.cssselect("td")] for tr in page.cssselect("table tbody tr")]
    assert [(int(r[0]), r[1], int(r[2].replace(",", ""))) for r in rows] == list(
        zip(profiles["segment_id"], profiles["name_en"], profiles["size"]))
    assert len(rows) == run["k"]["chosen"]
    assert page.cssselect("p")[1].text_content() == f"k = {run['k']['chosen']}: {run['k']['reason_en']}"


def test_the_demo_notebook_runs_in_a_fresh_kernel(tmp_path, monkeypatch):
    source = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.outputs and c.execution_count is None for c in source.cells if c.cell_type == "code")  # committed clean
    shutil.copy(NOTEBOOK, tmp_path / NOTEBOOK.name)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(Path(custseg.__file__).parents[1]), os.environ.get("PYTHONPATH", "")]))
    notebook = nbformat.read(tmp_path / NOTEBOOK.name, as_version=4)
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}},
                            allow_errors=True).execute()
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert [o.get("evalue") for o in outputs if o.output_type == "error"] == []
    assert [o.text for o in outputs if o.output_type == "stream" and o.name == "stderr"] == []
    demo = tmp_path / "custseg-demo"
    _check_summary(_output(notebook, "result = custseg.segment", "text/html"), demo / "run_2020")
    _check_summary(_output(notebook, "refreshed = custseg.refresh", "text/html"), demo / "run_2021")
    assert _output(notebook, "scored = custseg.score", "text/plain").startswith("SegmentationResult: sales_2021.csv · ")
    assert _output(notebook, "result = custseg.segment", "text/plain").startswith("SegmentationResult: sales_2020.csv · ")
    for written in ("run_2020/report.html", "run_2020/fr/report.html", "run_2021/model.json", "migration/migration.json"):
        assert (demo / written).is_file(), written
    summary = json.loads((demo / "migration" / "migration.json").read_text(encoding="utf-8"))
    assert summary["stayed_in_segment"] + summary["changed_segment"] == summary["customer_overlap"]["shared"]
