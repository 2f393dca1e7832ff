"""`custseg rfm` and `custseg compare-methods`: thin Typer adapters over `custseg.rfm` and `custseg.compare_methods`.

Register them in cli.py with `app.command("rfm")(rfm)` and
`app.command("compare-methods")(compare_methods)`; `app` here holds both for tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import numbers
import typer
from rich.table import Table

import custseg

from .._errors import UsageError
from ._inputs import InputOptions, one_or_several, with_input_options
from ._support import console, prefetch_input, reported_errors, split_list

app = typer.Typer(help="RFM segments and method comparison.", no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False)

Output = Annotated[Path, typer.Option("-o", "--output", help="Output directory.")]
AsOf = Annotated[Optional[str], typer.Option(help="Reference date for recency, YYYY-MM-DD (default: day after the last line).")]
Lang = Annotated[str, typer.Option("--lang", help="Language of names and texts: en or fr.")]
Overwrite = Annotated[bool, typer.Option("--overwrite", help="Replace an existing output directory.")]
Debug = Annotated[bool, typer.Option("--debug", help="Show the full traceback on errors.")]
MaxMemory = Annotated[Optional[str], typer.Option("--max-memory", help="Memory cap of the data engine, e.g. 2GB (it spills to disk above; an eighth of it once the features are computed).")]


def _numbers(text: str | None, option: str) -> list[float] | None:
    if not text:
        return None
    try:
        return [float(part) for part in text.split(",")]
    except ValueError:
        raise UsageError(f"{option} must be comma-separated numbers like 30,90,180,365; got {text!r}") from None


@app.command("rfm")
@with_input_options
def rfm(
    input: Annotated[list[Path], typer.Argument(help="Sales lines: .csv, .xlsx or .parquet (several files, a glob or a folder are stacked).")],
    inputs: InputOptions,
    output: Output = Path("custseg-rfm"),
    as_of: AsOf = None,
    bins: Annotated[int, typer.Option(help="Score levels (quantiles of the rank); 5 = quintiles.")] = 5,
    r_cuts: Annotated[Optional[str], typer.Option(help="Recency cut points in days, e.g. 30,90,180,365 (<= 30 days scores 5).")] = None,
    f_cuts: Annotated[Optional[str], typer.Option(help="Frequency cut points (orders), lower edges of scores 2..bins.")] = None,
    m_cuts: Annotated[Optional[str], typer.Option(help="Monetary cut points, lower edges of scores 2..bins.")] = None,
    rules: Annotated[Optional[Path], typer.Option(help="TOML grid of RFM segments (see data/rfm_segments.toml).")] = None,
    lang: Lang = "en",
    overwrite: Overwrite = False,
    max_memory: MaxMemory = None,
    debug: Debug = False,
) -> None:
    """Score recency, frequency and monetary value and name each customer's RFM segment."""
    with reported_errors(debug):
        run_config = inputs.run_config(settings={"as_of": as_of, "max_memory": max_memory}, lang=lang)
        cuts = {key: value for key, value in (("R", _numbers(r_cuts, "--r-cuts")), ("F", _numbers(f_cuts, "--f-cuts")),
                                              ("M", _numbers(m_cuts, "--m-cuts"))) if value}
        input = one_or_several(input)
        prefetch_input(input, run_config)
        with console.status("reading, cleaning, scoring"):
            result = custseg.rfm(input, run_config, bins=bins, cuts=cuts or None, rules_file=rules)
        custseg.write_rfm(result, output, overwrite)
        customers, summary, cleaning = result.customers, result.segments, result.cleaning
        table = Table(title=f"RFM segments of {len(customers):,} customers (as of {cleaning['as_of']})")
        for column in ("segment", "customers", "share", "revenue share"):
            table.add_column(column, justify="left" if column == "segment" else "right")
        for _, row in summary.iterrows():
            table.add_row(str(row[f"name_{lang}"]), f"{row['size']:,}", f"{row['customer_share']:.1%}", f"{row['revenue_share']:.1%}")
        console.print(table)
        console.print(f"Results in [bold]{output}[/]", soft_wrap=True)


