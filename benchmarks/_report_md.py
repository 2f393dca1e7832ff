"""Write benchmarks/results.md from the raw runs in results.json."""

from __future__ import annotations

import json
import sys
from pathlib import Path

STAGE_ORDER = ("imports", "read", "clean", "features", "scale", "cluster", "kmeans", "silhouette", "elbow", "profile", "write")


def best(runs: list[dict]) -> dict:
    return min(runs, key=lambda r: r["wall"])


def span(runs: list[dict]) -> str:
    walls = sorted(r["wall"] for r in runs)
    text = f"{walls[0]:.1f}"
    if len(walls) > 1:
        text += f" ({walls[0]:.1f}-{walls[-1]:.1f}, {len(walls)} runs)"
    return text


def loads(runs: list[dict]) -> str:
    """The 1-minute load averages before the runs: 'a-b', or 'a'."""
    values = sorted(r["load_before"] for r in runs if "load_before" in r)
    if not values:
        return "-"
    return f"{values[0]:.1f}" if values[0] == values[-1] else f"{values[0]:.1f}-{values[-1]:.1f}"


def gb(mb: float) -> str:
    return f"{mb / 1024:.2f} GB"


def ordered(names) -> list[str]:
    return sorted(names, key=lambda s: STAGE_ORDER.index(s) if s in STAGE_ORDER else 99)


def stages(run: dict) -> str:
    parts = []
    for name in ordered(run["stages"]):
        peak = run.get("peak_mb", {}).get(name)
        parts.append(f"{name} {run['stages'][name]:.1f} s" + (f" / {peak / 1024:.2f} GB" if peak else ""))
    return "; ".join(parts)


def stage_table(run: dict, floors: dict | None) -> list[str]:
    """Per stage: seconds, CPU seconds (all threads) and their ratio (cores kept busy), peak memory, the floor."""
    rows = ["| stage | seconds | CPU seconds | CPU / wall | peak | floor (one DuckDB query) |", "|---|---|---|---|---|---|"]
    floors = (floors or {}).get("stages", {})
    for name in ordered(run["stages"]):
        wall, cpu = run["stages"][name], run.get("cpu", {}).get(name)
        peak = run.get("peak_mb", {}).get(name)
        floor = floors.get(name)
        floor_text = f"{floor['seconds']:.1f} s (CPU {floor['cpu']:.1f} s)" if floor else "-"
        cpu_text = f"{cpu:.1f}" if cpu is not None else "-"
        ratio = f"{cpu / wall:.2f}" if cpu is not None and wall > 0 else "-"
        rows.append(f"| {name} | {wall:.1f} | {cpu_text} | {ratio} | {gb(peak) if peak else '-'} | {floor_text} |")
    return rows


