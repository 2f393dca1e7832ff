"""The `custseg` command line: thin adapters over the library, one call each."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich import box
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

import custseg

from ._cli._methods import AsOf, MaxMemory, compare_methods, rfm
from ._cli._inputs import InputOptions, local_output, one_or_several, with_input_options
from ._cli._review import review
from ._cli._salesforce import app as salesforce_app
from ._cli._support import console, prefetch_input, reported_errors, split_list, stability_cell, summary_lines
from ._config import CleaningRules, parse_k_range
from ._locks import reserved_output
from ._schema import REPORT_HTML

app = typer.Typer(help="Customer segmentation from CRM sales data.", no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False)

Debug = Annotated[bool, typer.Option("--debug", help="Show the full traceback on errors.")]
Lang = Annotated[str, typer.Option("--lang", help="Language of names and texts: en or fr.")]
Overwrite = Annotated[bool, typer.Option("--overwrite", help="Replace an existing output directory.")]
Report = Annotated[bool, typer.Option("--report/--no-report", help="Write report.html.")]
SparkMaster = Annotated[Optional[str], typer.Option(help="Spark master URL for --engine spark (default local[*]).")]
SparkWait = Annotated[Optional[float], typer.Option(help="Seconds to wait for an unreachable master's cluster to give executors, or for lost executors to come back, before stopping (default 120).")]


def _version(shown: bool) -> None:
    if shown:
        console.print(f"custseg {custseg.__version__}", markup=False)
        raise typer.Exit()


@app.callback()
def options(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")] = False,
) -> None:
    """Customer segmentation from CRM sales data."""


def _progress() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=True)


def _print_summary(result, out_dir: Path, report: bool = True) -> None:
    lang = result.run["lang"]
    cleaning = result.cleaning
    console.print(f"[bold]{result.run['input']['name']}[/]: {cleaning['rows_in']:,} rows in, {cleaning['rows_out']:,} kept, "
                  f"{cleaning['customers_kept']:,} customers; features {', '.join(result.features)} ({result.run['scaling']} scaling).")
    for line in summary_lines(cleaning):
        console.print(line, markup=False, soft_wrap=True)
    console.print(result.run["k"][f"reason_{lang}"], markup=False)
    _print_votes(result.k_selection)
    for warning in result.run["k"].get(f"warnings_{lang}", []):
        console.print(f"Warning: {warning}", markup=False, style="yellow")
    table = Table(title=f"{len(result.profiles)} segments")  # fewer than k once a review merged some
    for column in ("id", "name", "customers", "share", "revenue share", "stability"):
        table.add_column(column, justify="right" if column != "name" else "left")
    for _, row in result.profiles.iterrows():
        revenue = "" if row["revenue_share"] != row["revenue_share"] else f"{row['revenue_share']:.1%}"
        table.add_row(str(row["segment_id"]), str(row[f"name_{lang}"]), f"{row['size']:,}", f"{row['customer_share']:.1%}",
                      revenue, stability_cell(row, lang))
    console.print(table)
    where = f" (report: {out_dir / REPORT_HTML})" if report else ""
    console.print(f"Results in [bold]{out_dir}[/]{where}", soft_wrap=True)


@app.command()
@with_input_options
def run(
    input: Annotated[list[str], typer.Argument(help="Sales lines or customer table: .csv, .xlsx or .parquet; several files, a quoted glob (\"exports/*.csv\") or a folder are stacked by column name; with --engine spark, a URL (hdfs://, s3a://, dbfs:/, file://) of a file, a folder of parts or a glob.")],
    inputs: InputOptions,
    output: Annotated[str, typer.Option("-o", "--output", help="Output directory (on the driver's local disk).")] = "custseg-out",
    customers: Annotated[bool, typer.Option("--customers", help="The input has one row per customer already.")] = False,
    columns: Annotated[Optional[str], typer.Option(help="Comma-separated columns to use (--customers mode; default: all numeric).")] = None,
    categorical: Annotated[str, typer.Option(help="Text columns in --customers mode: ignore or onehot.")] = "ignore",
    categorical_weight: Annotated[Optional[float], typer.Option(help="Model units of a one-hot indicator (default 1.0).")] = None,
    drop_zero_price: Annotated[bool, typer.Option("--drop-zero-price", help="Drop zero-price lines (default: kept, counted).")] = False,
    features: Annotated[Optional[str], typer.Option(help="Comma-separated features (default TotalSales,OrderCount,AvgOrderValue).")] = None,
    scaling: Annotated[Optional[str], typer.Option(help="rank (default: ties share their average rank), rank-first (the study's: ties by row order), log, robust, standard or none.")] = None,
    k: Annotated[Optional[int], typer.Option("--k", help="Force this number of segments.")] = None,
    algorithm: Annotated[Optional[str], typer.Option(help="kmeans (default), ward, gmm or minibatch.")] = None,
    stability: Annotated[Optional[int], typer.Option(help="Subsamples per k for a stability (adjusted Rand) column (default 5 for the vote); 0 = off.")] = None,
    gap: Annotated[Optional[int], typer.Option(help="Reference data sets per k for the gap statistic (default 5 for the vote); 0 = off.")] = None,
    k_range: Annotated[Optional[str], typer.Option(help="Range of k to try, e.g. 2..10 (default 3..8).")] = None,
    k_rule: Annotated[Optional[str], typer.Option(help="How k is chosen: vote (default: a panel of indices votes) or silhouette (the previous rule).")] = None,
    n_init: Annotated[Optional[int], typer.Option(help="K-means restarts per k (default 10).")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Random seed (default 42; recorded in run.json).")] = None,
    min_share: Annotated[Optional[float], typer.Option(help="Smallest segment share for a k to be eligible (default 0.05 for the vote, 0.02 for silhouette).")] = None,
    business_min_k: Annotated[Optional[int], typer.Option(help="Fewest segments advised for a marketing partition: no k under it is chosen when the range holds a larger one, and no warning suggests fewer (default 3).")] = None,
    as_of: AsOf = None,
    rules: Annotated[Optional[Path], typer.Option(help="TOML table of segment names and actions.")] = None,
    lang: Lang = "en",
    overwrite: Overwrite = False,
    report: Report = True,
    max_memory: MaxMemory = None,
    engine: Annotated[Optional[str], typer.Option(help="Where the work runs: duckdb (embedded, default) or spark.")] = None,
    spark_master: SparkMaster = None,
    spark_conf: Annotated[Optional[list[str]], typer.Option(help="SparkSession setting KEY=VALUE (repeatable), e.g. spark.driver.memory=8g.")] = None,
    spark_wait: SparkWait = None,
    debug: Debug = False,
) -> None:
    """Segment the customers of INPUTS and write the results to a directory."""
    with reported_errors(debug):
        output = local_output(output)
        settings = {"features": split_list(features), "scaling": scaling, "k": k, "n_init": n_init, "seed": seed,
                    "algorithm": algorithm, "n_boot": stability, "gap_refs": gap, "categorical_weight": categorical_weight,
                    "min_share": min_share, "business_min_k": business_min_k, "rules_file": str(rules) if rules else None,
                    "k_range": parse_k_range(k_range) if k_range else None, "k_rule": k_rule,
                    "as_of": as_of, "max_memory": max_memory, "engine": engine,
                    "cleaning": CleaningRules(drop_zero_price=True) if drop_zero_price else None,
                    "spark_master": spark_master, "spark_conf": tuple(spark_conf) if spark_conf else None,
                    "spark_wait": spark_wait}
        run_config = inputs.run_config(customers, settings, columns=split_list(columns), categorical=categorical, lang=lang)
        input = one_or_several(input)
        prefetch_input(input, run_config)  # parsed while the libraries load
        write_run = custseg.write_run  # loads the writers (Jinja2, Plotly) meanwhile too
        with reserved_output(output, overwrite), _progress() as bar:
            task = bar.add_task("reading, cleaning, computing features", total=None)

            def on_progress(stage: str, done: int, total: int) -> None:
                bar.update(task, description=f"{stage}: fitting k {done}/{total}", completed=done, total=total)

            result = custseg.segment(input, run_config, progress=on_progress)
            bar.update(task, description="writing outputs", completed=None, total=None)
            out_dir = write_run(result, output, overwrite=overwrite, report=report)
        _print_summary(result, out_dir, report)


VOTE_COLUMNS = (("silhouette", "silhouette", 3), ("stability_ari", "stability", 2), ("min_share", "smallest", 1))
"""The console's columns; every index is in k_selection.csv and the report."""