@app.command("compare-methods")
@with_input_options
def compare_methods(
    input: Annotated[list[Path], typer.Argument(help="Sales lines or customer table: .csv, .xlsx or .parquet (several files, a glob or a folder are stacked).")],
    inputs: InputOptions,
    output: Output = Path("custseg-compare"),
    customers: Annotated[bool, typer.Option("--customers", help="The input has one row per customer already.")] = False,
    columns: Annotated[Optional[str], typer.Option(help="Comma-separated columns to use (--customers mode).")] = None,
    categorical: Annotated[str, typer.Option(help="Text columns (--customers): ignore, onehot or kprototypes.")] = "ignore",
    categorical_weight: Annotated[float, typer.Option(help="Weight of a one-hot column in model units (K-prototypes: gamma = 2 w^2).")] = 1.0,
    features: Annotated[Optional[str], typer.Option(help="Comma-separated features; 'rfm' = RecencyDays,OrderCount,TotalSales.")] = None,
    scaling: Annotated[Optional[str], typer.Option(help="rank (default), log, robust, standard or none.")] = None,
    k: Annotated[Optional[int], typer.Option("--k", help="Compare at this k (default: K-means' choice).")] = None,
    k_range: Annotated[Optional[str], typer.Option(help="Range of k, e.g. 2..10 (default).")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Random seed (default 42).")] = None,
    methods: Annotated[str, typer.Option(help="Comma-separated: kmeans, ward, gmm, minibatch, rfm.")] = "kmeans,ward,gmm,rfm",
    n_boot: Annotated[int, typer.Option(help="Subsamples for the stability (adjusted Rand) of each method and k.")] = 5,
    as_of: AsOf = None,
    lang: Lang = "en",
    overwrite: Overwrite = False,
    max_memory: MaxMemory = None,
    debug: Debug = False,
) -> None:
    """Compare K-means, Ward, Gaussian mixture and RFM rules on the same customers and features."""
    with reported_errors(debug):
        settings = {"features": split_list(features), "scaling": scaling,
                    "k_range": k_range, "seed": seed, "as_of": as_of,
                    "max_memory": max_memory}
        run_config = inputs.run_config(customers, settings, columns=split_list(columns), lang=lang)
        input = one_or_several(input)
        prefetch_input(input, run_config)
        with console.status("comparing methods") as status:
            result = custseg.compare_methods(input, run_config, methods=list(split_list(methods) or ()), k=k,
                             n_boot=n_boot, categorical=categorical, categorical_weight=categorical_weight,
                             progress=lambda message: status.update(message))
        custseg.write_comparison(result, output, lang, overwrite)
        _print_comparison(result, lang)
        console.print(f"Results in [bold]{output}[/]", soft_wrap=True)


def _print_comparison(result, lang: str) -> None:
    info = result.info
    console.print(f"{info['n_customers']:,} customers, features {', '.join(info['features'])} ({info['scaling']} scaling); "
                  f"k={info['k']}: {info[f'k_reason_{lang}']}", markup=False)
    table = Table(title="Methods side by side")
    headers = {"method": "method", "k": "k", "silhouette": "silhouette", "calinski_harabasz": "CH", "davies_bouldin": "DB",
               "stability_ari": "stability", "sizes": "sizes", "fit_seconds": "seconds", "preferred_k": "own k"}
    for name in headers.values():
        table.add_column(name, justify="left" if name in ("method", "sizes") else "right")
    for _, row in result.table.iterrows():
        cells = []
        for key in headers:
            value = row.get(key)
            if key in ("silhouette", "davies_bouldin", "stability_ari"):
                cells.append(f"{value:.3f}")
            elif key == "calinski_harabasz":
                cells.append(f"{value:,.0f}")
            elif key == "fit_seconds":
                cells.append(f"{value:.2f}")
            elif key == "preferred_k":
                cells.append(f"{int(value)} ({row['preferred_by']})" if isinstance(value, numbers.Integral) else "")
            else:
                cells.append(str(value))
        table.add_row(*cells)
    console.print(table)
    for note in info["notes"]:
        console.print(f"Note: {note}", markup=False)
    console.print(result.recommendation[lang], markup=False)
