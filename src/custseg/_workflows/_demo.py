"""The demo: generate CPQ exports for one or more years, segment the first, refresh on the next, show who moved."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .._config import RunConfig, preset
from .._errors import UsageError
from .._outputs import write_migration, write_run
from .._result import SegmentationResult
from ._cycle import refresh
from ._demo_data import DEFAULT_N_ACCOUNTS, DEFAULT_N_LINES, write_yearly_exports
from ._migration import Migration, migration
from ._segment import segment

FIRST_YEAR = 2020
DEMO_FORMATS = ("xlsx", "csv", "parquet")
Progress = Callable[[str, int, int], None]


@dataclass
class Demo:
    """What the demo made: the exports, one run per year, and the migration between the last two years."""

    exports: list[Path]
    runs: list[SegmentationResult]
    migration: Migration | None = None
    migration_dir: Path | None = None


def _check_free(output: Path, years: int, file_format: str, overwrite: bool) -> None:
    """Stop before generating anything when an earlier demo's exports or runs are in the way (without `overwrite`)."""
    names = [f"sales_{FIRST_YEAR + i}.{file_format}" for i in range(years)]
    names += [f"run_{FIRST_YEAR + i}" for i in range(years)] + ["migration"] * (years > 1)
    taken = [name for name in names if (output / name).is_file() or (output / name).is_dir() and any((output / name).iterdir())]
    if taken and not overwrite:
        raise UsageError(f"{output} already holds {', '.join(taken)} from an earlier demo; use --overwrite to replace "
                         "them, or -o another folder")


def run_demo(output: str | Path, years: int = 1, n_lines: int = DEFAULT_N_LINES, n_accounts: int = DEFAULT_N_ACCOUNTS,
             file_format: str = "xlsx", seed: int = 42, lang: str = "en", overwrite: bool = False,
             progress: Progress | None = None) -> Demo:
    """Generate `years` yearly CPQ exports under `output`, segment year 1 (`run_2020`), refresh each later year.

    `progress(description, done, total)` is told what runs (total 0 while unknown).

    >>> demo = run_demo("custseg-demo", years=2)  # doctest: +SKIP
    >>> demo.migration.summary["stayed_in_segment"]  # doctest: +SKIP
    """
    if file_format not in DEMO_FORMATS:
        raise UsageError(f"--format must be {', '.join(DEMO_FORMATS[:-1])} or {DEMO_FORMATS[-1]}; got {file_format!r}")
    say = progress or (lambda description, done, total: None)
    output = Path(output)
    _check_free(output, years, file_format, overwrite)
    say(f"generating {n_lines:,} CPQ lines for {n_accounts:,} accounts over {years} year(s)", 0, 0)
    exports = write_yearly_exports(output, range(FIRST_YEAR, FIRST_YEAR + years), file_format,
                                   n_lines=n_lines, n_accounts=n_accounts, seed=seed)
    runs: list[SegmentationResult] = []
    for i, export in enumerate(exports):
        def on_k(stage: str, done: int, total: int, name: str = export.name) -> None:
            say(f"{name} {stage}: k {done}/{total}", done, total)

        say(f"segmenting {export.name}", 0, 0)
        if i == 0:
            result = segment(export, RunConfig(mapping=preset("salesforce-cpq"), seed=seed, lang=lang), progress=on_k)
        else:
            result = refresh(export, runs[-1].directory, progress=on_k, lang=lang)
        write_run(result, output / f"run_{FIRST_YEAR + i}", overwrite=overwrite)
        runs.append(result)
    demo = Demo(exports, runs)
    if len(runs) > 1:
        demo.migration = migration(runs[-2], runs[-1], lang)
        demo.migration_dir = write_migration(demo.migration, output / "migration", overwrite=overwrite)
    return demo