def _print_votes(k_selection) -> None:
    """The vote table: indices, votes and voters per k (only when the panel voted)."""
    if "votes" not in k_selection.columns or len(k_selection) < 2:
        return
    columns = [c for c in VOTE_COLUMNS if c[0] in k_selection.columns]
    table = Table(title="Choice of k")
    for header in ("k", *(c[1] for c in columns), "votes", "voted by", "status"):
        table.add_column(header, justify="left" if header in ("voted by", "status") else "right")
    for row in k_selection.sort_values("k").to_dict("records"):
        mark = "chosen" if row["chosen"] else "" if row["eligible"] else "not eligible"
        table.add_row(str(row["k"]), *(f"{row[c]:.{d}%}" if c == "min_share" else f"{row[c]:,.{d}f}"
                                       for c, _, d in columns), str(row["votes"]), row["voted_by"], mark)
    console.print(table)


@app.command()
def demo(
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder for the demo export and its run.")] = Path("custseg-demo"),
    lines: Annotated[int, typer.Option(help="Number of sales lines to generate (all years together).")] = 287_879,
    accounts: Annotated[int, typer.Option(help="Number of accounts to generate.")] = 7_747,
    years: Annotated[int, typer.Option(help="Consecutive years: 2 also refreshes the model and shows who moved where.")] = 1,
    file_format: Annotated[str, typer.Option("--format", help="xlsx, csv or parquet.")] = "xlsx",
    seed: Annotated[int, typer.Option(help="Random seed of the generator and of the run.")] = 42,
    lang: Lang = "en",
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace existing demo runs.")] = False,
    debug: Debug = False,
) -> None:
    """Generate a realistic Salesforce CPQ export and segment it (and, with --years 2, run the yearly cycle)."""
    with reported_errors(debug):
        with _progress() as bar:
            task = bar.add_task("demo", total=None)
            demo = custseg.run_demo(output, years=years, n_lines=lines, n_accounts=accounts, file_format=file_format,
                                    seed=seed, lang=lang, overwrite=overwrite,
                                    progress=lambda description, done, total: bar.update(
                                        task, description=description, completed=done, total=total or None))
        for export in demo.exports:
            console.print(f"Demo export: [bold]{export}[/]")
        for result in demo.runs:
            _print_summary(result, result.directory)
        if demo.migration is not None:
            _print_migration(demo.migration, demo.migration_dir)


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="A finished run directory.")],
    lang: Annotated[Optional[str], typer.Option("--lang", help="en or fr (default: the run's language).")] = None,
    png: Annotated[bool, typer.Option("--png", help="Also write the charts as PNG files in RUN_DIR/png/.")] = False,
    max_points: Annotated[int, typer.Option(help="Most customers drawn in each scatter plot (sampled per segment).")] = 20_000,
    map_method: Annotated[str, typer.Option("--map", help="Map of all features: pca or tsne (small data).")] = "pca",
    features: Annotated[Optional[str], typer.Option(help="Three comma-separated features for the 3D view.")] = None,
    units: Annotated[str, typer.Option(help="Units the scatters open in: original (log axes for money) or z (model units).")] = "original",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Where to write the report (default RUN_DIR/report.html, replaced).")] = None,
    debug: Debug = False,
) -> None:
    """Re-render report.html from a finished run (another language, PNG charts)."""
    with reported_errors(debug):
        path = custseg.write_report(run_dir, lang=lang, png=png, max_points=max_points, map_method=map_method,
                                    scatter_features=list(split_list(features)) if features else None, units=units,
                                    output=output)
        console.print(f"Report: [bold]{path}[/]" + (f"; PNG charts in [bold]{run_dir / 'png'}[/]" if png else ""))


