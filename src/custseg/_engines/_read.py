"""Read an input (csv, xlsx, parquet, several files or sheets, a DataFrame or an ibis table) into an ibis table on DuckDB.

Text files are read as text columns (workbooks too, unless every cell of a column has
its type, `_xlsx`); typing happens in `_prep._parse`, so a bad value is reported with
its column and row instead of failing inside the reader. Several files (`_inputs`) are
read one by one and stacked; a message naming a data row names its file and the row in
that file (`Source.row_name`).
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import ibis
import pandas as pd

from .._atomic import file_sha256
from .._config._options import ALL_SHEETS, ReadOptions
from .._errors import DataError
from ._encodings import duckdb_encoding, file_encoding, utf8_copy
from ._inputs import common_kind, file_labels, input_files, input_kind, part_label, stacked
from ._limits import describe_engine_error
from ._long_lines import long_line_error
from ._spaces import trimmed_names
from ._xlsx import prefetched, sheet_header, sheet_key, typed_sheet

SNIFF_BYTES = 1 << 20
ROW_KEY = "row_key"  # a reader that keeps only some columns adds this hash of the whole row (duplicates)
HEADER_SCAN_ROWS = 30


@dataclass
class Source:
    """An input opened as an ibis table, with what is known about where it came from.

    `files`: one record per file (per sheet, for `--sheet all`) in the order stacked:
    name, path, sha256, rows (counted when there are several) and how it was read.
    """

    table: ibis.Table
    name: str
    kind: str
    sha256: str | None
    path: Path | None = None
    notes: dict = field(default_factory=dict)  # how the file was read: delimiter, encoding, line endings, header row
    files: list[dict] = field(default_factory=list)
    short_name: str | None = None  # several files: the inputs as given, without their folders

    @property
    def delimiter(self) -> str | None:
        return self.notes.get("delimiter")

    @property
    def title(self) -> str:
        """The input's name without its folder."""
        return self.short_name or Path(self.name).name

    def row_name(self, row: int) -> str:
        """'data row 17' of the input; of several files, that of the file holding it: 'b.csv data row 17'."""
        if len(self.files) > 1:
            for part in self.files:
                if row <= part["rows"]:
                    return f"{part_label(part)} data row {row}"
                row -= part["rows"]
        return f"data row {row}"

    def file_records(self, rows_in: int) -> list[dict]:
        """The files read (name, path, sha256, rows, how each was read); a single file's rows are `rows_in`."""
        return [{**part, "rows": rows_in} for part in self.files] if len(self.files) == 1 else list(self.files)

    @contextmanager
    def reading_errors(self) -> Iterator[None]:
        """Name the file and data row of a reader error that surfaces in a later query (a CSV line over the limit)."""
        try:
            yield
        except duckdb.Error as exc:
            error = long_line_error(self.files, str(exc))
            if error is None:
                raise
            raise error from None




MIXED_NEWLINES = re.compile(rb"[^\r]\n")


def _read_csv(con: ibis.BaseBackend, path: Path, options: ReadOptions, notes: dict,
              columns: list[str] | None = None, temp_directory: str | None = None) -> ibis.Table:
    """The file's columns as text. A file in an encoding DuckDB does not read is read from a UTF-8 copy
    (`_encodings.utf8_copy`) into a temporary table, and the copy removed."""
    encoding = file_encoding(path, options.encoding)
    notes |= {"encoding": encoding.codec, "encoding_rule": encoding.rule}
    native = duckdb_encoding(encoding.codec)
    text_path = path if native else utf8_copy(path, encoding, temp_directory)
    try:
        kwargs = {"all_varchar": True, "header": True, "encoding": native or "utf-8"}
        if options.delimiter:
            kwargs["delim"] = options.delimiter
        if options.header_row:
            kwargs["skip"] = options.header_row - 1
        if options.max_line_size:
            kwargs["max_line_size"] = options.max_line_size
        with text_path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
        if native != "utf-16" and b"\r\n" in head and MIXED_NEWLINES.search(head):
            kwargs["strict_mode"] = False  # DuckDB's strict reader refuses a file with both CRLF and LF line ends
            notes["line_endings"] = "mixed CRLF and LF (read with DuckDB's strict_mode off)"
        table = con.read_csv(text_path, **kwargs)
        if not native:  # held by DuckDB (spilling to its temp folder), so that the copy can go
            table = con.create_table(ibis.util.gen_name("utf8"), table, temp=True)
    finally:
        if not native:
            text_path.unlink(missing_ok=True)
    with path.open(encoding=encoding.codec, errors="replace", newline="") as handle:
        for _ in range(options.header_row or 1):
            first = handle.readline()
    first = first.removeprefix("\ufeff")
    split = {d: next(csv.reader([first], delimiter=d), []) for d in (options.delimiter or ",;\t|")}
    fitting = [d for d, names in split.items() if len(names) == len(table.columns)]
    notes["delimiter"] = fitting[0] if fitting else options.delimiter
    if any(_DEDUPLICATED.match(c) for c in table.columns):  # the reader renamed a repeated name to name_1
        _refuse_duplicate_names(path, split[fitting[0]] if fitting else [], columns)
    return table


