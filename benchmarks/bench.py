"""Benchmark: the study's pipeline (benchmarks/reference_pipeline.py) against `custseg run`.

    python benchmarks/bench.py                      # S, M and L; writes benchmarks/results.md
    python benchmarks/bench.py --sizes L --runs 3   # the headline L: 3 runs pinned to 2 cores, floors, results.md
    python benchmarks/bench.py --sizes XL --runs 1 --delete-data   # XL (~9 GB of Parquet, generated, then removed)
    python benchmarks/bench.py --sizes S,M --repeat 3
    python benchmarks/bench.py --reuse-reference M  # keep M's reference runs from results.json
    python benchmarks/bench.py --sizes M --engines duckdb,spark

Data are generated in --data-dir (default /tmp/custseg-bench) when missing, seed 42: S = 287,879
lines / 7,747 accounts (.xlsx, `custseg._workflows._demo_data.write_cpq_export`); M = 3M / 80k
(.csv and .parquet), L = 30M / 800k and XL = 300M / 8M (.parquet) shaped like issue 24's export
(`_generate.py`: the 12 columns as text, dates dd/mm/yyyy, 1.74M contracts at L; L 0.85 GB).
Each case also times the floor of each stage: the same work as one hand-written DuckDB query
(`_floors.py`, pinned likewise; --no-floors skips it).

Each run is a fresh process (imports included) timed from the outside; the process
reports its stage times and per-stage peak memory (`_child.py`). Both sides use the same
settings: rank scaling, k = 2..10, K-means with n_init = 10, a silhouette for every k; custseg
chooses k by its default vote (stability and gap-statistic refits on top of that), and at S
also like for like (`--k-rule silhouette`, the study's rule; --like-sizes).
Both sides run pinned to the same cores (`taskset -c 0,1`, --pin) and take turns
(reference, custseg, custseg with the report, custseg like for like, custseg with its own defaults, then again), so a change in the machine's
load hits both; each run records the load average before and after. L runs pinned
and on all the machine's cores, taking turns (--l-repeat rounds). The reference is not run at L: its time there is
extrapolated from its stages at M (linear stages x10, the exact silhouette x100).
"""

from __future__ import annotations

import argparse
import datetime as dtm
import json
import os
import platform
import resource
import shutil
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
    "XL": {"lines": 300_000_000, "accounts": 8_000_000, "formats": ("parquet",)},
}
LARGE = ("L", "XL")  # custseg only (the reference's time is extrapolated), pinned and on all cores
SETTINGS = ["--preset", "salesforce-cpq", "--scaling", "rank", "--k-range", "2..10", "--n-init", "10", "--seed", "42"]
# Like for like: the study chooses k by the silhouette alone; custseg's default vote adds 45 stability refits and
# 54 gap-statistic fits, timed apart so the table shows both.
LIKE_FOR_LIKE = ["--k-rule", "silhouette"]
# What a user runs: custseg's own defaults (k = 3..8, the edge tries 9 and 10 when the vote lands on 8), no report.
OWN_DEFAULTS = ["--preset", "salesforce-cpq", "--no-report"]
L_FACTOR = 10  # L has 10x the lines and customers of M


def data_file(data_dir: Path, size: str, fmt: str) -> Path:
    """The benchmark input, generated (seed 42) when missing."""
    path = data_dir / (f"cpq_{size}.{fmt}" if size == "S" else f"export_{size}.{fmt}")
    if path.exists():
        return path
    data_dir.mkdir(parents=True, exist_ok=True)
    spec, start = SIZES[size], time.perf_counter()
    if size == "S":
        from custseg._workflows._demo_data import write_cpq_export

        write_cpq_export(path, n_lines=spec["lines"], n_accounts=spec["accounts"], seed=42)
    elif fmt == "parquet":
        from _generate import write_export

        write_export(path, spec["lines"], spec["accounts"], seed=42)
    else:  # the same lines as text
        import duckdb

        parquet = data_file(data_dir, size, "parquet")
        duckdb.execute(f"COPY (SELECT * FROM read_parquet('{parquet}')) TO '{path}' (FORMAT csv, HEADER)")
    print(f"generated {path} in {time.perf_counter() - start:.1f} s", flush=True)
    return path


