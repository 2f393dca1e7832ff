"""A CSV line longer than DuckDB's limit (`max_line_size`): the file and data row holding it, and the option that reads it.

DuckDB's own line number is unreliable here (a long line among the rows it samples to
detect the dialect makes it see a one-line file), so the file is read again with Python's
CSV reader, on the error path only, to find the first record over the limit.
"""

from __future__ import annotations

import csv
import math
import re
import sys
from collections.abc import Iterator
from pathlib import Path

from .._errors import DataError
from ._encodings import Encoding

LONG_LINE = re.compile(r"Maximum line size of ([0-9]+) bytes exceeded\. Actual Size: ?([0-9]+) bytes")


def long_line_error(parts: list[dict], message: str) -> DataError | None:
    """For DuckDB's 'Maximum line size ... exceeded': one line naming the file, its data row and the option that reads it."""
    found = LONG_LINE.search(message)
    if not found:
        return None
    limit, size = int(found.group(1)), int(found.group(2))
    name, line = " + ".join(part["path"] for part in parts), "a line"
    for part in (p for p in parts if "encoding" in p):  # the CSV files
        where = _first_long_row(part, limit)
        if where:
            (row, size), name = where, part["path"]
            line = "the header line" if row == 0 else f"data row {row}"
            break
    return DataError(f"{name}: {line} is {size:,} bytes long, more than the reader's limit of {limit:,} (a cell "
                     "holding a long text, or line breaks the reader does not see); read it with --max-line-size "
                     f"{math.ceil((size + 2) / 10**6)}MB")


def _first_long_row(part: dict, limit: int) -> tuple[int, int] | None:
    """(data row, bytes in UTF-8) of the first record of a CSV file longer than `limit` bytes (row 0: the header)."""
    encoding = Encoding(part["encoding"], part["encoding_rule"])
    consumed, line_break = 0, 0
    with Path(part["path"]).open(encoding=encoding.codec, errors=encoding.errors, newline="") as handle:
        def lines() -> Iterator[str]:
            nonlocal consumed, line_break
            for text in handle:
                consumed += len(text.encode("utf-8", "replace"))
                line_break = len(text) - len(text.rstrip("\r\n"))
                yield text

        source = lines()
        for _ in range((part.get("header_row") or 1) - 1):
            next(source, None)
        start, previous_limit = consumed, csv.field_size_limit(sys.maxsize)
        try:
            for row, _record in enumerate(csv.reader(source, delimiter=part.get("delimiter") or ",")):
                size = consumed - start - line_break
                if size > limit:
                    return row, size
                start = consumed
        finally:
            csv.field_size_limit(previous_limit)
    return None
