"""Folder locks: one custseg process at a time writes a run folder or pushes from it (standard library only)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ._errors import CustsegError, UsageError

try:
    import fcntl
except ImportError:  # Windows: no advisory locks, `folder_lock` only marks the folder
    fcntl = None

_RESERVED: set[Path] = set()  # lock files held by this process's `reserved_output`


def check_output_dir(target: Path, overwrite: bool) -> None:
    """Refuse a target that is a file, or an existing directory without `overwrite`."""
    if target.exists() and not target.is_dir():
        raise UsageError(f"output {target} exists and is not a directory")
    if target.is_dir() and any(target.iterdir()) and not overwrite:
        raise UsageError(f"output directory {target} already exists and is not empty (use --overwrite to replace it)")


def lock_file(target: Path) -> Path:
    """The lock file of `target`: `.~NAME.lock` beside it."""
    target = Path(target).absolute()
    return target.parent / f".~{target.name}.lock"


def _holder(fd: int) -> str:
    text = os.pread(fd, 20, 0).decode("ascii", "replace").strip()
    return f" (pid {text})" if text.isdigit() else ""


@contextmanager
def folder_lock(target: str | Path, cannot: str = "cannot lock") -> Iterator[None]:
    """Hold an exclusive lock on the folder `target` while the block runs; CustsegError at once if it is taken.

    A lock file that cannot be created is a UsageError starting with `cannot`.

    The lock is an `flock` on `.~NAME.lock` beside `target`: the system releases it when the process
    ends, even on kill -9, so a lock is never stale; the file is removed when the block ends. Inside
    `reserved_output` of the same folder it is already held: the block just runs.
    """
    path = lock_file(target)
    if path in _RESERVED:  # this command reserved the folder (`reserved_output`) and now writes it
        yield
        return
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise UsageError(f"{cannot} {target}: {exc.strerror or exc}") from None
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = _holder(fd)
            os.close(fd)
            raise CustsegError(f"{target} is in use by another custseg process{holder} (a run writing it or a push); "
                               "wait for it to finish, or use another folder") from None
        try:  # the previous holder may have removed the file between our open and flock
            current = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            current = False
        if current:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        yield
    finally:
        path.unlink(missing_ok=True)
        os.close(fd)


@contextmanager
def reserved_output(target: str | Path, overwrite: bool = False) -> Iterator[None]:
    """Check an output folder and lock it for the whole command, before any work is done.

    A second command on the same folder stops at once with one line instead of computing
    for minutes and then finding the folder taken (or already there without --overwrite).
    """
    target = Path(target)
    check_output_dir(target, overwrite)
    try:  # `-o runs/2021` where runs/ is new: the parents are made, the folder itself only when the run is complete
        target.absolute().parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create output directory {target}: {exc.strerror or exc}") from None
    with folder_lock(target, cannot="cannot create output directory"):
        path = lock_file(target)
        _RESERVED.add(path)
        try:
            yield
        finally:
            _RESERVED.discard(path)