_DEDUPLICATED = re.compile(r"^.+_[0-9]+$")


def _refuse_duplicate_names(path: Path, names: list[str], used: list[str] | None) -> None:
    """Stop when a column name that the run uses (any name when `used` is None) appears twice in the header."""
    names = [n.strip() for n in names]
    for name in dict.fromkeys(names):
        positions = [i + 1 for i, n in enumerate(names) if n == name]
        if len(positions) > 1 and (used is None or name in used):
            raise DataError(f"{path}: column name {name!r} appears {len(positions)} times in the header "
                            f"(columns {', '.join(map(str, positions))}); rename the copies so each name is unique")


def _header_hint(reader, sheet, columns: list[str]) -> str:
    """' (row N looks like the header: use --header-row N)' when a row near the top holds the wanted names."""
    top = reader.load_sheet(sheet, header_row=None, n_rows=HEADER_SCAN_ROWS, dtypes="string").to_pandas()
    for number, cells in enumerate(top.itertuples(index=False), 1):
        found = {str(v).strip() for v in cells if v is not None}
        if number > 1 and all(c in found for c in columns):
            return f"; row {number} looks like the header: use --header-row {number}"
    return ""


def _read_xlsx(con: ibis.BaseBackend, path: Path, options: ReadOptions, kinds: dict[str, str],
               optional: tuple[str, ...] = ()) -> list[tuple[str | None, ibis.Table]]:
    """The sheet read, as (None, table); with `--sheet all`, (name, table) for every sheet whose column names are
    those of the first sheet holding the run's columns. Without `--sheet`, other sheets with the same column names
    stop the run: a year split over sheets would otherwise be read in part. A sheet may lack the `optional` columns."""
    import fastexcel

    try:
        reader = fastexcel.read_excel(str(path))
    except Exception as exc:  # fastexcel raises its own error types for corrupt/encrypted files
        raise DataError(f"{path}: cannot read as an Excel workbook ({str(exc).splitlines()[0]})") from None
    header_row = (options.header_row or 1) - 1
    if options.sheet == ALL_SHEETS:
        headers = {name: sheet_header(reader, name, header_row) for name in reader.sheet_names}
        first = next((name for name, header in headers.items()
                      if header and all(c in header for c in kinds if c not in optional)),
                     reader.sheet_names[0])
        alike = [name for name, header in headers.items() if header is not None and set(header) == set(headers[first] or ())]
        return [(name, _read_sheet(con, reader, path, name, options, kinds, optional)) for name in alike or [first]]
    sheet = sheet_key(options.sheet)
    table = _read_sheet(con, reader, path, sheet, options, kinds, optional)
    if options.sheet is None:
        refuse_sheets_alike(path, reader, table.columns, header_row)
    return [(None, table)]


def refuse_sheets_alike(path: Path, reader, header: list[str], header_row: int) -> None:
    """Stop when sheets other than the first (read by default) have its column names: a year split over sheets."""
    others = [name for name in reader.sheet_names[1:] if set(sheet_header(reader, name, header_row) or ()) == set(header)]
    if others:
        raise DataError(f"{path}: sheet(s) {', '.join(map(repr, others))} have the same columns as sheet "
                        f"{reader.sheet_names[0]!r}, the one read; --sheet all reads them all together, --sheet NAME reads one")


