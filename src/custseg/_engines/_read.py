"""Read an input (csv, xlsx, parquet, DataFrame or ibis table) into an ibis table on DuckDB.

Text files are read as text columns (workbooks too, unless every cell of a column has
its type, `_xlsx`); typing happens in `_prep._parse`, so a bad value is reported with
its column and row instead of failing inside the reader.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import ibis
import pandas as pd

from .._atomic import file_sha256
from .._config._options import ENCODINGS, ReadOptions
from .._errors import DataError, UsageError
from ._limits import describe_engine_error
from ._xlsx import prefetched, sheet_key, typed_sheet

SUFFIX_KINDS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".xls": "xlsx", ".parquet": "parquet", ".pq": "parquet"}
SNIFF_BYTES = 1 << 20


ROW_KEY = "row_key"  # a reader that keeps only some columns adds this hash of the whole row (duplicates)
HEADER_SCAN_ROWS = 30
@dataclass
class Source:
    """An input opened as an ibis table, with what is known about where it came from."""

    table: ibis.Table
    name: str
    kind: str
    sha256: str | None
    path: Path | None = None
    notes: dict = field(default_factory=dict)  # how the file was read: delimiter, line endings, header row

    @property
    def delimiter(self) -> str | None:
        return self.notes.get("delimiter")


def input_kind(path: Path) -> str:
    """csv, xlsx or parquet, from the file name."""
    try:
        return SUFFIX_KINDS[path.suffix.lower()]
    except KeyError:
        raise UsageError(f"{path}: unknown file type {path.suffix!r}; use .csv, .xlsx or .parquet") from None


def detect_encoding(path: Path) -> str:
    """utf-8 unless the first MiB is not valid UTF-8 (then latin-1); BOMs are honoured."""
    head = path.open("rb").read(SNIFF_BYTES)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    sample = head[:8192]
    if sum(byte < 32 and byte not in b"\t\n\r\x0c" for byte in sample) > len(sample) // 10:
        raise DataError(f"{path}: not a text file (binary content); export the data as CSV, or use .xlsx/.parquet for those formats")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the sample
            _refuse_mixed_encodings(path, head, exc.start)
            return "latin-1"
    return "utf-8"


UTF8_MULTIBYTE = re.compile(rb"[\xc3\xc2][\x80-\xbf]|\xe2\x82\xac|\xe2\x80[\x90-\xbf]")


def _refuse_mixed_encodings(path: Path, head: bytes, bad_at: int) -> None:
    """Stop when the sample has both UTF-8 accents and bytes that are not UTF-8: one encoding would garble the other."""
    utf8 = UTF8_MULTIBYTE.search(head)
    if utf8:
        def line(at: int) -> int:
            return head.count(b"\n", 0, at) + 1

        raise DataError(f"{path}: mixed encodings: line {line(utf8.start())} is UTF-8 but line {line(bad_at)} is not "
                        "(re-save the file as UTF-8)")


MIXED_NEWLINES = re.compile(rb"[^\r]\n")


def _read_csv(con: ibis.BaseBackend, path: Path, options: ReadOptions, notes: dict,
              columns: list[str] | None = None) -> ibis.Table:
    encoding = ENCODINGS[options.encoding.lower()] if options.encoding else detect_encoding(path)
    kwargs = {"all_varchar": True, "header": True, "encoding": encoding}
    if options.delimiter:
        kwargs["delim"] = options.delimiter
    if options.header_row:
        kwargs["skip"] = options.header_row - 1
    head = path.open("rb").read(SNIFF_BYTES)
    if encoding != "utf-16" and b"\r\n" in head and MIXED_NEWLINES.search(head):
        kwargs["strict_mode"] = False  # DuckDB's strict reader refuses a file with both CRLF and LF line ends
        notes["line_endings"] = "mixed CRLF and LF (read with DuckDB's strict_mode off)"
    table = con.read_csv(path, **kwargs)
    with path.open(encoding="utf-16" if encoding == "utf-16" else "utf-8-sig" if encoding == "utf-8" else encoding,
                   errors="replace", newline="") as handle:
        for _ in range(options.header_row or 1):
            first = handle.readline()
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


def _read_xlsx(con: ibis.BaseBackend, path: Path, options: ReadOptions, kinds: dict[str, str]) -> ibis.Table:
    """The sheet, typed (`_xlsx.typed_sheet`) or, when its cells refuse that, as text: every column, so that
    duplicates are judged on whole rows."""
    import fastexcel

    try:
        reader = fastexcel.read_excel(str(path))
    except Exception as exc:  # fastexcel raises its own error types for corrupt/encrypted files
        raise DataError(f"{path}: cannot read as an Excel workbook ({str(exc).splitlines()[0]})") from None
    sheet = sheet_key(options.sheet)
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
        header = arrow.column_names
        columns = list(kinds) or None
        wanted = [c for c in columns if c in header] if columns else None
        if columns and len(wanted) < len(columns):
            name = sheet if isinstance(sheet, str) else reader.sheet_names[sheet]
            hint = _header_hint(reader, sheet, columns) if not options.header_row else ""
            if hint or len(reader.sheet_names) > 1:
                where = (f"; the workbook has sheets {', '.join(map(repr, reader.sheet_names))} (choose one with --sheet)"
                         if not hint else hint)
                raise DataError(f"{path}: sheet {name!r} has no column(s) "
                                f"{', '.join(c for c in columns if c not in header)}{where}")
        if any(_DEDUPLICATED.match(c) for c in header):
            top = reader.load_sheet(sheet, header_row=None, n_rows=header_row + 1, dtypes="string").to_arrow()
            _refuse_duplicate_names(path, [str(v[header_row]) for v in top.to_pydict().values()], columns)
    except DataError:
        raise
    except Exception as exc:
        raise DataError(f"{path}: cannot read sheet {sheet!r} ({str(exc).splitlines()[0]})") from None
    return con.create_table(ibis.util.gen_name("xlsx"), arrow, temp=True)


def open_source(
    data: str | Path | pd.DataFrame | ibis.Table,
    con: ibis.BaseBackend,
    options: ReadOptions | None = None,
    columns: dict[str, str] | list[str] | None = None,
) -> Source:
    """Open `data` as an ibis table on `con` (a DuckDB backend).

    `columns`: the columns the run uses, each with its kind ("text", "number" or "date";
    a list means text): a workbook's number and date columns are then read in their own
    types (`_xlsx.typed_sheet`), and a missing one is named with a hint.

    >>> con = ibis.duckdb.connect()
    >>> open_source(pd.DataFrame({"id": ["a"]}), con).table.count().execute()
    1
    """
    options = options or ReadOptions()
    if isinstance(data, pd.DataFrame):
        empty = {c: "string" for c in data.columns if data[c].dtype == object and data[c].isna().all()}  # no NULL-typed columns
        data = data.astype(empty) if empty else data
        return Source(con.create_table(ibis.util.gen_name("frame"), data, temp=True), "DataFrame", "dataframe", None)
    if isinstance(data, ibis.Table):
        return Source(data, "ibis table", "ibis", None)
    path = Path(data)
    if not path.exists():
        raise DataError(f"{path}: file not found")
    if not path.is_file():
        raise DataError(f"{path}: not a file")
    kind = input_kind(path)
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty")
    digest = file_sha256(path)  # first: a workbook parsed ahead (`_xlsx.prefetch_workbook`) is still being parsed
    try:
        notes: dict = {"header_row": options.header_row} if options.header_row else {}
        if kind == "csv":
            table = _read_csv(con, path, options, notes, list(columns) if columns else None)
        elif kind == "xlsx":
            table = _read_xlsx(con, path, options, columns if isinstance(columns, dict) else dict.fromkeys(columns or (), "text"))
        else:
            table = con.read_parquet(path)
        table.schema()
    except DataError:
        raise
    except Exception as exc:  # DuckDB's reader errors: report the first line only
        message = describe_engine_error(exc)
        raise DataError(f"{path}: cannot read as {kind} ({message})") from None
    return Source(table, str(path), kind, digest, path, notes)
