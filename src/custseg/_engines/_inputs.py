"""Which files an input names (paths, a glob pattern, a folder), and several files' tables stacked by column name.

`custseg run a.csv b.csv`, `custseg run "exports/*.csv"` (the pattern expanded by custseg,
sorted) and `custseg run parts/` (every .csv, .xlsx or .parquet file under the folder,
sorted; hidden files, `_SUCCESS`-style markers and Excel's `~$` lock files skipped) read
each file with its kind's reader, then stack the tables: columns are matched by name, so
their order may differ, but every file must have the same names. All files must be of one
kind (all CSV, all workbooks or all Parquet).

>>> input_kind(Path("sales.CSV"))
'csv'
"""

from __future__ import annotations

import glob
import os
from collections import Counter
from pathlib import Path

import ibis
import ibis.expr.datatypes as dt

from .._config._options import is_url
from .._errors import DataError, UsageError

SUFFIX_KINDS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".xls": "xlsx", ".parquet": "parquet", ".pq": "parquet"}
GLOB_CHARS = frozenset("*?[")
SKIPPED_PREFIXES = (".", "_", "~$")  # hidden files, Spark's _SUCCESS and .crc files, Excel's lock files
def input_kind(path: Path) -> str:
    """csv, xlsx or parquet, from the file name."""
    try:
        return SUFFIX_KINDS[path.suffix.lower()]
    except KeyError:
        raise UsageError(f"{path}: unknown file type {path.suffix!r}; use .csv, .xlsx or .parquet") from None


def input_files(data) -> tuple[list[str], list[Path]]:
    """The inputs as given (a path, a pattern, a folder, or a list of them) and the files they name, in order."""
    given = [str(item) for item in (data if isinstance(data, list | tuple) else [data])]
    files = [path for item in given for path in _expand(item)]
    counts = Counter(path.resolve() for path in files)
    repeated = [path for path in files if counts[path.resolve()] > 1]
    if repeated:
        raise UsageError(f"{repeated[0]}: given twice; each file is read once")
    return given, files


def _expand(item: str) -> list[Path]:
    if is_url(item):
        raise UsageError(f"{item}: a cluster URL is read by the Spark engine (--engine spark); the duckdb engine reads "
                         "local files")
    path = Path(item)
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIX_KINDS
                       and not any(part.startswith(SKIPPED_PREFIXES) for part in p.relative_to(path).parts))
        if not found:
            raise DataError(f"{path}: no .csv, .xlsx or .parquet file in the folder")
        return found
    if not path.exists() and GLOB_CHARS & set(item):
        found = sorted(Path(p) for p in glob.glob(item, recursive=True)
                       if Path(p).is_file() and not Path(p).name.startswith(SKIPPED_PREFIXES))
        if not found:
            raise DataError(f"{item}: no file matches")
        return found
    return [path]


def common_kind(given: list[str], files: list[Path]) -> str:
    """The one kind of all `files`; files of several kinds stop."""
    kinds: dict[str, list[str]] = {}
    for path in files:
        kinds.setdefault(input_kind(path), []).append(path.name)
    if len(kinds) > 1:
        listed = "; ".join(f"{kind}: {', '.join(names)}" for kind, names in kinds.items())
        raise UsageError(f"{' + '.join(given)}: files of different kinds ({listed}); save them as one kind "
                         "(e.g. the workbook as CSV) to read them together")
    return next(iter(kinds))


def file_labels(files: list[Path]) -> list[str]:
    """Each file's path relative to the folder they share (their names, when in one folder)."""
    common = os.path.commonpath([path.resolve().parent for path in files])
    return [os.path.relpath(path.resolve(), common) for path in files]


def part_label(part: dict, key: str = "name") -> str:
    """A file's name (or its `path`), with the sheet when its workbook was read sheet by sheet."""
    return f"{part[key]} sheet {part['sheet']!r}" if part.get("sheet") is not None else part[key]


def check_same_columns(parts: list[tuple[str, list[str]]]) -> None:
    """Stop when a part's column names are not the first part's (order aside), naming both and the difference."""
    (first, names), *rest = parts
    for label, columns in rest:
        missing = [c for c in names if c not in columns]
        extra = [c for c in columns if c not in names]
        if missing or extra:
            differ = "; ".join(text for text in (f"no {', '.join(missing)}" if missing else "",
                                                 f"{', '.join(extra)} not in {first}" if extra else "") if text)
            raise DataError(f"{label}: its columns differ from those of {first} ({differ}); files are stacked by "
                            "column name: rename the columns to match, or read the files apart")


def stacked(parts: list[tuple[str, ibis.Table]]) -> ibis.Table:
    """The parts' tables one under the other, in order, columns matched by name in the first one's order.

    A column whose type differs between parts (integers in one Parquet file, decimals in
    another; numbers in one workbook, text in the next) is read as text in all of them,
    and typed as text columns are.
    """
    check_same_columns([(label, table.columns) for label, table in parts])
    names = parts[0][1].columns
    schemas = [table.schema() for _, table in parts]
    types = {c: {schema[c].copy(nullable=True) for schema in schemas} for c in names}
    common = {c: dt.string if len(found) > 1 else found.pop() for c, found in types.items()}
    tables = [table.select(*(table[c] if schema[c] == common[c] else table[c].cast(common[c]).name(c) for c in names))
              for (_, table), schema in zip(parts, schemas)]
    return ibis.union(*tables, distinct=False)
