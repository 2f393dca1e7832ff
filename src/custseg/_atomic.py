"""Atomic writes: outputs appear complete or not at all, and spreadsheet cells stay inert."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from ._errors import CustsegError, UsageError

# OWASP CSV injection: a cell starting with one of these is a formula in Excel/LibreOffice.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
NEUTRAL_PREFIX = "'"


def neutralise_cell(value: object) -> object:
    """Prefix a text cell that a spreadsheet would run as a formula; numbers stay numbers.

    >>> neutralise_cell("=HYPERLINK(1)"), neutralise_cell(-3.5)
    ("'=HYPERLINK(1)", -3.5)
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return NEUTRAL_PREFIX + value
    return value


def restore_cell(value: object) -> object:
    """Undo `neutralise_cell` when reading one of our own CSV files back."""
    if isinstance(value, str) and value.startswith(NEUTRAL_PREFIX) and value[1:2] and value[1:].startswith(FORMULA_TRIGGERS):
        return value[1:]
    return value


def _map_text_cells(frame: pd.DataFrame, function) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(function)
    return out


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy of `frame` with every text cell neutralised."""
    return _map_text_cells(frame, neutralise_cell)


def restore_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy of `frame` with `restore_cell` applied to every text cell."""
    return _map_text_cells(frame, restore_cell)


def make_shareable(path: Path, mode: int) -> None:
    """Give a temporary file or folder (created private) the usual permissions under the umask."""
    umask = os.umask(0)
    os.umask(umask)
    path.chmod(mode & ~umask)


def write_text_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file in the same directory."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        make_shareable(Path(tmp), 0o666)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_output_dir(target: Path, overwrite: bool) -> None:
    """Refuse a target that is a file, or an existing directory without `overwrite`."""
    if target.exists() and not target.is_dir():
        raise UsageError(f"output {target} exists and is not a directory")
    if target.is_dir() and any(target.iterdir()) and not overwrite:
        raise UsageError(f"output directory {target} already exists and is not empty (use --overwrite to replace it)")


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_staging(parent: Path, name: str) -> list[Path]:
    """Delete the `.NAME.partial-PID-*` staging folders of runs that were killed (their process is gone)."""
    removed = []
    for folder in parent.glob(f".{name}.partial-*"):
        pid = folder.name[len(f".{name}.partial-"):].split("-", 1)[0]
        if folder.is_dir() and (not pid.isdigit() or not _process_alive(int(pid))):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


@contextmanager
def staged_directory(target: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary directory beside `target`; on success it replaces `target`.

    On any error the temporary directory is removed and `target` is left as it was.
    """
    target = Path(target)
    check_output_dir(target, overwrite)
    parent = target.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        remove_stale_staging(parent, target.name)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-{os.getpid()}-", dir=parent))
        make_shareable(staging, 0o777)
    except OSError as exc:
        raise UsageError(f"cannot create output directory {target}: {exc.strerror or exc}") from None
    try:
        try:
            yield staging
        except OSError as exc:  # disk full, quota, permissions: the previous run stays as it was
            where = f" ({Path(exc.filename).name})" if exc.filename else ""
            raise CustsegError(f"cannot write {target}{where}: {exc.strerror or exc}; nothing was written, "
                               f"{'the previous run is unchanged' if target.exists() else 'no output directory was created'}") from None
        if target.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=parent))
            os.replace(target, retired / target.name)
            os.replace(staging, target)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
