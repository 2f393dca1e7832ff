"""Atomic writes: outputs appear complete or not at all, and spreadsheet cells stay inert; the JSON records
they write are read back with one-line errors (`read_json`)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from ._errors import CustsegError, DataError, UsageError
from ._locks import check_output_dir, folder_lock

# OWASP CSV injection: a cell starting with one of these is a formula in Excel/LibreOffice.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
NEUTRAL_PREFIX = "'"


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


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


def _sync_directory(path: Path) -> None:
    """Flush a directory entry (a rename or a new file) to disk, where the platform allows it."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_text_atomic(path: Path, text: str, durable: bool = False) -> None:
    """Write `text` to `path` through a temporary file in the same directory; `durable` flushes it to disk."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        make_shareable(Path(tmp), 0o666)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if durable:
        _sync_directory(path.parent)


def append_line(path: Path, line: str) -> None:
    """Append one line to `path` with a single `O_APPEND` write, flushed to disk.

    Concurrent writers never interleave inside a line and nothing already written is rewritten.
    """
    data = (line.rstrip("\n") + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        if os.write(fd, data) != len(data):
            raise OSError(28, "No space left on device (line cut short)", str(path))
        os.fsync(fd)
    finally:
        os.close(fd)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_staging(parent: Path, name: str) -> list[Path]:
    """Delete the `.NAME.partial-PID-*` staging folders and files of runs and pulls that were killed (process gone)."""
    removed = []
    for staged in parent.glob(f".{name}.partial-*"):
        pid = staged.name[len(f".{name}.partial-"):].split("-", 1)[0]
        if pid.isdigit() and _process_alive(int(pid)):
            continue
        if staged.is_dir():
            shutil.rmtree(staged, ignore_errors=True)
        else:
            staged.unlink(missing_ok=True)
        removed.append(staged)
    return removed


@contextmanager
def staged_directory(target: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary directory beside `target`; on success it replaces `target`.

    On any error the temporary directory is removed and `target` is left as it was. `target` is
    locked meanwhile (`folder_lock`): a second writer stops at once with one line.
    """
    target = Path(target)
    if target.exists() and not target.is_dir():
        check_output_dir(target, overwrite)
    parent = target.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create output directory {target}: {exc.strerror or exc}") from None
    with folder_lock(target, cannot="cannot create output directory"):
        check_output_dir(target, overwrite)
        try:
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


def read_json(path: Path, missing: str, invalid: str):
    """The JSON value in `path`; DataError `{path}: {missing}` when the file is absent, `{path}: {invalid}` (its
    `{error}` filled) when it is not JSON."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{path}: {missing}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: {invalid.format(error=exc)}") from None