def _warn_overlap(overlap: dict | None) -> None:
    """A loud line when two periods share almost no customers (ids written differently?)."""
    if overlap and overlap.get("warning"):
        console.print(f"[bold red]Warning:[/] {overlap['warning']}", soft_wrap=True)


def _print_migration(moves, out_dir: Path) -> None:
    """The from -> to customer counts (segment ids; names in the legend) and the totals."""
    _warn_overlap(moves.summary.get("customer_overlap"))
    def short(label: str) -> str:
        return label.split(" · ", 1)[0]

    table = Table(title="Customers: from (rows) -> to (columns)")
    table.add_column("from \\ to")
    for column in moves.counts.columns:
        table.add_column(short(str(column)), justify="right")
    for label, row in moves.counts.iterrows():
        table.add_row(str(label), *(f"{v:,}" for v in row))
    console.print(table)
    s = moves.summary
    console.print(f"{s['stayed_in_segment']:,} stayed, {s['changed_segment']:,} changed segment, "
                  f"{s['new_customers']:,} new, {s['lost_customers']:,} lost. Tables and Sankey diagram in {out_dir}",
                  markup=False, soft_wrap=True)


@app.command()
@with_input_options
def score(
    input: Annotated[list[str], typer.Argument(help="New data (several files, a glob or a folder are stacked; a URL for a Spark model); read as the model's training data unless column or reading options say otherwise.")],
    inputs: InputOptions,
    model: Annotated[Path, typer.Option("--model", help="model.json (or the run directory holding it).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output directory.")] = Path("custseg-scored"),
    as_of: AsOf = None, lang: Lang = "en", overwrite: Overwrite = False, report: Report = True,
    spark_master: SparkMaster = None, spark_wait: SparkWait = None, debug: Debug = False,
) -> None:
    """Assign new customers to the segments of a saved model (nothing is refitted; a Spark model's data are read on
    Spark: its master unless --spark-master)."""
    with reported_errors(debug):
        with reserved_output(output, overwrite), _progress() as bar:
            bar.add_task("scoring", total=None)
            result = custseg.score(one_or_several(input), model, lang=lang, as_of=as_of, spark_master=spark_master,
                                   spark_wait=spark_wait, **inputs.model_changes())
            out_dir = custseg.write_run(result, output, overwrite=overwrite, report=report)
        _print_summary(result, out_dir, report)
        flagged = result.run["model"]["n_out_of_range"]
        if flagged:
            console.print(f"{flagged:,} customer(s) have a feature outside the training range (column out_of_range).")