def run_floors(path: Path, pin: str | None) -> dict:
    """Each stage's floor (`_floors.py`) in a fresh process on cores `pin`."""
    threads = len(pin.split(",")) if pin else os.cpu_count()
    before = load()
    out = subprocess.run([*(["taskset", "-c", pin] if pin else []), sys.executable, str(HERE / "_floors.py"), str(path),
                          "--threads", str(threads)], check=True, capture_output=True, text=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("FLOORS-JSON "))
    return {"stages": json.loads(line.removeprefix("FLOORS-JSON ")), "load_before": before[0],
            "at": dtm.datetime.now().isoformat(timespec="seconds")}


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run_child(args: list[str], pin: str | None) -> dict:
    """Run `_child.py args` in a fresh process (on cores `pin`, via taskset); its JSON plus outside wall time and load."""
    before, used = load(), resource.getrusage(resource.RUSAGE_CHILDREN)
    prefix = ["taskset", "-c", pin] if pin else []
    start = time.perf_counter()
    proc = subprocess.Popen([*prefix, sys.executable, str(HERE / "_child.py"), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    if proc.returncode:
        raise RuntimeError(f"{args[:2]} failed ({proc.returncode}):\n{err[-3000:]}")
    line = next(line for line in out.splitlines() if line.startswith("BENCH-JSON "))
    result = json.loads(line.removeprefix("BENCH-JSON "))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # one child at a time: the difference is this one's
    cpu = after.ru_utime + after.ru_stime - used.ru_utime - used.ru_stime
    result |= {"wall": round(wall, 2), "cpu_total": round(cpu, 2), "at": dtm.datetime.now().isoformat(timespec="seconds"), "load_before": before[0], "load_after": load()[0], "loadavg_before": before,
               "cores": pin or f"all ({os.cpu_count()})"}
    return result


def time_help(pin: str | None, repeat: int = 5) -> dict:
    """Wall seconds of `custseg --help` (the start-up target: < 0.6 s), `repeat` fresh processes."""
    command = [*(["taskset", "-c", pin] if pin else []), str(Path(sys.executable).with_name("custseg")), "--help"]
    walls, loads = [], []
    for _ in range(repeat):
        loads.append(load()[0])
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        walls.append(round(time.perf_counter() - start, 3))
    return {"walls": walls, "load_before": loads}


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
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side at S and M, taking turns (L: --l-repeat)")
    parser.add_argument("--l-repeat", type=int, default=3, help="runs of custseg at L and XL (pinned, then on all cores, taking turns)")
    parser.add_argument("--runs", type=int, help="sets both --repeat and --l-repeat")
    parser.add_argument("--no-floors", action="store_true", help="skip the stages' floor queries (_floors.py)")
    parser.add_argument("--all-cores", choices=("auto", "yes", "no"), default="auto",
                        help="L and XL also on all the machine's cores (auto: when it has more than --pin)")
    parser.add_argument("--delete-data", action="store_true", help="remove each generated L/XL input after its runs")
    parser.add_argument("--reference-repeat", type=int, default=None, help="runs of the reference at S and M (default --repeat)")
    parser.add_argument("--engines", default="duckdb", help="custseg engines to time: duckdb and/or spark")
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/custseg-bench"))
    parser.add_argument("--results", type=Path, default=HERE / "results.json")
    parser.add_argument("--reuse-reference", default="", help="sizes whose reference runs are kept from --results, e.g. M")
    parser.add_argument("--report-sizes", default="S,M", help="sizes also timed with the HTML report")
    parser.add_argument("--like-sizes", default="S", help="sizes also timed like for like (k by silhouette alone, as the study)")
    parser.add_argument("--defaults-sizes", default="S", help="sizes also timed with custseg's own defaults (what a user runs)")
    parser.add_argument("--formats", default="xlsx,csv,parquet", help="input formats to time (M has csv and parquet)")
    parser.add_argument("--pin", default="0,1", help="cores both sides run on (taskset -c); empty: no pinning")
    args = parser.parse_args(argv)
    if args.runs:
        args.repeat = args.l_repeat = args.runs
    pin = args.pin if args.pin and shutil.which("taskset") else None
    all_cores = args.all_cores == "yes" or (args.all_cores == "auto" and pin is not None
                                            and os.cpu_count() > len(pin.split(",")))
    reference_repeat = args.repeat if args.reference_repeat is None else args.reference_repeat

    previous = json.loads(args.results.read_text()) if args.results.exists() else {}
    results = {"machine": machine(), "started": dtm.datetime.now().isoformat(timespec="seconds"),
               "load_start": os.getloadavg(), "pinned_to": pin or "none",
               "cases": dict(previous.get("cases", {}))}  # cases not timed now are kept
    out_root = Path(tempfile.mkdtemp(prefix="custseg-bench-out-"))
    reuse = set(filter(None, args.reuse_reference.split(",")))
    results["help"] = time_help(pin)
    print(f"custseg --help: {results['help']['walls']} s", flush=True)

    def timed(case: str, key: str, child_args: list[str], cores: str | None) -> dict:
        print(f"{case}: {key} ...", flush=True)
        run = run_child(child_args, cores)
        print(f"  {run['wall']} s (load {run['load_before']})", flush=True)
        return run

    for size in args.sizes.split(","):
        for fmt in [f for f in SIZES[size]["formats"] if f in args.formats.split(",")]:
            path = data_file(args.data_dir, size, fmt)
            case = f"{size}-{fmt}"
            old = previous.get("cases", {}).get(case, {})
            entry = results["cases"][case] = {"lines": SIZES[size]["lines"], "accounts": SIZES[size]["accounts"],
                                              "file_mb": round(path.stat().st_size / 2**20, 1)}
            if not args.no_floors and fmt == "parquet" and size != "S":
                entry["floors"] = run_floors(path, pin)
                print(f"{case}: floors {entry['floors']['stages']}", flush=True)
            if size == "L":
                m_ref = results["cases"].get("M-parquet", {}).get("reference")
                if m_ref:
                    entry["reference"] = [extrapolate_reference(min(m_ref, key=lambda r: r["wall"]))]
            elif size in reuse and old.get("reference"):
                entry["reference"] = old["reference"]
            else:  # XL: none (the extrapolation from M would be a guess at 100x)
                entry["reference"] = []
            runs_reference = size not in LARGE and size not in reuse
            for round_ in range(args.l_repeat if size in LARGE else max(args.repeat, reference_repeat if runs_reference else 0)):
                if runs_reference and round_ < reference_repeat:
                    entry["reference"].append(timed(case, "reference", ["reference", str(path)], pin))
                for engine in args.engines.split(","):
                    for report, like, own in ((False, False, False), (True, False, False), (False, True, False),
                                              (False, False, True)):
                        key = (f"custseg-{engine}" + ("-report" if report else "") + ("-silhouette" if like else "")
                               + ("-defaults" if own else ""))
                        if report and (engine != "duckdb" or size not in args.report_sizes.split(",")
                                       or (size != "S" and round_ > 0)):
                            continue
                        if like and (engine != "duckdb" or size not in args.like_sizes.split(",")):
                            continue
                        if own and (engine != "duckdb" or size not in args.defaults_sizes.split(",")):
                            continue
                        if round_ >= (args.l_repeat if size in LARGE else args.repeat):
                            continue
                        options = OWN_DEFAULTS if own else [*SETTINGS, "--report" if report else "--no-report",
                                                            *(LIKE_FOR_LIKE if like else [])]
                        if engine != "duckdb":
                            options += ["--engine", engine]
                        child = ["custseg", str(path), str(out_root / f"{case}-{key}"), *options]
                        entry.setdefault(key, []).append(timed(case, key, child, pin))
                        if size in LARGE and engine == "duckdb" and not report and all_cores:  # and on all the machine's cores
                            entry.setdefault(key + "-allcores", []).append(timed(case, key + "-allcores", child, None))
                args.results.write_text(json.dumps(results, indent=1))
            if args.delete_data and size in LARGE:
                path.unlink()
    results["finished"] = dtm.datetime.now().isoformat(timespec="seconds")
    results["load_end"] = os.getloadavg()
    args.results.write_text(json.dumps(results, indent=1))
    from _report_md import write_markdown

    write_markdown(results, args.results.with_name("results.md"))
    print(f"wrote {args.results} and {args.results.with_name('results.md')}")


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    main()