def write_markdown(results: dict, path: Path, notes: str | None = None) -> None:
    """results.md; `notes` (default: the text of notes.md beside this file) go under the table."""
    if notes is None:
        source = Path(__file__).with_name("notes.md")
        notes = source.read_text() if source.exists() else ""
    m = results["machine"]
    stamps = sorted(r["at"] for entry in results["cases"].values() for runs in entry.values()
                    if isinstance(runs, list) for r in runs if "at" in r)
    first_run, last_run = (stamps[0], stamps[-1]) if stamps else (results["started"], results.get("finished", "?"))
    lines = [
        "# Benchmark results: the study's pipeline vs custseg",
        "",
        "Written by `python benchmarks/bench.py` (see its docstring). Same settings on both sides:",
        "rank scaling, k = 2..10, K-means n_init = 10, a silhouette for each k. The reference is",
        "`benchmarks/reference_pipeline.py` (pandas `read_excel`/openpyxl, lambda `nunique` group-by,",
        "scikit-learn KMeans and exact `silhouette_score` per k). Wall = the whole process from the",
        "outside (Python start-up and imports included), fastest run; peak = highest resident memory",
        "of the process (per stage in the details). custseg's number excludes the HTML report unless",
        "the column says otherwise; all other outputs (CSV, Parquet, JSON) are written.",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB RAM, Python {m['python']}, {m['os']}.",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()) + ".",
        f"Runs {first_run} to {last_run}; 1-minute load average at the start of the last invocation "
        f"{results['load_start'][0]:.1f} (per-run load in results.json). Both sides pinned to cores "
        f"{results.get('pinned_to', 'none')} (`taskset -c`), taking turns; the load column gives the 1-minute load "
        "average before the runs (reference / custseg).",
        "",
        "| size | input | reference wall | reference peak | custseg wall | custseg peak | ratio | custseg + report | ratio with report | load |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    details = []
    for case, entry in results["cases"].items():
        ref_runs, cs_runs, rep_runs = entry.get("reference"), entry.get("custseg-duckdb"), entry.get("custseg-duckdb-report")
        if not cs_runs:
            continue
        cs = best(cs_runs)
        size, fmt = case.split("-")
        if ref_runs:
            ref = best(ref_runs)
            ref_wall = ("~" if ref.get("extrapolated") else "") + span(ref_runs) + (" (extrapolated)" if ref.get("extrapolated") else "")
            ref_peak = ("~" if ref.get("extrapolated") else "") + gb(ref["process_peak_mb"])
            ratio = f"{ref['wall'] / cs['wall']:.1f}x"
        else:
            ref, ref_wall, ref_peak, ratio = None, "-", "-", "-"
        rep = best(rep_runs) if rep_runs else None
        rep_text = f"{span(rep_runs)} / {gb(rep['process_peak_mb'])}" if rep else "-"
        rep_ratio = f"{ref['wall'] / rep['wall']:.1f}x" if rep and ref else "-"
        ref_load = "extrapolated" if ref and ref.get("extrapolated") else loads(ref_runs or [])
        if ref_runs and not ref.get("extrapolated") and "at" not in ref:
            ref_load += " (earlier run)"
        lines.append(f"| {size} ({entry['lines']:,} lines, {entry['accounts']:,} accounts) | .{fmt} ({entry['file_mb']} MB) | "
                     f"{ref_wall} s | {ref_peak} | {span(cs_runs)} s | {gb(cs['process_peak_mb'])} | {ratio} | {rep_text} | "
                     f"{rep_ratio} | {ref_load} / {loads(cs_runs + (rep_runs or []))} |")
        for key, what in (("custseg-duckdb-silhouette", "like for like (k by silhouette alone, as the study: "
                                                         "`--k-rule silhouette`)"),
                          ("custseg-duckdb-defaults", "with custseg's own defaults (k = 3..8, what a user runs)")):
            if entry.get(key):
                run = best(entry[key])
                ratio_other = f"{ref['wall'] / run['wall']:.1f}x" if ref else "-"
                lines.append(f"| {size} {what} | .{fmt} | {ref_wall} s | {ref_peak} | {span(entry[key])} s | "
                             f"{gb(run['process_peak_mb'])} | {ratio_other} | - | - | {ref_load} / {loads(entry[key])} |")
        for key, runs in entry.items():
            if key.endswith("-allcores"):
                run = best(runs)
                lines.append(f"| {size} on {run.get('cores', 'all')} cores | .{fmt} | - | - | {span(runs)} s | "
                             f"{gb(run['process_peak_mb'])} | - | - | - | - / {loads(runs)} |")
        details.append(f"### {case}")
        details.append("")
        if ref:
            details.append(f"- reference{' (extrapolated from M)' if ref.get('extrapolated') else ''}: {stages(ref)}")
        details.append(f"- custseg: {stages(cs)}; k chosen {cs.get('k')}")
        if size in ("M", "L", "XL"):
            details += ["", f"custseg's fastest run by stage (load {cs.get('load_before', '-')}, cores {cs.get('cores', '-')}):",
                        "", *stage_table(cs, entry.get("floors")), ""]
        if rep:
            details.append(f"- custseg with report: {stages(rep)}")
        for key, runs in entry.items():
            if key.startswith("custseg-") and key not in ("custseg-duckdb", "custseg-duckdb-report"):
                details.append(f"- {key}: wall {span(runs)} s, Python peak {gb(best(runs)['process_peak_mb'])}; {stages(best(runs))}")
        details.append("")
    if results.get("help"):
        walls, help_loads = results["help"]["walls"], results["help"]["load_before"]
        lines += ["", f"`custseg --help` (pinned likewise, {len(walls)} runs): fastest {min(walls):.2f} s, slowest "
                      f"{max(walls):.2f} s; load {min(help_loads):.1f}-{max(help_loads):.1f}."]
    lines += ["", notes.strip(), "", "## Stage details (fastest run: seconds / peak resident memory)", "", *details]
    path.write_text("\n".join(line for line in lines) .replace("\n\n\n", "\n\n") + "\n")


if __name__ == "__main__":
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("results.json")
    write_markdown(json.loads(source.read_text()), source.with_name("results.md"))
