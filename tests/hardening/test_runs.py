"""Interrupted and repeated runs: all or nothing, byte-identical reruns, --overwrite, full disk, no permission."""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from hardening_data import MAP, csv_text, good_rows
from typer.testing import CliRunner

import custseg._outputs as outputs
from custseg._atomic import remove_stale_staging
from custseg._locks import folder_lock
from custseg.cli import app

runner = CliRunner()
RUN_FILES = {"assignments.csv", "assignments.parquet", "profiles.csv", "k_selection.csv", "top_products.csv",
             "product_revenue.parquet", "cleaning.json", "model.json", "run.json"}


def sales(tmp_path: Path, n: int = 90) -> Path:
    path = tmp_path / "sales.csv"
    path.write_text(csv_text(good_rows(n)), encoding="utf-8")
    return path


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def digest(folder: Path, names=("assignments.csv", "assignments.parquet", "model.json", "profiles.csv", "k_selection.csv")) -> dict:
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in names}


def test_rerun_is_byte_identical_and_needs_overwrite(tmp_path):
    data = sales(tmp_path)
    first = invoke("run", data, *MAP, "-o", tmp_path / "a", "--no-report")
    second = invoke("run", data, *MAP, "-o", tmp_path / "b", "--no-report")
    assert first.exit_code == second.exit_code == 0
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    refused = invoke("run", data, *MAP, "-o", tmp_path / "a", "--no-report")
    assert refused.exit_code == 2
    assert refused.output.strip() == f"Error: output directory {tmp_path / 'a'} already exists and is not empty (use --overwrite to replace it)"
    replaced = invoke("run", data, *MAP, "-o", tmp_path / "a", "--no-report", "--overwrite")
    assert replaced.exit_code == 0 and digest(tmp_path / "a") == digest(tmp_path / "b")


@pytest.mark.parametrize("stage", ["custseg._prep._prepare.clean_lines", "custseg._workflows._segment.Segmenter.fit", "custseg._outputs.write_csv",
                                   "custseg._outputs.dump_json"])
def test_ctrl_c_at_any_stage_keeps_the_previous_run(tmp_path, monkeypatch, stage):
    data = sales(tmp_path)
    out = tmp_path / "out"
    assert invoke("run", data, *MAP, "-o", out, "--no-report").exit_code == 0
    before = digest(out)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(stage, interrupted)
    result = invoke("run", data, *MAP, "-o", out, "--no-report", "--overwrite", "--k", "3")
    assert result.exit_code == 130 and result.output.strip() == "Interrupted."
    assert digest(out) == before and set(p.name for p in out.iterdir()) == RUN_FILES
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_full_disk_while_writing_keeps_the_previous_run(tmp_path, monkeypatch):
    data = sales(tmp_path)
    out = tmp_path / "out"
    assert invoke("run", data, *MAP, "-o", out, "--no-report").exit_code == 0
    before = digest(out)
    real = outputs.write_csv

    def fills_the_disk(frame, path):
        if path.name == "profiles.csv":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real(frame, path)

    monkeypatch.setattr(outputs, "write_csv", fills_the_disk)
    result = invoke("run", data, *MAP, "-o", out, "--no-report", "--overwrite")
    assert result.exit_code == 1
    assert result.output.strip() == (f"Error: cannot write {out} (profiles.csv): No space left on device; nothing was written, "
                                     "the previous run is unchanged")
    assert digest(out) == before
    fresh = invoke("run", data, *MAP, "-o", tmp_path / "new", "--no-report")
    assert fresh.output.strip().endswith("nothing was written, no output directory was created")
    assert fresh.exit_code == 1 and not (tmp_path / "new").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def _mount_tmpfs(folder: Path, size: str) -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    folder.mkdir()
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True).returncode == 0


def test_real_full_disk_on_a_tiny_tmpfs(tmp_path):
    disk = tmp_path / "disk"
    if not _mount_tmpfs(disk, "64k"):
        pytest.skip("mounting a tmpfs needs root")
    try:
        data = sales(tmp_path, 3000)
        result = invoke("run", data, *MAP, "-o", disk / "out")  # with the report: far more than 64 KB
        assert result.exit_code == 1, result.output
        line = result.output.strip()
        assert line.startswith(f"Error: cannot write {disk / 'out'}") and "No space left on device" in line
        assert "\n" not in line and list(disk.iterdir()) == []
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_output_folder_without_write_permission(tmp_path):
    data = sales(tmp_path)
    locked = tmp_path / "locked"
    if os.geteuid() == 0:
        if not _mount_tmpfs(locked, "1m"):
            pytest.skip("root ignores permissions and a read-only mount is not available")
        subprocess.run(["mount", "-o", "remount,ro", str(locked)], check=True)
    else:
        locked.mkdir()
        locked.chmod(0o555)
    try:
        result = invoke("run", data, *MAP, "-o", locked / "out", "--no-report")
        assert result.exit_code == 2
        reason = "Read-only file system" if os.geteuid() == 0 else "Permission denied"
        assert result.output.strip() == f"Error: cannot create output directory {locked / 'out'}: {reason}"
    finally:
        if os.geteuid() == 0:
            subprocess.run(["umount", str(locked)], check=False)
        else:
            locked.chmod(0o755)


