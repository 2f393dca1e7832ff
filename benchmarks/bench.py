"""Benchmark: the study's pipeline (benchmarks/reference_pipeline.py) against `custseg run`.

    python benchmarks/bench.py                      # S, M and L; writes benchmarks/results.md
    python benchmarks/bench.py --sizes S,M --repeat 3
    python benchmarks/bench.py --reuse-reference    # keep the reference numbers of results.json
    python benchmarks/bench.py --sizes M --engines duckdb,spark

Data are seed-shaped CPQ exports made by `custseg._workflows._demo_data.write_cpq_export` (seed 42) in
--data-dir (default /tmp/custseg-bench), generated when missing: S = 287,879 lines /
7,747 accounts (.xlsx), M = 3M / 80k (.csv and .parquet), L = 30M / 800k (.parquet).

Each run is a fresh process (imports included) timed from the outside; the process
reports its stage times and per-stage peak memory (`_child.py`). Both sides use the same
settings: rank scaling, k = 2..10, K-means with n_init = 10, a silhouette for every k.
The reference is not run at L: its time there is extrapolated from its stages at M
(linear stages x10, the exact silhouette x100).
"""

from __future__ import annotations

import argparse
import datetime as dtm
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
SIZES = {
    "S": {"lines": 287_879, "accounts": 7_747, "formats": ("xlsx",)},
    "M": {"lines": 3_000_000, "accounts": 80_000, "formats": ("csv", "parquet")},
    "L": {"lines": 30_000_000, "accounts": 800_000, "formats": ("parquet",)},
}
SETTINGS = ["--preset", "salesforce-cpq", "--scaling", "rank", "--k-range", "2..10", "--n-init", "10", "--seed", "42"]
L_FACTOR = 10  # L has 10x the lines and customers of M


def data_file(data_dir: Path, size: str, fmt: str) -> Path:
    """The benchmark input, generated (seed 42) when missing."""
    path = data_dir / f"cpq_{size}.{fmt}"
    if not path.exists():
        from custseg._workflows._demo_data import write_cpq_export

        data_dir.mkdir(parents=True, exist_ok=True)
        spec = SIZES[size]
        start = time.perf_counter()
        write_cpq_export(path, n_lines=spec["lines"], n_accounts=spec["accounts"], seed=42)
        print(f"generated {path} in {time.perf_counter() - start:.1f} s", flush=True)
    return path


def load() -> float:
    return os.getloadavg()[0]


def run_child(args: list[str]) -> dict:
    """Run `_child.py args` in a fresh process; its JSON plus outside wall time and load."""
    before = load()
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(HERE / "_child.py"), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    if proc.returncode:
        raise RuntimeError(f"{args[:2]} failed ({proc.returncode}):\n{err[-3000:]}")
    line = next(line for line in out.splitlines() if line.startswith("BENCH-JSON "))
    result = json.loads(line.removeprefix("BENCH-JSON "))
    result |= {"wall": round(wall, 2), "load_before": round(before, 2), "load_after": round(load(), 2)}
    return result


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")))
    versions = {}
    for name in ("custseg", "numpy", "pandas", "scikit-learn", "duckdb", "ibis-framework", "fastexcel", "openpyxl", "pyspark"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "-"
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(mem_kb / 2**20, 1), "python": platform.python_version(),
            "os": platform.platform(), "versions": versions}


def extrapolate_reference(m_run: dict) -> dict:
    """The reference at L from its stages at M: linear stages x10, exact silhouette x100."""
    stages = {name: seconds * (L_FACTOR**2 if name == "silhouette" else L_FACTOR) if name != "imports" else seconds
              for name, seconds in m_run["stages"].items()}
    # memory: the pandas stages hold the lines and grow with them (x10); scikit-learn's silhouette
    # works in chunks, so its peak is not extrapolated (docs/performance.md measured 21.6 GB at L
    # for the group-by alone)
    peaks = {k: round(v * L_FACTOR, 1) for k, v in m_run["peak_mb"].items() if k in ("read", "features")}
    return {"stages": {k: round(v, 1) for k, v in stages.items()}, "wall": round(sum(stages.values()), 1),
            "extrapolated": True, "peak_mb": peaks, "process_peak_mb": max(peaks.values())}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="S,M,L")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each S and M case (L runs once)")
    parser.add_argument("--reference-repeat", type=int, default=1, help="runs of the reference at S and M")
    parser.add_argument("--engines", default="duckdb", help="custseg engines to time: duckdb and/or spark")
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/custseg-bench"))
    parser.add_argument("--results", type=Path, default=HERE / "results.json")
    parser.add_argument("--reuse-reference", action="store_true", help="take the reference runs from --results")
    parser.add_argument("--reference-only", action="store_true", help="run only the reference (keeps custseg runs of --results)")
    args = parser.parse_args(argv)

    previous = json.loads(args.results.read_text()) if args.results.exists() else {}
    results = {"machine": machine(), "started": dtm.datetime.now().isoformat(timespec="seconds"),
               "load_start": os.getloadavg(),
               "cases": previous.get("cases", {}) if args.reuse_reference or args.reference_only else {}}
    out_root = Path(tempfile.mkdtemp(prefix="custseg-bench-out-"))
    for size in args.sizes.split(","):
        for fmt in SIZES[size]["formats"]:
            path = data_file(args.data_dir, size, fmt)
            case = f"{size}-{fmt}"
            entry = results["cases"].setdefault(case, {})
            entry |= {"lines": SIZES[size]["lines"], "accounts": SIZES[size]["accounts"], "file_mb": round(path.stat().st_size / 2**20, 1)}
            repeat = 1 if size == "L" else args.repeat
            if size == "L":
                m_ref = results["cases"].get("M-parquet", {}).get("reference")
                if m_ref:
                    entry["reference"] = [extrapolate_reference(min(m_ref, key=lambda r: r["wall"]))]
            elif not (args.reuse_reference and entry.get("reference")):
                entry["reference"] = []
                for _ in range(args.reference_repeat):
                    print(f"{case}: reference ...", flush=True)
                    entry["reference"].append(run_child(["reference", str(path)]))
                    print(f"  {entry['reference'][-1]['wall']} s", flush=True)
            for engine in [] if args.reference_only else args.engines.split(","):
                for report in (False, True):
                    key = f"custseg-{engine}" + ("-report" if report else "")
                    if engine != "duckdb" and report:
                        continue
                    entry[key] = []
                    for _ in range(repeat if not report or size == "S" else 1):
                        print(f"{case}: {key} ...", flush=True)
                        options = [*SETTINGS, "--report" if report else "--no-report"]
                        if engine != "duckdb":
                            options += ["--engine", engine]
                        entry[key].append(run_child(["custseg", str(path), str(out_root / f"{case}-{key}"), *options]))
                        print(f"  {entry[key][-1]['wall']} s", flush=True)
            args.results.write_text(json.dumps(results, indent=1))
    results["finished"] = dtm.datetime.now().isoformat(timespec="seconds")
    args.results.write_text(json.dumps(results, indent=1))
    from _report_md import write_markdown

    write_markdown(results, HERE / "results.md")
    print(f"wrote {args.results} and {HERE / 'results.md'}")


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    main()
