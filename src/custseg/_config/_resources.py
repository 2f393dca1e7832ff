"""The CPUs and memory this process may use: its CPU affinity and its cgroup's quota, not the host's counts.

A container limited to 2 CPUs on a 64-core host must not start 64 threads: DuckDB's
threads, the K-means workers and the BLAS/OpenMP pools follow `cpu_count()`, and
DuckDB's memory limit follows `memory_limit_bytes()` when the cgroup sets one. Both read
cgroup v2 (`cpu.max`, `memory.max`) or v1 (`cpu.cfs_quota_us` / `cpu.cfs_period_us`,
`memory.limit_in_bytes`), for the process's own cgroup and its ancestors (the smallest
limit applies).

>>> 1 <= cpu_count() <= (os.cpu_count() or 1)
True
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_CGROUP = Path("/proc/self/cgroup")
NO_LIMIT = 2**60  # cgroup v1 writes "no limit" as a huge number (9223372036854771712)


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _cgroup_dirs(controller: str, root: Path, proc_cgroup: Path) -> list[Path]:
    """The folders of this process's cgroup for `controller` (v1) or the unified one (v2), own first, then its ancestors."""
    text = _read(proc_cgroup) or ""
    for line in text.splitlines():
        _, controllers, path = line.split(":", 2)
        if controllers == "" and (root / "cgroup.controllers").exists():  # v2, unified
            base = root
        elif controller in controllers.split(","):
            base = root / controllers
            if not base.exists():
                base = root / controller
        else:
            continue
        parts = Path(path.lstrip("/")).parts
        dirs = [base.joinpath(*parts[:i]) for i in range(len(parts), -1, -1)]
        return [d for d in dirs if d.is_dir()] or [base]
    return [root / controller, root]


def cgroup_cpu_limit(root: Path = CGROUP_ROOT, proc_cgroup: Path = PROC_CGROUP) -> float | None:
    """CPUs the cgroup quota allows (e.g. 2.0 for `200000 100000`), or None without a quota."""
    limits = []
    for folder in _cgroup_dirs("cpu", root, proc_cgroup):
        v2 = _read(folder / "cpu.max")
        if v2 is not None:
            quota, _, period = v2.partition(" ")
            if quota != "max" and period:
                limits.append(int(quota) / int(period))
            continue
        quota, period = _read(folder / "cpu.cfs_quota_us"), _read(folder / "cpu.cfs_period_us")
        if quota and period and int(quota) > 0:
            limits.append(int(quota) / int(period))
    return min(limits) if limits else None


def cgroup_memory_limit(root: Path = CGROUP_ROOT, proc_cgroup: Path = PROC_CGROUP) -> int | None:
    """Bytes the cgroup allows this process (memory.max or memory.limit_in_bytes), or None without a limit."""
    limits = []
    for folder in _cgroup_dirs("memory", root, proc_cgroup):
        value = _read(folder / "memory.max") or _read(folder / "memory.limit_in_bytes")
        if value and value != "max" and int(value) < NO_LIMIT:
            limits.append(int(value))
    return min(limits) if limits else None


def _affinity() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def cpu_count(root: Path = CGROUP_ROOT, proc_cgroup: Path = PROC_CGROUP) -> int:
    """Threads worth running: the CPUs this process may run on, capped by the cgroup quota (rounded up), at least 1."""
    cpus = _affinity()
    quota = cgroup_cpu_limit(root, proc_cgroup)
    if quota is not None:
        cpus = min(cpus, math.ceil(quota))
    return max(1, cpus)


def physical_memory_bytes() -> int | None:
    """The machine's memory (None where the system does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def memory_limit_bytes(root: Path = CGROUP_ROOT, proc_cgroup: Path = PROC_CGROUP) -> int | None:
    """The cgroup's memory limit when it is below the machine's memory, else None (the machine's own limit applies)."""
    limit = cgroup_memory_limit(root, proc_cgroup)
    physical = physical_memory_bytes()
    if physical is None:
        return limit
    return limit if limit is not None and limit < physical else None
