"""CPU and memory limits from fake cgroup files (v2 and v1), own cgroup and ancestors."""

from __future__ import annotations

import os

import pytest

from custseg._config import _resources as R


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def v2(tmp_path):
    """A cgroup v2 tree; the process is in /app/job."""
    root = tmp_path / "cgroup"
    _write(root / "cgroup.controllers", "cpu memory")
    (root / "app" / "job").mkdir(parents=True)
    proc = tmp_path / "proc_cgroup"
    _write(proc, "0::/app/job\n")
    return root, proc


@pytest.fixture
def v1(tmp_path):
    """A cgroup v1 tree with cpu,cpuacct mounted together; the process is in /docker/abc."""
    root = tmp_path / "cgroup"
    (root / "cpu,cpuacct" / "docker" / "abc").mkdir(parents=True)
    (root / "memory" / "docker" / "abc").mkdir(parents=True)
    proc = tmp_path / "proc_cgroup"
    _write(proc, "4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n0::/\n")
    return root, proc


@pytest.mark.parametrize(("affinity", "files", "limit", "expected"), [
    (64, {"app/job/cpu.max": "200000 100000"}, 2.0, 2),  # the quota caps the affinity
    (64, {"app/job/cpu.max": "max 100000", "app/cpu.max": "150000 100000"}, 1.5, 2),  # an ancestor's, rounded up
    (3, {"app/job/cpu.max": "max 100000"}, None, 3),  # no quota: the affinity
    (2, {"app/job/cpu.max": "800000 100000"}, 8.0, 2),  # the affinity below the quota wins
    (8, {"app/job/cpu.max": "10000 100000"}, 0.1, 1),  # a tiny quota still gives one thread
])
def test_v2_cpu_quota(v2, monkeypatch, affinity, files, limit, expected):
    root, proc = v2
    monkeypatch.setattr(R, "_affinity", lambda: affinity)
    for name, text in files.items():
        _write(root / name, text + "\n")
    assert R.cgroup_cpu_limit(root, proc) == limit
    assert R.cpu_count(root, proc) == expected


def test_v2_memory_limit(v2):
    root, proc = v2
    _write(root / "app" / "job" / "memory.max", "max\n")
    assert R.cgroup_memory_limit(root, proc) is None
    _write(root / "app" / "memory.max", str(3 * 2**30))
    assert R.cgroup_memory_limit(root, proc) == 3 * 2**30
    assert R.memory_limit_bytes(root, proc) == 3 * 2**30  # below any test machine's memory


@pytest.mark.parametrize(("quota", "memory", "cpus", "limit"), [
    ("400000", str(2 * 2**30), 4, 2 * 2**30),
    ("-1", "9223372036854771712", 6, None),  # v1's "no limit"
])
def test_v1_cpu_quota_and_memory_limit(v1, monkeypatch, quota, memory, cpus, limit):
    root, proc = v1
    monkeypatch.setattr(R, "_affinity", lambda: 6 if limit is None else 64)
    job = root / "cpu,cpuacct" / "docker" / "abc"
    _write(job / "cpu.cfs_quota_us", quota + "\n")
    _write(job / "cpu.cfs_period_us", "100000\n")
    _write(root / "memory" / "docker" / "abc" / "memory.limit_in_bytes", memory + "\n")
    assert R.cpu_count(root, proc) == cpus
    assert R.memory_limit_bytes(root, proc) == limit


def test_memory_limit_above_the_machine_is_ignored(v2):
    root, proc = v2
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    _write(root / "app" / "job" / "memory.max", str(physical * 4))
    assert R.cgroup_memory_limit(root, proc) == physical * 4
    assert R.memory_limit_bytes(root, proc) is None


def test_missing_files_mean_no_limits(tmp_path, monkeypatch):
    monkeypatch.setattr(R, "_affinity", lambda: 5)
    assert R.cpu_count(tmp_path / "none", tmp_path / "none") == 5
    assert R.memory_limit_bytes(tmp_path / "none", tmp_path / "none") is None


def test_this_machine():
    assert 1 <= R.cpu_count() <= (os.cpu_count() or 1)
