"""The encoding a text file is read in, and a UTF-8 copy of a file in an encoding DuckDB does not read.

The rule: a UTF-16 byte order mark says UTF-16; a file that is valid UTF-8 from its first
byte to its last is UTF-8 (the whole file is checked: an Excel export's first '£' may come
after millions of plain ASCII bytes); any other file is Windows-1252 (cp1252), what Excel writes as "CSV" on Western
systems. cp1252 reads every byte as latin-1 does except 0x80-0x9F, which are ’ € – “ ” …
in cp1252 and invisible control characters in latin-1; the five bytes cp1252 leaves
undefined are read as latin-1 reads them, as web browsers do. `--encoding` takes any Python
codec name instead. DuckDB reads UTF-8, UTF-16 and latin-1 itself; a file in any other
encoding is copied to UTF-8 in the temp folder first (`utf8_copy`), and the copy removed
once read.

>>> duckdb_encoding("latin-1"), duckdb_encoding("cp1252")
('latin-1', None)
"""

from __future__ import annotations

import codecs
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .._errors import DataError

SNIFF_BYTES = 1 << 20
CHUNK_BYTES = 1 << 20
WINDOWS_1252 = "cp1252"
_DUCKDB_NAMES = {"utf-8": "utf-8", "utf-8-sig": "utf-8", "utf-16": "utf-16", "iso8859-1": "latin-1"}  # codecs.lookup names
_AS_LATIN_1 = "custseg-as-latin-1"
codecs.register_error(_AS_LATIN_1, lambda exc: (exc.object[exc.start:exc.end].decode("latin-1"), exc.end))
UTF8_MULTIBYTE = re.compile(rb"[\xc3\xc2][\x80-\xbf]|\xe2\x82\xac|\xe2\x80[\x90-\xbf]")


@dataclass(frozen=True)
class Encoding:
    """The codec a file is read with (a Python codec name) and why it was chosen."""

    codec: str
    rule: str

    @property
    def errors(self) -> str:
        """How undecodable bytes are read: cp1252's five undefined bytes as latin-1; other codecs strictly."""
        return _AS_LATIN_1 if codecs.lookup(self.codec).name == WINDOWS_1252 else "strict"


def duckdb_encoding(codec: str) -> str | None:
    """DuckDB's name for a codec it reads itself (utf-8, utf-16, latin-1), else None."""
    return _DUCKDB_NAMES.get(codecs.lookup(codec).name)


def file_encoding(path: Path, given: str | None = None) -> Encoding:
    """The encoding `given` (--encoding), or the one the module's rule detects."""
    if given:
        return Encoding(given, "given with --encoding")
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            return Encoding("utf-16", "UTF-16 byte order mark")
        sample = head[:8192]
        if sum(byte < 32 and byte not in b"\t\n\r\x0c" for byte in sample) > len(sample) // 10:
            raise DataError(f"{path}: not a text file (binary content); export the data as CSV, or use .xlsx/.parquet for those formats")
        bad = _first_non_utf8(head, handle)
    if bad is None:
        return Encoding("utf-8", "valid UTF-8")
    byte, line, utf8_line = bad
    if utf8_line is not None:
        raise DataError(f"{path}: mixed encodings: line {utf8_line} is UTF-8 but line {line} is not (re-save the file as UTF-8)")
    return Encoding(WINDOWS_1252, f"not UTF-8 (byte 0x{byte:02X} on line {line}): read as Windows-1252, Excel's encoding for CSV")


def _first_non_utf8(head: bytes, handle) -> tuple[int, int, int | None] | None:
    """The first byte of the file (`head`, then the rest of `handle`) that is not UTF-8: (its value, its line, the
    line of a UTF-8 accent before it, or None); None when the whole file is UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines, utf8_line, chunk = 1, None, head
    while True:
        try:
            decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            seen = exc.object[:exc.start]
            accent = UTF8_MULTIBYTE.search(seen)
            if accent and utf8_line is None:
                utf8_line = lines + seen.count(b"\n", 0, accent.start())
            return exc.object[exc.start], lines + seen.count(b"\n"), utf8_line
        if utf8_line is None and (accent := UTF8_MULTIBYTE.search(chunk)):
            utf8_line = lines + chunk.count(b"\n", 0, accent.start())
        if not chunk:
            return None
        lines += chunk.count(b"\n")
        chunk = handle.read(CHUNK_BYTES)


def utf8_copy(path: Path, encoding: Encoding, folder: str | Path | None = None) -> Path:
    """A UTF-8 copy of `path` in `folder` (default: the system temp folder), decoded in 1 MiB chunks; the caller removes it."""
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
    decoder = codecs.getincrementaldecoder(encoding.codec)(encoding.errors)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", newline="", suffix=".csv", prefix="custseg-utf8-",
                                     dir=folder, delete=False) as out, path.open("rb") as handle:
        copy, lines = Path(out.name), 1
        try:
            while True:
                chunk = handle.read(CHUNK_BYTES)
                try:
                    text = decoder.decode(chunk, final=not chunk)
                except UnicodeDecodeError as exc:
                    line = lines + exc.object[:exc.start].count(b"\n")
                    raise DataError(f"{path}: not {encoding.codec} text (byte 0x{exc.object[exc.start]:02X} on line {line}); "
                                    "is --encoding right?") from None
                out.write(text)
                lines += text.count("\n")
                if not chunk:
                    break
        except BaseException:
            out.close()
            copy.unlink(missing_ok=True)
            raise
    return copy
