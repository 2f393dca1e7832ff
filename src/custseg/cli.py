"""The `custseg` command line: thin adapters over the library, one call each."""

from __future__ import annotations

import datetime as dtm
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from ._cli_support import console, reported_errors
from ._errors import UsageError
from ._schema import REPORT_HTML

app = typer.Typer(help="Customer segmentation from CRM sales data.", no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False)

Debug = Annotated[bool, typer.Option("--debug", help="Show the full traceback on errors.")]
Lang = Annotated[str, typer.Option("--lang", help="Language of names and texts: en or fr.")]


def _split(text: str | None) -> tuple[str, ...] | None:
    return tuple(part.strip() for part in text.split(",") if part.strip()) if text else None


def _progress() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=True)


def _print_summary(result, out_dir: Path, report: bool = True) -> None:
    lang = result.run["lang"]
    cleaning = result.cleaning
    console.print(f"[bold]{result.run['input']['name']}[/]: {cleaning['rows_in']:,} rows in, {cleaning['rows_out']:,} kept, "
                  f"{cleaning['customers_kept']:,} customers; features {', '.join(result.features)} ({result.run['scaling']} scaling).")
    for rule, count in cleaning["dropped"].items():
        if count:
            console.print(f"  dropped {count:,} line(s): {cleaning['rules'][rule]}", markup=False)
    console.print(result.run["k"][f"reason_{lang}"], markup=False)
    table = Table(title=f"{result.k} segments")
    for column in ("id", "name", "customers", "share", "revenue share"):
        table.add_column(column, justify="right" if column != "name" else "left")
    for _, row in result.profiles.iterrows():
        revenue = "" if row["revenue_share"] != row["revenue_share"] else f"{row['revenue_share']:.1%}"
        table.add_row(str(row["segment_id"]), str(row[f"name_{lang}"]), f"{row['size']:,}", f"{row['customer_share']:.1%}", revenue)
    console.print(table)
    where = f" (report: {out_dir / REPORT_HTML})" if report else ""
    console.print(f"Results in [bold]{out_dir}[/]{where}", soft_wrap=True)


