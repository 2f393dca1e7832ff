"""One timed side of a benchmark, run in its own process by `bench.py`.

    python benchmarks/_child.py reference DATA [--ks 2..10] [--elbow]
    python benchmarks/_child.py custseg DATA OUT_DIR [custseg run options...]

Prints one JSON line: seconds, CPU seconds and peak resident memory (MB) per stage, worker processes
included (their CPU in the stage; their peaks added). The peak of a
stage is the process's high-water mark (VmHWM) reset at the start of the stage
(`/proc/self/clear_refs`), so each stage's peak is its own, not the run's so far.
Linux only.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import json
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import psutil

STARTED = time.perf_counter()


def peak_mb() -> float:
    """High-water mark of this process's resident memory, MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:  # not Linux, or not allowed: peaks are then cumulative
        pass


def workers() -> dict[int, tuple[float, float]]:
    """{pid: (CPU seconds, peak resident MB)} of this process's live descendants (the per-segment stability's
    worker processes, `_cluster/_jaccard`)."""
    found = {}
    for child in psutil.Process().children(recursive=True):
        try:
            with child.oneshot():
                times, hwm = child.cpu_times(), child.memory_info().rss / 2**20
            with open(f"/proc/{child.pid}/status") as status:
                hwm = next((int(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM:")), hwm)
            found[child.pid] = (times.user + times.system, hwm)
        except (psutil.Error, OSError):
            continue
    return found


class Stages:
    """Seconds, CPU seconds and peak memory per stage. CPU and memory include the worker processes: their CPU
    used during the stage, and their peaks added to the process's (an upper bound: the peaks may not coincide)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.peak_mb: dict[str, float] = {}
        self.cpu: dict[str, float] = {}  # CPU seconds, all threads: less sensitive to the machine's load

    @contextmanager
    def stage(self, name: str):
        reset_peak()
        start, cpu, before = time.perf_counter(), time.process_time(), workers()
        try:
            yield
        finally:
            after = workers()
            spent = time.process_time() - cpu + sum(used - before.get(pid, (0.0, 0.0))[0] for pid, (used, _) in after.items())
            self.cpu[name] = round(self.cpu.get(name, 0.0) + spent, 4)
            self.seconds[name] = round(self.seconds.get(name, 0.0) + time.perf_counter() - start, 4)
            peak = peak_mb() + sum(hwm for _, hwm in after.values())
            self.peak_mb[name] = round(max(self.peak_mb.get(name, 0.0), peak), 1)


def _reference(path: str, ks: range, elbow: bool) -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import reference_pipeline as ref
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    stages = Stages()
    stages.seconds["imports"] = round(time.perf_counter() - STARTED, 4)
    with stages.stage("read"):
        df = ref.read_export(path)
    with stages.stage("features"):
        normalized = ref.normalise(ref.customer_features(df))
        del df
    X = normalized[ref.FEATURES]
    if elbow:  # the study's elbow plot, k = 1..10 (not part of the like-for-like comparison)
        with stages.stage("elbow"):
            for k in range(1, 11):
                KMeans(n_clusters=k, n_init=10).fit(X)
    silhouettes = {}
    for k in ks:  # the study's loop (ref.silhouettes), with the two calls timed apart
        with stages.stage("kmeans"):
            labels = KMeans(n_clusters=k, n_init=10).fit(X).labels_
        with stages.stage("silhouette"):
            silhouettes[k] = float(silhouette_score(X, labels))
    return {"stages": stages.seconds, "peak_mb": stages.peak_mb, "cpu": stages.cpu, "n_customers": len(X), "silhouettes": silhouettes}


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Run `patch(module)` right after `name` is first imported (the CLI imports its modules lazily)."""

    def __init__(self, name: str, patch) -> None:
        self.name, self.patch = name, patch

    def find_spec(self, fullname, path, target=None):
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        run_module = spec.loader.exec_module

        def exec_module(module):
            run_module(module)
            self.patch(module)

        spec.loader.exec_module = exec_module
        return spec


def _custseg(path: str, out_dir: str, options: list[str]) -> dict:
    """`custseg run` as the console script runs it: heavy libraries load when the command needs them
    (a workbook is parsed meanwhile), so "imports" is the time until the first stage starts."""
    stages = Stages()
    first_stage: list[float] = []

    def patch_timer(module) -> None:
        class Timer(module.Timer):
            @contextmanager
            def stage(self, name):
                first_stage.append(first_stage[0] if first_stage else time.perf_counter())
                with stages.stage(name), super().stage(name):
                    yield

        module.Timer = Timer

    def patch_write(module) -> None:
        write_run = module.write_run

        def timed_write_run(*args, **kwargs):
            with stages.stage("write"):
                return write_run(*args, **kwargs)

        module.write_run = timed_write_run

    sys.meta_path.insert(0, _PatchOnImport("custseg._prep._prepare", patch_timer))
    sys.meta_path.insert(0, _PatchOnImport("custseg._outputs", patch_write))
    from custseg.cli import main

    sys.argv = ["custseg", "run", path, "-o", out_dir, "--overwrite", *options]
    try:
        main()  # what the `custseg` console script runs, its exit included
    except SystemExit as ended:
        if ended.code:
            raise
    stages.seconds = {"imports": round(first_stage[0] - STARTED, 4), **stages.seconds}
    run = json.loads((Path(out_dir) / "run.json").read_text())
    k_selection = (Path(out_dir) / "k_selection.csv").read_text()
    return {"stages": stages.seconds, "peak_mb": stages.peak_mb, "cpu": stages.cpu, "n_customers": run["n_customers"],
            "k": run["k"]["chosen"], "k_record": run["k"], "engine": run.get("engine", "duckdb"),
            "k_selection": k_selection}


def main(argv: list[str]) -> None:
    side, path, *rest = argv
    if side == "reference":
        ks = range(2, 11)
        if "--ks" in rest:
            low, high = rest[rest.index("--ks") + 1].split("..")
            ks = range(int(low), int(high) + 1)
        result = _reference(path, ks, "--elbow" in rest)
    else:
        out_dir, *options = rest
        result = _custseg(path, out_dir, options)
    result["process_peak_mb"] = round(max(result["peak_mb"].values()), 1)  # the stages' peaks cover the run
    print("BENCH-JSON " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