def _read_sheet(con: ibis.BaseBackend, reader, path: Path, sheet: str | int, options: ReadOptions,
                kinds: dict[str, str], optional: tuple[str, ...] = ()) -> ibis.Table:
    """One sheet, typed (`_xlsx.typed_sheet`) or, when its cells refuse that, as text: every column, so that
    duplicates are judged on whole rows. It may lack the `optional` columns."""
    if isinstance(sheet, str) and sheet not in reader.sheet_names:
        raise DataError(f"{path}: no sheet named {sheet!r}; sheets are {', '.join(map(repr, reader.sheet_names))}")
    if isinstance(sheet, int) and not 0 <= sheet < len(reader.sheet_names):
        raise DataError(f"{path}: sheet index {sheet} out of range; the workbook has {len(reader.sheet_names)} sheet(s)")
    try:
        # every load_sheet call parses the whole sheet (1.5-4.5 s at 288k lines), even with n_rows=0
        header_row = (options.header_row or 1) - 1
        arrow = prefetched(path, sheet, header_row, kinds) if kinds else None
        if arrow is None:
            arrow = typed_sheet(reader, sheet, header_row, kinds) if kinds else None
        if arrow is None:
            arrow = reader.load_sheet(sheet, header_row=header_row, dtypes="string").to_arrow()
        arrow = arrow.rename_columns(trimmed_names(arrow.column_names))
        header = arrow.column_names
        columns = list(kinds) or None
        required = [c for c in kinds if c not in optional]
        wanted = [c for c in required if c in header]
        if len(wanted) < len(required):
            name = sheet if isinstance(sheet, str) else reader.sheet_names[sheet]
            hint = _header_hint(reader, sheet, required) if not options.header_row else ""
            if hint or len(reader.sheet_names) > 1:
                where = (f"; the workbook has sheets {', '.join(map(repr, reader.sheet_names))} (choose one with --sheet)"
                         if not hint else hint)
                raise DataError(f"{path}: sheet {name!r} has no column(s) "
                                f"{', '.join(c for c in required if c not in header)}{where}")
        if any(_DEDUPLICATED.match(c) for c in header):
            top = reader.load_sheet(sheet, header_row=None, n_rows=header_row + 1, dtypes="string").to_arrow()
            _refuse_duplicate_names(path, [str(v[header_row]) for v in top.to_pydict().values()], columns)
    except DataError:
        raise
    except Exception as exc:
        raise DataError(f"{path}: cannot read sheet {sheet!r} ({str(exc).splitlines()[0]})") from None
    return con.create_table(ibis.util.gen_name("xlsx"), arrow, temp=True)


def _trimmed_header(table: ibis.Table) -> ibis.Table:
    """`table` with the spaces around its column names trimmed (`_spaces`): 'Account\u00a0' and '\ufeffAccount' are 'Account'."""
    renamed = {new: old for new, old in zip(trimmed_names(table.columns), table.columns) if new != old}
    return table.rename(renamed) if renamed else table


def _read_file(con: ibis.BaseBackend, path: Path, kind: str, options: ReadOptions, columns: dict[str, str] | list[str] | None,
               temp_directory: str | None, optional: tuple[str, ...] = ()) -> list[tuple[ibis.Table, dict]]:
    """A file's tables (one, or one per sheet with `--sheet all`), each with its record (see `Source.files`)."""
    if not path.exists():
        raise DataError(f"{path}: file not found")
    if not path.is_file():
        raise DataError(f"{path}: not a file")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty")
    digest = file_sha256(path)  # first: a workbook parsed ahead (`_xlsx.prefetch_workbook`) is still being parsed
    notes: dict = {"header_row": options.header_row} if options.header_row else {}
    try:
        if kind == "csv":
            tables = [(None, _read_csv(con, path, options, notes, list(columns) if columns else None, temp_directory))]
        elif kind == "xlsx":
            tables = _read_xlsx(con, path, options, columns if isinstance(columns, dict) else dict.fromkeys(columns or (), "text"),
                                optional)
        else:
            tables = [(None, con.read_parquet(path))]
        for _, table in tables:
            table.schema()
    except DataError:
        raise
    except Exception as exc:  # DuckDB's reader errors: report the first line only
        record = {"path": str(path), "name": str(path), **notes}
        raise (long_line_error([record], str(exc)) or
               DataError(f"{path}: cannot read as {kind} ({describe_engine_error(exc)})")) from None
    return [(_trimmed_header(table), {"name": path.name, "path": str(path), "sha256": digest, "rows": None,
                                      **({"sheet": sheet} if sheet is not None else {}), **notes}) for sheet, table in tables]