@app.command()
def run(
    input: Annotated[Path, typer.Argument(help="Sales lines or customer table: .csv, .xlsx or .parquet.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output directory.")] = Path("custseg-out"),
    preset: Annotated[Optional[str], typer.Option(help="Column preset: salesforce-cpq or online-retail.")] = None,
    config: Annotated[Optional[Path], typer.Option(help="custseg.toml with [columns] and [run] tables.")] = None,
    customers: Annotated[bool, typer.Option("--customers", help="The input has one row per customer already.")] = False,
    id_column: Annotated[Optional[str], typer.Option("--id", help="Customer id column (--customers mode).")] = None,
    columns: Annotated[Optional[str], typer.Option(help="Comma-separated columns to use (--customers mode; default: all numeric).")] = None,
    categorical: Annotated[str, typer.Option(help="Text columns in --customers mode: ignore or onehot.")] = "ignore",
    customer: Annotated[Optional[str], typer.Option(help="Column of the customer id (sales lines).")] = None,
    order: Annotated[Optional[str], typer.Option(help="Column of the order / line id.")] = None,
    product: Annotated[Optional[str], typer.Option(help="Column of the product code.")] = None,
    quantity: Annotated[Optional[str], typer.Option(help="Column of the quantity.")] = None,
    price: Annotated[Optional[str], typer.Option(help="Column of the unit / net price.")] = None,
    amount: Annotated[Optional[str], typer.Option(help="Column of the line amount (instead of quantity x price).")] = None,
    date: Annotated[Optional[str], typer.Option(help="Column of the line date.")] = None,
    date_format: Annotated[Optional[str], typer.Option(help="strptime format of text dates, e.g. %d/%m/%Y.")] = None,
    features: Annotated[Optional[str], typer.Option(help="Comma-separated features (default TotalSales,OrderCount,AvgOrderValue).")] = None,
    scaling: Annotated[Optional[str], typer.Option(help="rank (default), log, robust, standard or none.")] = None,
    k: Annotated[Optional[int], typer.Option("--k", help="Force this number of segments.")] = None,
    k_range: Annotated[Optional[str], typer.Option(help="Range of k to try, e.g. 2..10 (default).")] = None,
    n_init: Annotated[Optional[int], typer.Option(help="K-means restarts per k (default 10).")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Random seed (default 42; recorded in run.json).")] = None,
    min_share: Annotated[Optional[float], typer.Option(help="Smallest segment share for a k to be eligible (default 0.02).")] = None,
    as_of: Annotated[Optional[str], typer.Option(help="Reference date for recency, YYYY-MM-DD (default: day after the last line).")] = None,
    sheet: Annotated[Optional[str], typer.Option(help="Excel sheet name or index.")] = None,
    delimiter: Annotated[Optional[str], typer.Option(help="CSV delimiter (default: detected).")] = None,
    encoding: Annotated[Optional[str], typer.Option(help="CSV encoding: utf-8 or latin-1 (default: detected).")] = None,
    decimal: Annotated[str, typer.Option(help="Decimal mark: auto, '.' or ','.")] = "auto",
    rules: Annotated[Optional[Path], typer.Option(help="TOML table of segment names and actions.")] = None,
    lang: Lang = "en",
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing output directory.")] = False,
    report: Annotated[bool, typer.Option("--report/--no-report", help="Write report.html.")] = True,
    debug: Debug = False,
) -> None:
    """Segment the customers of INPUT and write the results to a directory."""
    from ._columns import load_toml, mapping_from_config, preset as named_preset
    from ._config import RunConfig
    from ._cluster import parse_k_range
    from ._outputs import write_run
    from ._pipeline import segment
    from ._read import ReadOptions

    with reported_errors(debug):
        file_config = load_toml(config) if config else {}
        settings = dict(file_config.get("run", {}))
        mapping = None
        if not customers:
            base = named_preset(preset) if preset else None
            if file_config.get("columns") or base is None:
                overrides = {"customer": customer} if base is None and customer and not file_config.get("columns") else {}
                mapping = mapping_from_config({"columns": {**file_config.get("columns", {}), **overrides}}, base)
            else:
                mapping = base
            mapping = mapping.with_overrides(customer=customer, order=order, product=product, quantity=quantity,
                                             price=price, amount=amount, date=date, date_format=date_format)
        cli = {"features": _split(features), "scaling": scaling, "k": k, "n_init": n_init, "seed": seed,
               "min_share": min_share, "rules_file": str(rules) if rules else None,
               "k_range": parse_k_range(k_range) if k_range else None,
               "as_of": _parse_date(as_of) if as_of else None}
        settings |= {key: value for key, value in cli.items() if value is not None}
        if isinstance(settings.get("k_range"), str):
            settings["k_range"] = parse_k_range(settings["k_range"])
        for key in ("features", "columns"):
            if isinstance(settings.get(key), list):
                settings[key] = tuple(settings[key])
        run_config = RunConfig(mapping=mapping, customers=customers, id_column=id_column, columns=_split(columns),
                               categorical=categorical, lang=lang,
                               read=ReadOptions(sheet=sheet, delimiter=delimiter, encoding=encoding, decimal=decimal),
                               **settings)
        with _progress() as bar:
            task = bar.add_task("reading, cleaning, computing features", total=None)

            def on_progress(stage: str, done: int, total: int) -> None:
                bar.update(task, description=f"{stage}: fitting k {done}/{total}", completed=done, total=total)

            result = segment(input, run_config, progress=on_progress)
            bar.update(task, description="writing outputs", completed=None, total=None)
            out_dir = write_run(result, output, overwrite=overwrite, report=report)
        _print_summary(result, out_dir, report)


def _parse_date(text: str) -> dtm.date:
    try:
        return dtm.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--as-of must be a date like 2021-01-01; got {text!r}") from None


@app.command()
def demo(
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder for the demo export and its run.")] = Path("custseg-demo"),
    lines: Annotated[int, typer.Option(help="Number of sales lines to generate.")] = 287_879,
    accounts: Annotated[int, typer.Option(help="Number of accounts to generate.")] = 7_747,
    file_format: Annotated[str, typer.Option("--format", help="xlsx, csv or parquet.")] = "xlsx",
    seed: Annotated[int, typer.Option(help="Random seed of the generator and of the run.")] = 42,
    lang: Lang = "en",
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing demo run.")] = False,
    debug: Debug = False,
) -> None:
    """Generate a realistic Salesforce CPQ export and segment it."""
    from ._columns import preset
    from ._config import RunConfig
    from ._demo import write_cpq_export
    from ._outputs import write_run
    from ._pipeline import segment

    with reported_errors(debug):
        if file_format not in ("xlsx", "csv", "parquet"):
            raise UsageError(f"--format must be xlsx, csv or parquet; got {file_format!r}")
        output.mkdir(parents=True, exist_ok=True)
        export = output / f"sales_demo.{file_format}"
        with _progress() as bar:
            bar.add_task(f"generating {lines:,} CPQ lines for {accounts:,} accounts", total=None)
            write_cpq_export(export, n_lines=lines, n_accounts=accounts, seed=seed)
        console.print(f"Demo export: [bold]{export}[/]")
        with _progress() as bar:
            task = bar.add_task("segmenting", total=None)
            result = segment(export, RunConfig(mapping=preset("salesforce-cpq"), seed=seed, lang=lang),
                             progress=lambda stage, done, total: bar.update(task, completed=done, total=total,
                                                                            description=f"{stage}: k {done}/{total}"))
            out_dir = write_run(result, output / "run", overwrite=overwrite)
        _print_summary(result, out_dir)


def _register_subcommands() -> None:
    try:
        from ._cli_salesforce import app as salesforce_app
    except ImportError:  # the Salesforce extra is not installed
        return
    app.add_typer(salesforce_app, name="salesforce")


_register_subcommands()


def main() -> None:
    """Entry point of the `custseg` console script."""
    app()
