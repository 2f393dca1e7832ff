"""Table writers that take one page of rows at a time: Parquet, CSV, XLSX.

All columns are text (Salesforce's own spelling: ISO dates, '.' decimals); an empty
Salesforce cell is a null in Parquet and an empty cell in CSV/XLSX. Each writer writes
to a temporary file beside the target (`.NAME.partial-PID-*`, removed by the next pull
if the process was killed) and renames it only when `close` succeeds.
"""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .._atomic import remove_stale_staging
from .._errors import UsageError

FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".xlsx": "xlsx"}
XLSX_MAX_ROWS = 1_048_575  # one header row


def output_format(path: Path) -> str:
    """'parquet', 'csv' or 'xlsx' from the file name, else UsageError."""
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise UsageError(f"output {path} must end with .parquet, .csv or .xlsx") from None


class PageWriter:
    """Write pages of string rows under one header to `path`, atomically."""

    def __init__(self, path: Path, header: list[str]) -> None:
        self.path = Path(path)
        self.header = list(header)
        self.kind = output_format(self.path)
        self.rows = 0
        remove_stale_staging(self.path.parent, self.path.name)  # files of pulls that were killed
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.partial-{os.getpid()}-", dir=self.path.parent)
        os.close(fd)
        self.tmp = Path(tmp)
        self._open()

    def _open(self) -> None:
        if self.kind == "parquet":
            self._schema = pa.schema([pa.field(name, pa.string()) for name in self.header])
            self._writer = pq.ParquetWriter(self.tmp, self._schema, compression="zstd")
        elif self.kind == "csv":
            self._handle = self.tmp.open("w", encoding="utf-8", newline="")
            self._writer = csv.writer(self._handle, lineterminator="\n")
            self._writer.writerow(self.header)
        else:
            import xlsxwriter

            self._book = xlsxwriter.Workbook(str(self.tmp), {"constant_memory": True, "strings_to_formulas": False})
            self._sheet = self._book.add_worksheet("Sales")
            for col, name in enumerate(self.header):
                self._sheet.write_string(0, col, name)

    def write(self, rows: list[list[str]]) -> None:
        """Append rows (lists of strings, '' for empty)."""
        if not rows:
            return
        if self.kind == "parquet":
            columns = list(zip(*rows))
            arrays = [pa.array([v if v != "" else None for v in col], type=pa.string()) for col in columns]
            self._writer.write_table(pa.Table.from_arrays(arrays, schema=self._schema))
        elif self.kind == "csv":
            self._writer.writerows(rows)
        else:
            if self.rows + len(rows) > XLSX_MAX_ROWS:
                raise UsageError(f"{self.path}: more than {XLSX_MAX_ROWS} rows do not fit in a worksheet; write .parquet or .csv")
            for offset, row in enumerate(rows, start=self.rows + 1):
                for col, value in enumerate(row):
                    if value != "":
                        self._sheet.write_string(offset, col, value)  # text, never a formula
        self.rows += len(rows)

    def close(self) -> None:
        """Finish the file and move it to its place."""
        self._finish()
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        """Drop the temporary file; the target is untouched."""
        try:
            self._finish()
        except Exception:  # noqa: BLE001 - the file is being thrown away
            pass
        self.tmp.unlink(missing_ok=True)

    def _finish(self) -> None:
        if self.kind == "parquet":
            self._writer.close()
        elif self.kind == "csv":
            self._handle.close()
        else:
            self._book.close()