KILL_SCRIPT = """
import sys, time
from custseg.cli import app
sys.argv = ["custseg", *sys.argv[1:]]
app()
"""


def test_sigkill_at_several_moments_leaves_nothing_or_the_previous_run(tmp_path):
    """Kill `custseg run` (SIGKILL: no cleanup possible) at several moments; then check the folder."""
    data = sales(tmp_path, 60_000)
    out = tmp_path / "out"
    args = [sys.executable, "-c", KILL_SCRIPT, "run", str(data), *MAP, "-o", str(out), "--no-report", "--overwrite", "--k-range", "2..4"]
    finished = subprocess.run(args, capture_output=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    before = digest(out)
    total = None
    for delay in (0.5, 1.5, 3.0, 5.0, 8.0):
        start = time.monotonic()
        process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        total = time.monotonic() - start
        assert digest(out) == before  # the complete previous run, never a mix
        assert {p.name for p in out.iterdir()} == RUN_FILES
        leftovers = [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]
        assert all(p.name.startswith(".out.partial-") for p in leftovers)  # hidden, clearly partial
    assert total is not None
    # the next run removes the staging folders of killed runs
    assert invoke("run", data, *MAP, "-o", out, "--no-report", "--overwrite", "--k-range", "2..4").exit_code == 0
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".out.")] == []
    assert digest(out) == before


def test_second_run_on_the_same_output_stops_with_one_line(tmp_path):
    data = sales(tmp_path)
    out = tmp_path / "out"
    assert invoke("run", data, *MAP, "-o", out, "--no-report").exit_code == 0
    before = digest(out)
    with folder_lock(out):  # another `custseg run -o out` (or a push from out) is writing it
        second = invoke("run", data, *MAP, "-o", out, "--no-report", "--overwrite", "--k", "2")
    assert second.exit_code == 1
    assert second.output.strip() == (f"Error: {out} is in use by another custseg process (pid {os.getpid()}) "
                                     "(a run writing it or a push); wait for it to finish, or use another folder")
    assert digest(out) == before and "Results in" not in second.output
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no lock file, no staging left
    assert invoke("run", data, *MAP, "-o", out, "--no-report", "--overwrite", "--k", "2").exit_code == 0


def test_a_taken_output_stops_the_second_run_before_any_work(tmp_path, monkeypatch):
    data = sales(tmp_path)
    out = tmp_path / "out"

    def must_not_run(*args, **kwargs):
        raise AssertionError("the data was read although the output folder is taken")

    monkeypatch.setattr("custseg._workflows._segment.prepare", must_not_run)
    with folder_lock(out):
        second = invoke("run", data, *MAP, "-o", out, "--no-report")
    assert second.exit_code == 1 and "is in use by another custseg process" in second.output
    existing = tmp_path / "existing"
    (existing / "old.txt").parent.mkdir()
    (existing / "old.txt").write_text("x")
    refused = invoke("run", data, *MAP, "-o", existing, "--no-report")
    assert refused.exit_code == 2 and "already exists and is not empty (use --overwrite" in refused.output


def test_stale_staging_of_a_live_process_is_kept(tmp_path):
    live = tmp_path / f".out.partial-{os.getpid()}-abc"
    dead = tmp_path / ".out.partial-999999999-abc"
    live.mkdir(), dead.mkdir()
    assert remove_stale_staging(tmp_path, "out") == [dead]
    assert live.exists() and not dead.exists()


def test_no_pickle_is_ever_loaded():
    source = Path(__file__).resolve().parents[2] / "src" / "custseg"
    for path in source.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for forbidden in ("import pickle", "pickle.load", "joblib.load", "allow_pickle=True", "read_pickle", "import dill",
                          "cloudpickle"):
            assert forbidden not in text, f"{path.name} uses {forbidden}"


def test_model_json_scores_the_training_data_identically(tmp_path):
    data = sales(tmp_path)
    assert invoke("run", data, *MAP, "-o", tmp_path / "run", "--no-report").exit_code == 0
    scored = invoke("score", data, "--model", tmp_path / "run", "-o", tmp_path / "scored", "--no-report")
    assert scored.exit_code == 0, scored.output
    trained = pd.read_csv(tmp_path / "run" / "assignments.csv")
    again = pd.read_csv(tmp_path / "scored" / "assignments.csv")
    assert trained["segment_id"].tolist() == again["segment_id"].tolist()
