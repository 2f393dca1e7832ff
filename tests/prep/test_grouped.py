"""Issue 21 item 7: reports grouped by customer (Salesforce "Formatted Report"), read right or refused in one line."""

from __future__ import annotations

import sys
from pathlib import Path

import ibis
import pandas as pd
import pytest

from custseg import ColumnMapping, DataError
from custseg._config import ReadOptions, RunConfig
from custseg._config._columns import mapping_from_config
from custseg._prep._grouped import LABEL, grouped_lines
from custseg._prep._parse import DATA_ROW
from custseg._prep._prepare import prepare

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hardening"))
from hardening_data import GROUPED_ROWS, GROUPED_TOTALS, HEADER, classic_report_cells, write_xlsx  # noqa: E402

LINES = ColumnMapping(customer="cust", order="inv", quantity="qty", price="price", date="day", date_format="%d/%m/%Y")
NO_DATE = ColumnMapping(customer="cust", order="inv", quantity="qty", price="price")
GROUPED = "".join(row + "\n" for row in GROUPED_ROWS)


def write_csv(tmp_path: Path, body: str, name: str = "report.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "\n" + body)
    return path


def classic_xlsx(tmp_path: Path, grand_total: int = 7) -> Path:
    return write_xlsx(tmp_path / "report.xlsx", {"Report": classic_report_cells(grand_total)})


def prepared(path: Path, mapping: ColumnMapping, **read):
    return prepare(path, RunConfig(mapping=mapping, read=ReadOptions(**read)))


def sales(result) -> dict[str, float]:
    return dict(zip(result.customers["customer"], result.customers["TotalSales"]))


def test_grouped_csv_without_fill_down_stops_in_one_line(tmp_path):
    path = write_csv(tmp_path, GROUPED)
    with pytest.raises(DataError) as err:
        prepared(path, LINES)
    assert str(err.value) == (
        f"{path}: column 'cust' (customer) is blank on 4 of 7 lines (first at data row 2) in what looks like a "
        "report grouped by customer (4 subtotal or total row(s)); use --fill-down to give each blank cell the customer "
        "above it, or export the report again as \"Details Only\"")


@pytest.mark.parametrize("mapping", [LINES, NO_DATE], ids=["dated", "no-date"])
def test_grouped_csv_filled_down_sums_each_account_without_its_subtotals(tmp_path, mapping):
    """Without a date a subtotal row has a line id ('Subtotal') and numbers: summed, Acme would be 550 + 6 x 250."""
    result = prepared(write_csv(tmp_path, GROUPED), mapping.with_overrides(fill_down=True))
    assert sales(result) == GROUPED_TOTALS
    cleaning = result.cleaning
    assert cleaning["rows_in"] == 11 and cleaning["rows_out"] == 7
    assert cleaning["dropped"]["subtotal_row"] == 4 and cleaning["dropped"]["group_header"] == 0
    assert list(cleaning["dropped"])[:2] == ["subtotal_row", "group_header"]  # counted first: removed before typing
    assert cleaning["grouped_report"] == {"column": "cust", "fill_down": True, "customer_filled_down": 4,
                                          "left_blank_at_top": 0, "grand_total_records": 7}


def test_account_on_every_line_needs_no_fill_down(tmp_path):
    """The grouping value repeated on each line: only the total rows are dropped, without --fill-down."""
    rows, account = [], None
    for row in GROUPED_ROWS:
        account = row.split(",", 1)[0] if row[0] != "," and "records" not in row else account
        rows.append(account + row if row.startswith(",L") else row)
    result = prepared(write_csv(tmp_path, "".join(row + "\n" for row in rows)), LINES)
    assert sales(result) == GROUPED_TOTALS
    assert result.cleaning["dropped"]["subtotal_row"] == 4
    assert result.cleaning["grouped_report"]["grand_total_records"] == 7


def test_subtotal_rows_that_repeat_the_account_are_not_lines(tmp_path):
    """'Acme Corp,Subtotal,6,250,': a line id that reads 'Subtotal' is a total row even beside an account."""
    body = GROUPED.replace(",Subtotal,6,", "Acme Corp,Subtotal,6,").replace(",Subtotal,5,", "Beta Ltd,Subtotal,5,")
    result = prepared(write_csv(tmp_path, body), NO_DATE.with_overrides(fill_down=True))
    assert sales(result) == GROUPED_TOTALS
    assert result.cleaning["dropped"]["subtotal_row"] == 4


def test_classic_xlsx_group_headers_give_the_account(tmp_path):
    path = classic_xlsx(tmp_path)
    with pytest.raises(DataError, match=r"is blank on 7 of 7 lines \(first at data row 2\) in what looks like a report "
                                        r"grouped by customer \(1 subtotal or total row\(s\) and 3 '\(N records\)' "):
        prepared(path, LINES, header_row=4)
    result = prepared(path, LINES.with_overrides(fill_down=True), header_row=4)
    assert sales(result) == GROUPED_TOTALS
    assert result.cleaning["dropped"]["subtotal_row"] == 4  # three unlabelled subtotal rows and the grand total
    assert result.cleaning["dropped"]["group_header"] == 3
    assert result.cleaning["grouped_report"]["customer_filled_down"] == 7


def test_grand_total_that_counts_other_records_stops(tmp_path):
    path = classic_xlsx(tmp_path, grand_total=8)
    with pytest.raises(DataError) as err:
        prepared(path, LINES.with_overrides(fill_down=True), header_row=4)
    assert str(err.value) == (f"{path}: the grand total row at data row 14 ('Grand Totals (8 records)') counts 8 records, "
                              "but 7 lines were read; was the report cut short or were rows removed? Export the report again")


def test_a_later_error_names_the_row_of_the_file(tmp_path):
    """Rows removed before typing: a bad value below them is still named by its row in the file."""
    body = GROUPED.replace(",L7,2,", ",L7,N/A,")
    with pytest.raises(DataError, match=r"'N/A' at data row 9$"):
        prepared(write_csv(tmp_path, body), LINES.with_overrides(fill_down=True))


def test_blank_customer_above_the_first_account_stays_blank(tmp_path):
    """No row above gives it a customer: dropped under missing_customer, counted apart."""
    result = prepared(write_csv(tmp_path, ",L0,1,999,04/01/2020\n" + GROUPED.replace("7 records", "8 records")),
                      LINES.with_overrides(fill_down=True))
    assert sales(result) == GROUPED_TOTALS
    assert result.cleaning["dropped"]["missing_customer"] == 1
    assert result.cleaning["grouped_report"]["left_blank_at_top"] == 1


PLAIN = "".join(f"c{i % 4},i{i},1,{10 * (1 + i % 4)},0{1 + i % 9}/02/2020\n" for i in range(12))
# c0: 3 lines x 10, c1: 3 x 20, c2: 3 x 30, c3: 3 x 40


@pytest.mark.parametrize("blanks", [[5], [2, 5, 9]], ids=["one", "three"])
def test_blank_customers_of_a_plain_export_are_missing_customers(tmp_path, blanks):
    """Customers repeat on their lines and there is no subtotal row: not a grouped report; nothing filled."""
    rows = PLAIN.splitlines()
    for i in blanks:
        rows[i] = "," + rows[i].split(",", 1)[1]
    result = prepared(write_csv(tmp_path, "\n".join(rows) + "\n"), LINES)
    assert result.cleaning["dropped"]["missing_customer"] == len(blanks)
    assert "grouped_report" not in result.cleaning
    expected = {f"c{k}": 30.0 * (k + 1) - sum(10 * (k + 1) for i in blanks if i % 4 == k) for k in range(4)}
    assert sales(result) == expected


def test_each_account_named_once_without_subtotals_is_a_grouped_report(tmp_path):
    """Subtotals hidden: the layout shows in the account column itself, each account on one row only."""
    body = "".join(line + "\n" for line in GROUPED.splitlines() if "Subtotal" not in line and "Grand" not in line)
    path = write_csv(tmp_path, body)
    with pytest.raises(DataError, match=r"is blank on 4 of 7 lines \(first at data row 2\) in what looks like a report "
                                        r"grouped by customer \(each customer named on one row only\); use --fill-down"):
        prepared(path, LINES)
    assert sales(prepared(path, LINES.with_overrides(fill_down=True))) == GROUPED_TOTALS


@pytest.mark.parametrize(("text", "label"), [
    ("Subtotal", True), ("Sub-total", True), ("Total", True), ("TOTAL: 1,200", True), ("Grand Totals (7 records)", True),
    ("Sous-total", True), ("Total général", True), ("Sum", True), ("Count 3", True), ("Total (3)", True),
    ("Total Energies", False), ("TotalEnergies SE", False), ("Summit Ltd", False), ("Counter Culture", False),
])
def test_total_labels(text, label):
    con = ibis.duckdb.connect()
    found = con.create_table("t", pd.DataFrame({"t": [text]})).t.re_search(LABEL).execute()
    assert bool(found.iloc[0]) is label


def test_fill_down_follows_the_file_order_of_a_large_csv(tmp_path):
    """DuckDB reads a CSV in parallel; the data rows still number the file's rows, so each line gets its own group."""
    groups, size = 40_000, 5
    body = "".join(f"{'A' + str(g) if j == 0 else ''},L{g}-{j},1,{g},01/01/2020\n" for g in range(groups) for j in range(size))
    path = write_csv(tmp_path, body)
    con = ibis.duckdb.connect(threads=4)
    table = con.read_csv(path, all_varchar=True)
    kept, dropped, notes = grouped_lines(table, LINES.with_overrides(fill_down=True), str(path))
    frame = kept.to_pandas()
    assert notes["grouped_report"]["customer_filled_down"] == groups * (size - 1)
    assert (frame["cust"] == "A" + frame["inv"].str.extract(r"^L([0-9]+)-", expand=False)).all()
    assert (frame[DATA_ROW] == frame["inv"].str.extract(r"^L([0-9]+)-([0-9])$").astype(int)
            .pipe(lambda p: p[0] * size + p[1] + 1)).all()


def test_fill_down_in_the_config_file():
    mapping = mapping_from_config({"columns": {"customer": "Account Name", "fill_down": True}})
    assert mapping.fill_down and ColumnMapping.from_dict(mapping.to_dict()).fill_down