def open_source(
    data: str | Path | list | pd.DataFrame | ibis.Table,
    con: ibis.BaseBackend,
    options: ReadOptions | None = None,
    columns: dict[str, str] | list[str] | None = None,
    temp_directory: str | None = None,
    optional: tuple[str, ...] = (),
) -> Source:
    """Open `data` as an ibis table on `con` (a DuckDB backend).

    `data`: a DataFrame, an ibis table, or a path, a glob pattern, a folder, or a list of
    them (`_inputs`): several files are stacked by column name. `columns`: the columns the
    run uses, each with its kind ("text", "number" or "date"; a list means text): a
    workbook's number and date columns are then read in their own types
    (`_xlsx.typed_sheet`), and a missing one is named with a hint, unless it is one of the
    `optional` ones (`ColumnMapping.optional_columns`). `temp_directory`: where
    a file in an encoding DuckDB does not read is copied to UTF-8 (default: the system's).

    >>> con = ibis.duckdb.connect()
    >>> open_source(pd.DataFrame({"id": ["a"]}), con).table.count().execute()
    1
    """
    options = options or ReadOptions()
    if isinstance(data, pd.DataFrame):
        empty = {c: "string" for c in data.columns if data[c].dtype == object and data[c].isna().all()}  # no NULL-typed columns
        data = data.astype(empty) if empty else data
        return Source(_trimmed_header(con.create_table(ibis.util.gen_name("frame"), data, temp=True)), "DataFrame",
                      "dataframe", None)
    if isinstance(data, ibis.Table):
        return Source(_trimmed_header(data), "ibis table", "ibis", None)
    given, paths = input_files(data)
    kind = common_kind(given, paths)
    parts = [part for path in paths for part in _read_file(con, path, kind, options, columns, temp_directory, optional)]
    if len(parts) == 1:
        (table, record), path = parts[0], paths[0]
        notes = {key: value for key, value in record.items() if key not in ("name", "path", "sha256", "rows", "sheet")}
        return Source(table, str(path), kind, record["sha256"], path, notes, [record])
    return _stacked_source(given, paths, kind, parts)


def _stacked_source(given: list[str], paths: list[Path], kind: str, parts: list[tuple[ibis.Table, dict]]) -> Source:
    """Several files (or sheets) as one Source: stacked by column name, each counted."""
    labels = dict(zip(map(str, paths), file_labels(paths)))
    records = [{**record, "name": labels[record["path"]]} for _, record in parts]
    table = stacked([(part_label(record, "path"), part) for (part, _), record in zip(parts, records)])
    for (part, _), record in zip(parts, records):
        record["rows"] = int(part.count().execute())
    return several_files(table, given, kind, records)


def several_files(table: ibis.Table, given: list[str], kind: str, records: list[dict]) -> Source:
    """The Source of files stacked into `table`: named by the inputs as given, its digest that of the files' digests."""
    digests = {record["path"]: record["sha256"] for record in records}  # a workbook read sheet by sheet: once
    digest = hashlib.sha256("".join(f"{sha}\n" for sha in digests.values()).encode()).hexdigest()
    delimiters = {record.get("delimiter") for record in records}
    notes = {"delimiter": delimiters.pop()} if len(delimiters) == 1 and kind == "csv" else {}
    return Source(table, " + ".join(given), kind, digest, None, notes, records, " + ".join(Path(g).name or g for g in given))