@app.command()
@with_input_options
def refresh(
    input: Annotated[list[str], typer.Argument(help="The new period's data (several files, a glob or a folder are stacked; a URL for a Spark model); read as the previous run's unless column or reading options say otherwise.")],
    inputs: InputOptions,
    previous: Annotated[Path, typer.Option("--previous", help="The previous run directory (or its model.json).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output directory.")] = Path("custseg-refreshed"),
    threshold: Annotated[float, typer.Option(help="Largest center distance (z units) for a segment to keep its identity.")] = 1.0,
    seed: Annotated[Optional[int], typer.Option(help="Random seed (default: the previous run's).")] = None,
    k_range: Annotated[Optional[str], typer.Option(help="Range of k to try (default: the previous run's).")] = None,
    as_of: AsOf = None, lang: Lang = "en", overwrite: Overwrite = False, report: Report = True,
    spark_master: SparkMaster = None, spark_wait: SparkWait = None, debug: Debug = False,
) -> None:
    """Retrain on a new period; segments that persist keep their id and name (a Spark model's: on Spark, its master
    unless --spark-master)."""
    with reported_errors(debug):
        with reserved_output(output, overwrite), _progress() as bar:
            task = bar.add_task("refreshing", total=None)
            result = custseg.refresh(one_or_several(input), previous, threshold=threshold, seed=seed, lang=lang, as_of=as_of,
                                   k_range=parse_k_range(k_range) if k_range else None, spark_master=spark_master,
                                   spark_wait=spark_wait, **inputs.model_changes(),
                                   progress=lambda stage, done, total: bar.update(task, completed=done, total=total,
                                                                                  description=f"{stage}: k {done}/{total}"))
            out_dir = custseg.write_run(result, output, overwrite=overwrite, report=report)
        _print_summary(result, out_dir, report)
        drift = result.run["refresh"]
        _warn_overlap(drift.get("customer_overlap"))
        console.print(f"Segments kept: {drift['kept']}, new: {drift['new']}, retired: {drift['retired']}. "
                      f"Silhouette on the new data: old model {drift['old_model_silhouette_on_new_data']:.3f}, "
                      f"new model {drift['new_model_silhouette']:.3f}.", markup=False)
        carried = drift["carried"]
        console.print(f"Names, texts and merges carried from {carried['previous']} ({carried['approval_en']})"
                      + "".join(f"; segment {i} merged again" for i in carried["merged_again"]) + ".", markup=False, soft_wrap=True)
        for flag in result.run.get("to_review", []):
            console.print(f"To review: segment {flag['segment_id']} {flag['en']}.", markup=False, style="yellow", soft_wrap=True)
        console.print(f"Not approved until signed off: custseg review {out_dir} --export segments.xlsx (edit, then --apply), "
                      f"then custseg review {out_dir} --approve --by \"Your Name\"", markup=False, soft_wrap=True)


