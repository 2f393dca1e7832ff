"""Inputs for the hardening tests, generated in the test's tmp dir (no big files committed)."""

from __future__ import annotations

import datetime as dtm
import struct
from pathlib import Path

import pandas as pd

HEADER = "cust,inv,qty,price,day"
MAP = ["--customer", "cust", "--order", "inv", "--quantity", "qty", "--price", "price", "--date", "day",
       "--date-format", "%d/%m/%Y"]
N_GOOD = 9


def good_rows(n: int = 90, day: str = "{d:02d}/0{m}/2020") -> list[str]:
    """Nine customers with different spend, one line each iteration: c{i % 9}."""
    return [f"c{i % N_GOOD},i{i},{1 + i % 3},{5 + (i % N_GOOD) ** 2},{day.format(d=1 + i % 28, m=1 + i % 9)}"
            for i in range(n)]


def good_total_sales() -> dict[str, float]:
    """TotalSales per customer of `good_rows()` (hand computed from the generator)."""
    totals: dict[str, float] = {}
    for i in range(90):
        totals[f"c{i % N_GOOD}"] = totals.get(f"c{i % N_GOOD}", 0) + (1 + i % 3) * (5 + (i % N_GOOD) ** 2)
    return totals


def csv_text(rows: list[str], header: str = HEADER, sep: str = ",", newline: str = "\n") -> str:
    return newline.join([header.replace(",", sep), *[r.replace(",", sep) for r in rows]]) + newline


def write(path: Path, content: str | bytes, encoding: str = "utf-8") -> Path:
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def write_xlsx(path: Path, sheets: dict[str, list[list]], date_format: str | None = None) -> Path:
    """A workbook written with xlsxwriter: sheet name -> rows (first row = header); dates stay real dates."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    dates = book.add_format({"num_format": date_format or "dd/mm/yyyy"})
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, dtm.date | dtm.datetime):
                    sheet.write_datetime(r, c, dtm.datetime.combine(value, dtm.time()) if type(value) is dtm.date else value, dates)
                elif value is not None:
                    sheet.write(r, c, value)
    book.close()
    return path


def rows_as_cells(rows: list[str]) -> list[list]:
    """CSV rows of `good_rows` as typed cells (numbers as numbers, text dates as text)."""
    out = []
    for row in rows:
        cust, inv, qty, price, day = row.split(",")
        out.append([cust, inv, float(qty), float(price), day])
    return out


def write_parquet(path: Path, frame: pd.DataFrame) -> Path:
    frame.to_parquet(path, index=False)
    return path


def encrypted_office_file(path: Path) -> Path:
    """A minimal OLE compound file holding EncryptionInfo and EncryptedPackage streams: the container
    Excel writes for a password-protected .xlsx (the content is random, the structure is real)."""
    sector = 512
    end, free, fat_sector = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD
    stream_sectors = 8  # 4096 bytes each: at the mini-stream cutoff, so stored in normal sectors
    fat = [fat_sector, end]  # sector 0: FAT, sector 1: directory
    starts = []
    for _ in range(2):
        first = len(fat)
        starts.append(first)
        fat += [first + i + 1 for i in range(stream_sectors - 1)] + [end]
    fat += [free] * (sector // 4 - len(fat))
    header = bytearray(sector)
    header[0:8] = bytes.fromhex("D0CF11E0A1B11AE1")
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIII", header, 40, 0, 1, 1, 0, 4096, end, 0, end)  # FAT sectors, dir start, ...
    struct.pack_into("<I", header, 72, 0)  # DIFAT count
    struct.pack_into("<I", header, 76, 0)  # first FAT sector
    header[80:sector] = b"\xff" * (sector - 80)

    def entry(name: str, kind: int, start: int, size: int, child: int = free, left: int = free, right: int = free) -> bytes:
        raw = bytearray(128)
        encoded = (name + "\0").encode("utf-16-le")
        raw[0:len(encoded)] = encoded
        struct.pack_into("<HBB", raw, 64, len(encoded), kind, 1)
        struct.pack_into("<III", raw, 68, left, right, child)
        struct.pack_into("<II", raw, 116, start, size)
        return bytes(raw)

    directory = (entry("Root Entry", 5, end, 0, child=1) + entry("EncryptionInfo", 2, starts[0], 4096, right=2)
                 + entry("EncryptedPackage", 2, starts[1], 4096) + b"\0" * 128)
    body = struct.pack(f"<{sector // 4}I", *fat) + directory + bytes(range(256)) * (2 * 4096 // 256)
    return write(path, bytes(header) + body)


# A report grouped by account (Salesforce "Formatted Report"): three accounts, seven lines, three subtotal rows
# (the label in the line column, as Lightning shows it) and a grand total; columns of HEADER
GROUPED_ROWS = ["Acme Corp,L1,2,100,05/01/2020", ",L2,1,50,06/01/2020", ",L3,3,100,07/01/2020", ",Subtotal,6,250,",
                "Beta Ltd,L4,1,400,08/01/2020", ",L5,4,50,09/01/2020", ",Subtotal,5,450,",
                "Gamma SA,L6,1,100,10/01/2020", ",L7,2,400,11/01/2020", ",Subtotal,3,500,",
                "Grand Totals (7 records),,14,1200,"]
# Acme 2 x 100 + 1 x 50 + 3 x 100 = 550; Beta 400 + 4 x 50 = 600; Gamma 100 + 2 x 400 = 900
GROUPED_TOTALS = {"Acme Corp": 550.0, "Beta Ltd": 600.0, "Gamma SA": 900.0}


def classic_report_cells(grand_total: int = 7) -> list[list]:
    """The same report as Classic's printable view in a workbook: two title rows and a blank row above the header
    (row 4), 'Account Name: X (N records)' group headers, the account cell blank on the lines, unlabelled subtotal
    rows, then 'Grand Totals (N records)'."""
    day = lambda d: dtm.date(2020, 1, d)  # noqa: E731
    return [["Opportunities by Account"], ["Filtered By: Close Date in 2020"], [], HEADER.split(","),
            ["Account Name: Acme Corp (3 records)"],
            [None, "L1", 2, 100, day(5)], [None, "L2", 1, 50, day(6)], [None, "L3", 3, 100, day(7)], [None, None, 6, 250],
            ["Account Name: Beta Ltd (2 records)"],
            [None, "L4", 1, 400, day(8)], [None, "L5", 4, 50, day(9)], [None, None, 5, 450],
            ["Account Name: Gamma SA (2 records)"],
            [None, "L6", 1, 100, day(10)], [None, "L7", 2, 400, day(11)], [None, None, 3, 500],
            [f"Grand Totals ({grand_total} records)", None, 14, 1200]]
