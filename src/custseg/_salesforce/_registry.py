"""The push folders of this user, shared by every run: a push first resolves the jobs any of them left open.

A push or rollback writes its journal (`jobs.jsonl`) into its own folder; the same run pushed into
another folder (`-o`), or the same Account fields pushed by another run, write other journals.
Each folder that sends a job is listed once in `push_folders.jsonl` of the state folder
(`SalesforceSettings.state_dir`: `[salesforce] state_dir`, `CUSTSEG_STATE_DIR`, else
`$XDG_STATE_HOME/custseg`, else `~/.local/state/custseg`) with the
org and object it wrote to, so that the next push to that object reads back every job any of
them left unknown or running before it reads the current values.
"""

from __future__ import annotations

import json
from pathlib import Path

from .._atomic import append_line

REGISTRY_FILE = "push_folders.jsonl"


def json_lines(path: Path) -> list[dict]:
    """The entries of a JSON-lines file; a line cut short (a full disk) is skipped."""
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines() if path.is_file() else []:
        try:
            entries.append(json.loads(line))
        except ValueError:
            continue
    return entries


def _entry(instance: str, object_name: str, run_dir: Path, out_dir: Path) -> dict:
    return {"instance": instance, "object": object_name, "run_dir": str(run_dir.resolve()), "out_dir": str(out_dir.resolve())}


def register_folder(state_dir: str | Path, instance: str, object_name: str, run_dir: Path, out_dir: Path) -> None:
    """List `out_dir` (pushed from `run_dir`) among the folders that send jobs to `object_name` of `instance` (once)."""
    path = Path(state_dir).expanduser() / REGISTRY_FILE
    entry = _entry(instance, object_name, run_dir, out_dir)
    if entry not in json_lines(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        append_line(path, json.dumps(entry, ensure_ascii=False))


def push_folders(state_dir: str | Path, instance: str, object_name: str, journal: str) -> list[tuple[Path, Path]]:
    """(run folder, push folder) of every listed folder that sent jobs to `object_name` of `instance` and still has its `journal`."""
    found = []
    for entry in json_lines(Path(state_dir).expanduser() / REGISTRY_FILE):
        if (entry.get("instance"), entry.get("object")) == (instance, object_name) and entry.get("out_dir"):
            folders = (Path(entry.get("run_dir") or entry["out_dir"]), Path(entry["out_dir"]))
            if (folders[1] / journal).is_file() and folders not in found:
                found.append(folders)
    return found