@app.command()
def compare(
    earlier: Annotated[Path, typer.Argument(help="The earlier run (or scoring) directory.")],
    later: Annotated[Path, typer.Argument(help="The later run directory.")],
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Output directory (default: LATER/migration).")] = None,
    lang: Lang = "en", overwrite: Overwrite = False, debug: Debug = False,
) -> None:
    """Who moved where: from -> to matrices in customers and revenue, with a Sankey diagram."""
    with reported_errors(debug):
        moves = custseg.migration(custseg.SegmentationResult.load(earlier), custseg.SegmentationResult.load(later), lang)
        out_dir = custseg.write_migration(moves, output or later / "migration", overwrite=overwrite)
        _print_migration(moves, out_dir)


@app.command()
def runs(
    directory: Annotated[Path, typer.Argument(help="A folder holding run directories.")] = Path("."),
    debug: Debug = False,
) -> None:
    """List the runs under DIRECTORY with date, data, k and silhouette."""
    with reported_errors(debug):
        found = custseg.list_runs(directory)
        table = Table(title=f"{len(found)} run(s) under {directory}", box=box.SIMPLE_HEAD, pad_edge=False,
                      collapse_padding=True)  # readable at 80 columns: long cells wrap at their spaces
        for column in found.columns:
            table.add_column(column, overflow="fold", justify="right" if column in ("customers", "k", "silhouette") else "left",
                             min_width=10 if column == "period" else None)
        for row in found.to_dict("records"):
            row |= {"run": str(Path(row["run"]).relative_to(directory)), "created": str(row["created"])[:10],
                    "input": Path(str(row["input"])).name, "period": str(row["period"]).replace("..", " to ")}
            table.add_row(*("" if v is None or v != v else f"{v:.3f}" if isinstance(v, float) else
                            f"{v:,}" if isinstance(v, int) else str(v) for v in row.values()))
        console.print(table)


app.command("rfm")(rfm)
app.command("compare-methods")(compare_methods)
app.command("review")(review)
app.add_typer(salesforce_app, name="salesforce")


def main() -> None:
    """Entry point of the `custseg` console script.

    When the command is done the process ends: `gc.freeze()` spares the interpreter's last
    garbage collections the walk over every object the libraries made (0.7 s of a 9 s run).
    Everything still runs at exit (atexit, module teardown); the engine's connection was
    already closed when the run let go of it (tests/cli/test_main.py).
    """
    try:
        app()
    finally:
        gc.freeze()
