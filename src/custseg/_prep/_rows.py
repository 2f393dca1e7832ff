"""Data rows as messages name them: a row's number in its file, kept when rows were removed or files stacked.

>>> data_row(17), data_row(17, lambda row: f"b.csv data row {row - 45}")
('data row 17', 'b.csv data row 17')
"""

from __future__ import annotations

from collections.abc import Callable

import ibis

DATA_ROW = "_data_row"  # a row's number in the input as read (1 below the header), kept when rows were removed (`_grouped`)
RowName = Callable[[int], str]  # data row number -> its name in a message ('b.csv data row 17'), `Source.row_name`


def data_row(row: int, row_name: RowName | None = None) -> str:
    """'data row 17', or what `row_name` (the input's) calls it."""
    return row_name(row) if row_name else f"data row {row}"


def data_rows(table: ibis.Table) -> ibis.Value:
    """Each row's data row: `DATA_ROW` when the table has it, else its position (the order the engine reads it in)."""
    return table[DATA_ROW] if DATA_ROW in table.columns else ibis.row_number() + 1
