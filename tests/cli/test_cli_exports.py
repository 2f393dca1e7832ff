"""Issue 12 through the command line: right numbers on real-looking exports, and every decision printed."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from custseg.cli import app

runner = CliRunner()
AMOUNT_MAP = ["--customer", "acct", "--order", "inv", "--amount", "amount", "--date", "day", "--date-format", "%d/%m/%Y"]


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def totals(out: Path) -> dict[str, float]:
    assignments = pd.read_csv(out / "assignments.csv", dtype={"customer_id": str})
    return dict(zip(assignments["customer_id"], assignments.iloc[:, 3]))


def spend(out: Path, column: str = "TotalSales") -> dict[str, float]:
    assignments = pd.read_csv(out / "assignments.csv", dtype={"customer_id": str})
    return dict(zip(assignments["customer_id"], assignments[column]))


def lines_csv(path: Path, rows: list[tuple], sep: str = ",") -> Path:
    path.write_text(sep.join(("acct", "inv", "amount", "day")) + "\n" + "".join(sep.join(r) + "\n" for r in rows))
    return path


def test_item1_thousands_separators_in_a_customer_table(tmp_path):
    data = tmp_path / "accounts.csv"
    data.write_text('Account,AnnualSpend\nA,"12,500"\nB,950\nC,"8,750.50"\nD,640\n')
    result = invoke("run", data, "--customers", "--id", "Account", "--k", "2", "-o", tmp_path / "out", "--no-report")
    assert result.exit_code == 0, result.output
    assert spend(tmp_path / "out", "AnnualSpend") == {"A": 12500.0, "B": 950.0, "C": 8750.5, "D": 640.0}
    assert "numbers in 'AnnualSpend': decimal '.', thousands ',' (detected)" in result.output


def test_item2_ambiguous_dot_in_a_semicolon_file_is_printed_and_recorded(tmp_path):
    rows = [(f"c{i % 9}", f"i{i}", f"{1 + i % 9}.{250 + i:03d}", f"0{1 + i % 9}/01/2023") for i in range(27)]
    result = invoke("run", lines_csv(tmp_path / "eu.csv", rows, ";"), *AMOUNT_MAP, "-o", tmp_path / "out", "--no-report")
    assert result.exit_code == 0, result.output
    assert ("numbers in 'amount': decimal ',', thousands '.' (ambiguous, e.g. '1.250': read as 1250, the European "
            "convention of a semicolon-delimited file)") in result.output.replace("\n", "")
    cleaning = json.loads((tmp_path / "out" / "cleaning.json").read_text())
    assert cleaning["number_formats"]["amount"]["thousands"] == "."
    assert spend(tmp_path / "out")["c0"] == sum(1000 + 250 + i for i in range(0, 27, 9))


def test_item5_salesforce_ids_switch_converts_and_reports(tmp_path):
    rows = [("001Dn00000AbCdE", "i1", "200", "01/01/2023"), ("001Dn00000AbCdE", "i2", "250", "02/01/2023"),
            ("001Dn00000AbCdEIAV", "i3", "300", "03/01/2023"), ("001Dn00000AbCdEIAV", "i4", "400", "04/01/2023")]
    rows += [(f"001Dn00000Xy{i:03d}", f"j{i}", str(50 * (i + 1)), "05/01/2023") for i in range(8)]
    result = invoke("run", lines_csv(tmp_path / "sf.csv", rows), *AMOUNT_MAP, "--salesforce-ids", "-o", tmp_path / "out",
                    "--no-report")
    assert result.exit_code == 0, result.output
    assert spend(tmp_path / "out")["001Dn00000AbCdEIAV"] == 1150.0
    assert "001Dn00000AbCdE" not in spend(tmp_path / "out")
    assert "Salesforce ids in 'acct': 10 converted from 15 to 18 characters, 2 already 18" in result.output


def test_item6_ids_that_change_form_between_years_and_the_overlap_warning(tmp_path):
    import xlsxwriter

    book = xlsxwriter.Workbook(str(tmp_path / "2022.xlsx"))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["acct", "inv", "amount", "day"])
    for i in range(40):
        sheet.write_row(i + 1, 0, [10001 + i % 20, f"a{i}", 100.0 * (1 + i % 20) ** 2, f"0{1 + i % 9}/01/2022"])
    book.close()
    rows = [(f"{10001 + i % 20}.0", f"b{i}", str(120.0 * (1 + i % 20) ** 2), f"0{1 + i % 9}/01/2023") for i in range(40)]
    lines_csv(tmp_path / "2023.csv", rows)
    first = invoke("run", tmp_path / "2022.xlsx", *AMOUNT_MAP, "-o", tmp_path / "r22", "--no-report")
    assert first.exit_code == 0, first.output
    later = invoke("refresh", tmp_path / "2023.csv", "--previous", tmp_path / "r22", "-o", tmp_path / "r23", "--no-report")
    assert later.exit_code == 0, later.output
    assert "appear in both periods" not in later.output  # no overlap warning (the k-choice warnings may appear)
    compared = invoke("compare", tmp_path / "r22", tmp_path / "r23")
    assert compared.exit_code == 0, compared.output
    summary = json.loads((tmp_path / "r23" / "migration" / "migration.json").read_text())
    assert (summary["new_customers"], summary["lost_customers"]) == (0, 0)
    assert summary["stayed_in_segment"] + summary["changed_segment"] == 20
    other = [(f"x{i % 20}", f"b{i}", str(120.0 * (1 + i % 20) ** 2), f"0{1 + i % 9}/01/2023") for i in range(40)]
    elsewhere = invoke("run", lines_csv(tmp_path / "other.csv", other), *AMOUNT_MAP, "-o", tmp_path / "rx", "--no-report")
    assert elsewhere.exit_code == 0, elsewhere.output
    warned = invoke("compare", tmp_path / "r22", tmp_path / "rx")
    assert ("Warning: only 0 of 20 customers (0%) appear in both periods; are the customer ids written the same way in "
            "both files (e.g. 10001 and 10001.0, or 15- and 18-character Salesforce ids)?") in warned.output.replace("\n", "")


def test_item7_and_11_run_prints_netting_and_zero_price_lines(tmp_path):
    rows = [(f"c{i % 9}", f"i{i}", str(10 * (1 + i % 9) ** 2), f"0{1 + i % 9}/01/2023") for i in range(27)]
    rows += [("c1", "R1", "-40", "28/01/2023"), ("c2", "F1", "0", "28/01/2023"), ("c9", "R2", "-5", "28/01/2023")]  # c9 bought nothing
    result = invoke("run", lines_csv(tmp_path / "refunds.csv", rows), *AMOUNT_MAP, "-o", tmp_path / "out", "--no-report")
    assert result.exit_code == 0, result.output
    out = result.output.replace("\n", "")
    assert ("cancellations netted: 1 matched to an earlier purchase (revenue -40.00), 1 unmatched (dropped); "
            "revenue beyond the purchases, not netted: -5.00") in out
    assert "1 zero-price line(s) kept as orders (free items; --drop-zero-price drops them)" in out
    assert spend(tmp_path / "out")["c1"] == 3 * 40 - 40
    cleaning = json.loads((tmp_path / "out" / "cleaning.json").read_text())
    assert cleaning["dropped"]["unmatched_refund"] == 1
    dropped = invoke("run", lines_csv(tmp_path / "refunds.csv", rows), *AMOUNT_MAP, "--drop-zero-price", "-o",
                     tmp_path / "out2", "--no-report")
    assert dropped.exit_code == 0 and "dropped 1 line(s): zero price (free item)" in dropped.output
