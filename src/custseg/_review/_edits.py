"""The checks of an edited review table, and what it changes: renames, texts, merges.

Every problem stops the review with one line naming the file, the row (as a spreadsheet
numbers it: the header is row 1) and the segment; nothing is changed then.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import _schema as S
from .._errors import DataError
from ._table import EDITABLE, TEXTS

MIN_SEGMENTS = 2


@dataclass
class Edits:
    """What a review table asks: the texts of every segment that stays, the merges (id -> id it joins), and each
    change as {"segment_id", "field", "old", "new"}."""

    texts: dict[int, dict] = field(default_factory=dict)
    merges: dict[int, int] = field(default_factory=dict)
    changes: list[dict] = field(default_factory=list)


def _segment_id(value: str) -> int | None:
    """'3', ' 3 ', '3.0' (a number cell read as text) -> 3; '' -> None; anything else -> ValueError."""
    text = value.strip()
    if not text:
        return None
    number = float(text)
    if not number.is_integer():
        raise ValueError(text)
    return int(number)


def _ids(table: pd.DataFrame, where: str, known: list[int]) -> dict[int, int]:
    """segment id -> spreadsheet row, each row's id checked."""
    rows: dict[int, int] = {}
    listed = ", ".join(map(str, known))
    for i, value in enumerate(table[S.SEGMENT_ID], start=2):
        try:
            sid = _segment_id(value)
        except ValueError:
            raise DataError(f"{where}, row {i}: segment_id {value!r} is not a segment id") from None
        if sid is None:
            if not "".join(table.iloc[i - 2]).strip():
                continue  # an empty line at the end of a sheet
            raise DataError(f"{where}, row {i}: segment_id is empty")
        if sid not in known:
            raise DataError(f"{where}, row {i}: segment {sid} is not a segment of this run (segments {listed})")
        if sid in rows:
            raise DataError(f"{where}, row {i}: segment {sid} appears twice (rows {rows[sid]} and {i})")
        rows[sid] = i
    missing = [sid for sid in known if sid not in rows]
    if missing:
        raise DataError(f"{where}: no row for segment {missing[0]}; every segment needs its row (export the table again)")
    return rows


def _merges(table: pd.DataFrame, rows: dict[int, int], where: str, known: list[int]) -> dict[int, int]:
    merges = {}
    for sid, i in rows.items():
        value = table.iloc[i - 2]["merge_into"]
        try:
            target = _segment_id(value)
        except ValueError:
            raise DataError(f"{where}, row {i}: merge_into {value!r} is not a segment id") from None
        if target is None:
            continue
        if target == sid:
            raise DataError(f"{where}, row {i}: segment {sid} cannot merge into itself")
        if target not in known:
            raise DataError(f"{where}, row {i}: segment {sid} merges into {target}, which is not a segment of this run "
                            f"(segments {', '.join(map(str, known))})")
        merges[sid] = target
    for sid, target in merges.items():
        if target in merges:
            raise DataError(f"{where}, row {rows[sid]}: segment {sid} merges into {target}, which merges into "
                            f"{merges[target]}: merge both into {merges[target]} directly")
    staying = len(known) - len(merges)
    if staying < MIN_SEGMENTS:
        raise DataError(f"{where}: the merges leave {staying} segment; at least {MIN_SEGMENTS} must remain")
    return merges


def read_edits(table: pd.DataFrame, source: str | Path, current: dict[int, dict], sizes: dict[int, int]) -> Edits:
    """Check `table` (`read_review_table`) against the run and return its edits.

    `current`: the run's texts per segment id (model.json's name/description/action, {"en", "fr"});
    `sizes`: customers per segment id, which the table's `size` must repeat (a table from another
    run, or from before a merge, is refused).
    """
    where = Path(source).name
    absent = [c for c in (S.SEGMENT_ID, "size", *EDITABLE) if c not in table.columns]
    if absent:
        raise DataError(f"{where}: no column {absent[0]}; export the table again (custseg review RUN --export FILE)")
    known = list(current)
    rows = _ids(table, where, known)
    for sid, i in rows.items():
        size = table.iloc[i - 2]["size"].strip()
        try:
            written = _segment_id(size)
        except ValueError:
            written = None
        if written != sizes[sid]:
            raise DataError(f"{where}, row {i}: segment {sid} has {size or 'no'} customers in this table but {sizes[sid]:,} "
                            "in the run: the table comes from another run or from before a review; export it again")
    edits = Edits(merges=_merges(table, rows, where, known))
    seen: dict[tuple[str, str], int] = {}
    for sid in known:
        i = rows[sid]
        cells = table.iloc[i - 2]
        if sid in edits.merges:
            edits.changes.append({S.SEGMENT_ID: sid, "field": "merge_into", "old": None, "new": edits.merges[sid]})
            continue
        texts = {key: {lang: " ".join(cells[f"{key}_{lang}"].split()) if key == "name" else cells[f"{key}_{lang}"].strip()
                       for lang in S.LANGUAGES} for key in TEXTS}
        for lang in S.LANGUAGES:
            name = texts["name"][lang]
            if not name:
                raise DataError(f"{where}, row {i}: name_{lang} of segment {sid} is empty")
            other = seen.get((lang, name.casefold()))
            if other is not None:
                raise DataError(f"{where}, row {i}: name_{lang} {name!r} is also the name of segment {other} "
                                f"(row {rows[other]}); names must differ")
            seen[(lang, name.casefold())] = sid
        for key in TEXTS:
            for lang in S.LANGUAGES:
                old = str(current[sid][key].get(lang) or "")
                if texts[key][lang] != old:
                    edits.changes.append({S.SEGMENT_ID: sid, "field": f"{key}_{lang}", "old": old, "new": texts[key][lang]})
        edits.texts[sid] = texts
    return edits
