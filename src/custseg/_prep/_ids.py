"""Customer (and order, product) ids as the same text whatever the reader: one account, one id.

- Spaces around an id are trimmed, Unicode ones too (no-break, zero-width, BOM: `_engines._spaces`),
  so `'A\u00a0'` and `'A'` are one customer; spaces inside are kept.
- An id whose digits are lost stops the run (`lost_digits`): Excel's scientific notation written
  as text (`6.27123E+15`), or a floating-point number of 16 digits or more (a float holds 15 to
  17 significant digits, Excel keeps 15, so a 16-digit id may have lost its last digit).
- Integral numbers are written without a fractional part: a workbook's `10001` and a CSV's
  `10001.0` are the same id `10001` (leading zeros are kept: `0001` stays text).
- Salesforce ids (`--salesforce-ids`, on with the salesforce-cpq preset): a 15-character id
  (case-sensitive) gets its 3-character case checksum, so `001Dn00000AbCdE` and
  `001Dn00000AbCdEIAV` are one account; an 18-character id whose letter case does not match
  its checksum (changed by a spreadsheet or a case-insensitive tool) is an error.

>>> salesforce_id18("001Dn00000AbCdE")
'001Dn00000AbCdEIAV'
>>> case_from_checksum("001DN00000ABCDEIAV")
'001Dn00000AbCdEIAV'
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._config._options import ReadOptions
from .._engines._spaces import SPACE_CLASS, SPACES
from .._engines._xlsx import number_cells
from .._errors import DataError

INTEGRAL = r"^[+-]?[0-9]+\.0+$"
SF_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
CHECKSUM_LETTERS = np.frombuffer(SF_ALPHABET.encode(), np.uint8)
SF15 = r"^[a-zA-Z0-9]{15}$"
SF18 = r"^[a-zA-Z0-9]{18}$"


AROUND = f"^{SPACE_CLASS}+|{SPACE_CLASS}+$"
_SPACES = ibis.literal(SPACES)
EXCEL_SCIENTIFIC = rf"^{SPACE_CLASS}*[0-9](\.[0-9]+)?[eE]\+[0-9]+{SPACE_CLASS}*$"  # 6.27123E+15, as Excel shows it
EXACT_DIGITS = 15  # a float id of more digits (>= 1e15) may have lost its last ones
LONG_DIGITS = rf"^[0-9]{{{EXACT_DIGITS + 1},}}$"


def spaced(column: ibis.Value) -> ibis.Value:
    """Whether a text is empty or begins or ends with a space, ASCII or Unicode (NULL for NULL): its first and last
    characters looked up in the string of spaces, as fast on DuckDB as the former test of an ASCII code <= 32."""
    return _SPACES.contains(column.left(1)) | _SPACES.contains(column.right(1))


def blank_to_null(column: ibis.Value) -> ibis.Value:
    """Text without the spaces around it (`_engines._spaces`: ASCII, no-break, zero-width, BOM...); NULL when blank.

    Only a value that is empty or begins or ends with a space goes through the regular
    expression (a CASE evaluates a branch on its rows only): a clean column costs two
    one-character lookups a value.
    """
    return ibis.ifelse(spaced(column), column.re_replace(AROUND, "").nullif(""), column)


def space_counts(raw: ibis.Value, trimmed: ibis.Value, weight: ibis.Value | None = None) -> tuple[ibis.Value, ibis.Value]:
    """Aggregates: the values (each counting `weight` when given) that had spaces around them and are not blank
    (`trimmed` is `blank_to_null(raw)`), and those of them with a Unicode space (no-break, zero-width, BOM...)."""
    had = (raw != trimmed).fill_null(False)
    unicode = ibis.ifelse(had, raw.strip() != trimmed, False)  # ASCII trimming alone leaves a Unicode space
    return tuple(flag.sum() if weight is None else flag.ifelse(weight, 0).sum() for flag in (had, unicode))


def lost_digits(column: ibis.Value) -> ibis.Value | None:
    """Where an id column's value has lost digits: Excel's scientific notation as text, or a float of 16 digits or more;
    None for a column that cannot (integers)."""
    if column.type().is_floating():
        return column.abs() >= 10.0 ** EXACT_DIGITS
    if column.type().is_string():  # the regular expression only where 'E+' is (CASE evaluates a branch on its rows only)
        return ibis.ifelse(column.contains("E+") | column.contains("e+"), column.re_search(EXCEL_SCIENTIFIC), False)
    return None


def refuse_number_cell_ids(source, read: ReadOptions, columns: dict[str, str]) -> None:
    """Stop when an id column of a workbook (`columns`: name -> label in messages) holds number cells and an id of 16
    digits or more: a workbook keeps 15 significant digits of a number, so such an id may have lost its last ones.

    The reader gives every id as text; the sheet is parsed again (`_engines._xlsx.number_cells`) only for a column
    that has such an id, to tell number cells from text cells (a 16-digit id typed as text is exact).
    """
    if source.kind != "xlsx":
        return
    for name, label in columns.items():
        text = source.table[name].cast(dt.string)
        numbered = source.table.select(_id=text, _row=ibis.row_number() + 1)
        long = ibis.ifelse(numbered._id.length() > EXACT_DIGITS, numbered._id.re_search(LONG_DIGITS), False)
        found = numbered.filter(long).order_by("_row").limit(1).execute()
        if found.empty:
            continue
        sheets = [(part["path"], part.get("sheet", read.sheet)) for part in source.files]  # each file (sheet) read
        if not any(number_cells(path, sheet, (read.header_row or 1) - 1, name) in ("numbers", "mixed") for path, sheet in sheets):
            continue
        raise DataError(f"{source.name}: column {label} has number cells and ids of 16 digits or more, e.g. "
                        f"{found['_id'].iloc[0]!r} at {source.row_name(int(found['_row'].iloc[0]))}: a workbook keeps 15 "
                        "significant digits of a number, so their last digits may be lost; format the column as text in "
                        "the export and read it again")


def id_text(column: ibis.Value) -> ibis.Value:
    """An id column as trimmed text: integral numbers without '.0', empty cells NULL."""
    if column.type().is_floating():
        integral = column == column.round()
        text = ibis.ifelse(integral, column.cast(dt.int64).cast(dt.string), column.cast(dt.string))
    else:
        text = column.cast(dt.string) if not column.type().is_string() else column
    text = blank_to_null(text)
    # the regular expression only where the text ends in 0 (CASE evaluates a branch on its rows only)
    integral = ibis.ifelse(text.endswith("0"), text.re_search(INTEGRAL), False)
    return ibis.ifelse(integral, text.re_extract(r"^([+-]?[0-9]+)\.", 1), text)


def checksum_letters(body: np.ndarray) -> np.ndarray:
    """The 3-character suffix (uint8, n x 3) of 18-character ids from their first 15 characters (uint8, n x 15):
    one bit per uppercase letter in each block of 5."""
    upper = ((body >= ord("A")) & (body <= ord("Z"))).reshape(len(body), 3, 5).astype(np.uint8)
    return CHECKSUM_LETTERS[(upper << np.arange(5, dtype=np.uint8)).sum(axis=2)]


def _ascii_rows(strings: pa.Array, width: int) -> np.ndarray:
    """Strings of `width` ASCII characters each as a uint8 matrix (n x width)."""
    fixed = strings.cast(pa.binary(width))
    return np.frombuffer(fixed.buffers()[1], np.uint8)[fixed.offset * width:(fixed.offset + len(fixed)) * width].reshape(-1, width)


def salesforce_forms(ids: pa.Array) -> tuple[dict[str, np.ndarray], pa.Array]:
    """Flags for each text value of `ids` (converted_15_to_18, already_18, bad_checksum: numpy booleans) and the
    18-character forms of the values flagged converted_15_to_18, in order.

    Computed on the values themselves (one per distinct id): as SQL, the checksum is a
    76 KB expression that took DuckDB and ibis 0.3 s to compile at any size.

    >>> flags, id18 = salesforce_forms(pa.array(["001Dn00000AbCdE", "001DN00000ABCDEIAV", None, "x"]))
    >>> {key: flag.tolist() for key, flag in flags.items()}, id18.to_pylist()
    ({'converted_15_to_18': [True, False, False, False], 'already_18': [False, True, False, False], \
'bad_checksum': [False, True, False, False]}, ['001Dn00000AbCdEIAV'])
    """
    is15, is18 = (pc.match_substring_regex(ids, pattern).fill_null(False).to_numpy(zero_copy_only=False)
                  for pattern in (SF15, SF18))
    body = _ascii_rows(ids.filter(is15), 15)
    id18 = pa.array(np.ascontiguousarray(np.hstack([body, checksum_letters(body)])).view("S18").ravel(), pa.binary())
    chars = _ascii_rows(ids.filter(is18), 18)
    bad = np.zeros(len(ids), dtype=bool)
    bad[is18] = (chars[:, 15:] != checksum_letters(chars[:, :15])).any(axis=1)
    return {"converted_15_to_18": is15, "already_18": is18, "bad_checksum": bad}, id18.cast(pa.string())


def salesforce_id18(id15: str) -> str:
    """The 18-character form of a 15-character Salesforce id."""
    suffix = ""
    for chunk in range(3):
        part = id15[chunk * 5:chunk * 5 + 5]
        suffix += SF_ALPHABET[sum(1 << i for i, char in enumerate(part) if char.isupper())]
    return id15 + suffix


def case_from_checksum(id18: str) -> str:
    """The letter case an 18-character id's checksum says its first 15 characters have."""
    head = []
    for chunk in range(3):
        bits = SF_ALPHABET.index(id18[15 + chunk].upper())
        part = id18[chunk * 5:chunk * 5 + 5]
        head += [char.upper() if bits >> i & 1 else char.lower() for i, char in enumerate(part)]
    return "".join(head) + id18[15:].upper()
