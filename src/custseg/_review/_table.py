"""The review table: one row per segment, what marketing reads and the columns it edits (.xlsx or .csv).

Text cells a spreadsheet would run as a formula (=, +, -, @ ...) are written with a leading
apostrophe (`_atomic.neutralise_cell`) and read back without it.
"""

from __future__ import annotations

import io
import math
import os
import tempfile
from pathlib import Path

import pandas as pd

from .. import _schema as S
from .._atomic import make_shareable, neutralise_frame, restore_frame, write_text_atomic
from .._errors import DataError, UsageError

TEXTS = ("name", "description", "action")
EDITABLE = (*(f"{key}_{lang}" for key in TEXTS for lang in S.LANGUAGES), "merge_into")
"""The columns a reviewer edits; every other column is for reading."""
SHOWN = (S.SEGMENT_ID, "size", "customer_share", "revenue_share")
FORMATS = (".xlsx", ".csv")
SHARES = ("customer_share", "revenue_share")
WIDTHS = {S.SEGMENT_ID: 11, "size": 9, "customer_share": 15, "revenue_share": 14, "merge_into": 11}
CSV_SEPARATORS = (",", ";", "\t")


def review_table(profiles: pd.DataFrame, segments: list[dict], lang: str) -> pd.DataFrame:
    """The table of a run: id, size, customer and revenue shares, the defining sentence (`summary_<lang>`),
    then the editable texts (those of model.json, descriptions without the facts) and an empty `merge_into`.

    `segments` are model.json's (`id`, `name`/`description`/`action` as {"en", "fr"}).
    """
    texts = {int(s["id"]): s for s in segments}
    profiles = restore_frame(profiles).sort_values(S.SEGMENT_ID)
    rows = []
    for row in profiles.to_dict("records"):
        own = texts[int(row[S.SEGMENT_ID])]
        rows.append({S.SEGMENT_ID: int(row[S.SEGMENT_ID]), "size": int(row["size"]),
                     "customer_share": float(row["customer_share"]), "revenue_share": float(row["revenue_share"]),
                     f"summary_{lang}": str(row.get(f"summary_{lang}") or ""),
                     **{f"{key}_{code}": str(own[key].get(code) or "") for key in TEXTS for code in S.LANGUAGES},
                     "merge_into": ""})
    return pd.DataFrame(rows)


def _check_target(path: Path, overwrite: bool) -> None:
    if path.suffix.lower() not in FORMATS:
        raise UsageError(f"review table {path} must end with .xlsx or .csv")
    if path.exists() and not overwrite:
        raise UsageError(f"{path} already exists (use --overwrite to replace it)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def write_review_table(table: pd.DataFrame, path: str | Path, overwrite: bool = False) -> Path:
    """Write `table` to `path` (.xlsx: editable columns shaded, shares as percentages; .csv: UTF-8 with a BOM,
    which Excel opens with its accents), atomically."""
    path = Path(path)
    _check_target(path, overwrite)
    safe = neutralise_frame(table)
    if path.suffix.lower() == ".csv":
        write_text_atomic(path, "\ufeff" + safe.to_csv(index=False, lineterminator="\n"))
        return path
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.partial-{os.getpid()}-", suffix=".xlsx", dir=path.parent)
    os.close(fd)
    try:
        _write_xlsx(safe, Path(tmp))
        make_shareable(Path(tmp), 0o666)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _write_xlsx(table: pd.DataFrame, path: Path) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                           "strings_to_numbers": False})
    sheet = book.add_worksheet("Segments")
    header = book.add_format({"bold": True, "text_wrap": True, "valign": "top", "bottom": 1})
    edit_header = book.add_format({"bold": True, "text_wrap": True, "valign": "top", "bottom": 1, "bg_color": "#FFF2CC"})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    edit = book.add_format({"text_wrap": True, "valign": "top", "bg_color": "#FFF2CC"})
    percent = book.add_format({"num_format": "0.0%", "valign": "top"})
    for j, column in enumerate(table.columns):
        editable = column in EDITABLE
        sheet.write_string(0, j, column, edit_header if editable else header)
        sheet.set_column(j, j, WIDTHS.get(column, 40 if column.startswith(("summary", "description", "action")) else 28))
        for i, value in enumerate(table[column].tolist(), start=1):
            style = edit if editable else percent if column in SHARES else wrap
            if isinstance(value, str):
                sheet.write_string(i, j, value, style)
            elif value is None or (isinstance(value, float) and math.isnan(value)):
                sheet.write_blank(i, j, None, style)
            else:
                sheet.write_number(i, j, value, style)
    sheet.freeze_panes(1, 1)
    book.close()


def read_review_table(path: str | Path) -> pd.DataFrame:
    """The edited table as text (empty cells ''), column names stripped, spreadsheet escaping undone.

    A .csv may be UTF-8 (with or without a BOM) or, as Excel saves it on Windows, Windows-1252,
    separated by commas, semicolons or tabs (the separator that makes `segment_id` a column).
    """
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise UsageError(f"review table {path} must end with .xlsx or .csv")
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        frame = _read_xlsx(path) if path.suffix.lower() == ".xlsx" else _read_csv(path)
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - readers raise several kinds for a damaged file
        raise DataError(f"{path}: cannot read the review table ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return restore_frame(frame.fillna("").astype(str))


def _read_xlsx(path: Path) -> pd.DataFrame:
    import fastexcel

    return fastexcel.read_excel(str(path)).load_sheet(0, dtypes="string").to_arrow().to_pandas()


def _read_csv(path: Path) -> pd.DataFrame:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    first = text.split("\n", 1)[0]
    separator = next((sep for sep in CSV_SEPARATORS if S.SEGMENT_ID in (c.strip().strip('"') for c in first.split(sep))), ",")
    return pd.read_csv(io.StringIO(text), sep=separator, dtype=str, keep_default_na=False)
