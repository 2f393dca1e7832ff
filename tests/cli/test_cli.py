"""The command line, in-process: exit codes and the exact one-line messages."""

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import custseg
from custseg.cli import app

runner = CliRunner()
GOOD = "cust,inv,qty,price\n" + "".join(f"c{i % 9},i{i},{1 + i % 3},{5 + (i % 9) ** 2}\n" for i in range(90))
MAP = ["--customer", "cust", "--order", "inv", "--quantity", "qty", "--price", "price"]


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def test_every_command_has_help():
    for command in app.registered_commands:
        assert command.callback.__doc__, command.name
    assert "Segment the customers" in invoke("run", "--help").output


def test_run_writes_outputs_and_prints_a_summary(tmp_path):
    data = write(tmp_path, "sales.csv", GOOD)
    result = invoke("run", data, *MAP, "--k-range", "2..4", "-o", tmp_path / "out", "--no-report")
    assert result.exit_code == 0, result.output
    assert "90 rows in, 90 kept, 9 customers" in result.output
    assert f"Results in {tmp_path / 'out'}" in result.output.replace("\n", "")
    assert (tmp_path / "out" / "model.json").is_file()
    again = invoke("run", data, *MAP, "-o", tmp_path / "out", "--no-report")
    assert again.exit_code == 2 and "already exists and is not empty (use --overwrite" in again.output


def test_k_rules_on_the_console(tmp_path):
    data = write(tmp_path, "sales.csv", "cust,inv,qty,price\n" + "".join(
        f"c{i:03d},i{i}-{j},{1 + i % 3},{(5, 40, 300)[i % 3] * (1 + i % 7 / 10)}\n" for i in range(120) for j in range(1 + i % 4)))
    voted = invoke("run", data, *MAP, "-o", tmp_path / "vote", "--no-report")
    assert voted.exit_code == 0, voted.output
    assert "has the most votes" in voted.output and "Choice of k" in voted.output and "voted by" in voted.output
    assert "status" in voted.output and "chosen" in voted.output
    profiles = pd.read_csv(tmp_path / "vote" / "profiles.csv")  # each segment's stability, number and word, printed
    assert "stability" in voted.output and all(f"{j:.2f} {w}" in voted.output
                                              for j, w in zip(profiles["stability_jaccard"], profiles["stability_en"]))
    old = invoke("run", data, *MAP, "--k-rule", "silhouette", "--k-range", "2..10", "-o", tmp_path / "old", "--no-report")
    assert old.exit_code == 0, old.output
    assert "has the highest silhouette" in old.output and "Choice of k" not in old.output


def test_business_min_k_is_an_option_of_run_recorded_in_run_json(tmp_path):
    # 120 customers in 6 groups (3 price levels x 2 order counts): with k = 6..8 the vote lands on 6, the bottom
    data = write(tmp_path, "sales.csv", "cust,inv,qty,price\n" + "".join(
        f"c{i:03d},i{i}-{j},{1 + i % 3},{(5, 40, 300)[i % 3] * (1 + i % 7 / 10)}\n" for i in range(120) for j in range(1 + i % 4)))
    default = invoke("run", data, *MAP, "--k-range", "6..8", "-o", tmp_path / "default", "--no-report")
    assert default.exit_code == 0, default.output
    assert "6 segments" in default.output
    assert "try a range that starts lower (e.g. 3..8; 3 is the business minimum of segments)" in " ".join(default.output.split())
    six = invoke("run", data, *MAP, "--k-range", "6..8", "--business-min-k", "6", "-o", tmp_path / "six", "--no-report")
    assert six.exit_code == 0, six.output
    words = " ".join(six.output.split())
    assert "k=6 is the bottom of the range and fewer than 6 segments are not advised for a marketing partition (the " \
           "business minimum, --business-min-k)." in words and "starts lower" not in words
    assert custseg.SegmentationResult.load(tmp_path / "six").run["config"]["business_min_k"] == 6
    assert custseg.SegmentationResult.load(tmp_path / "default").run["config"]["business_min_k"] == 3
    assert "--business-min-k" in " ".join(invoke("run", "--help").output.split())


def test_config_file_maps_columns_and_settings(tmp_path):
    data = write(tmp_path, "sales.csv", GOOD)
    config = write(tmp_path, "custseg.toml",
                   '[columns]\ncustomer = "cust"\norder = "inv"\nquantity = "qty"\nprice = "price"\n\n[run]\nk = 3\nseed = 7\n')
    result = invoke("run", data, "--config", config, "-o", tmp_path / "out", "--no-report")
    assert result.exit_code == 0, result.output
    assert "k=3 was set by the user" in result.output


def test_fill_down_reads_a_grouped_report_and_says_so(tmp_path):
    """Acme's two lines (2 x 100 + 1 x 50) and Beta's (400), the account on each group's first line only."""
    data = write(tmp_path, "report.csv", sales(["Acme,L1,2,100,05/01/2020", ",L2,1,50,06/01/2020", ",Subtotal,3,150,",
                                                "Beta,L3,1,400,07/01/2020", ",Subtotal,1,400,",
                                                "Cyan,L4,1,30,08/01/2020", ",L5,1,30,09/01/2020", ",Subtotal,2,60,",
                                                "Grand Totals (5 records),,6,610,"]))
    result = invoke("run", data, *MAP_DAY, "--fill-down", "--k", "2", "-o", tmp_path / "out", "--no-report")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "9 rows in, 5 kept, 3 customers" in result.output
    assert ("  dropped 4 line(s): a subtotal, total or grand total row of a grouped report (Subtotal, Total, Grand Totals, "
            "Sum, Count; or no line id with numbers)") in lines
    assert ("  customer filled down in 'cust' (--fill-down): 2 blank cell(s) took the customer of the nearest line or "
            "group header above; 0 above the first customer left blank") in lines
    assert "  grand total row: 5 records, as many lines read" in lines
    totals = pd.read_csv(tmp_path / "out" / "assignments.csv").set_index("customer_id")["TotalSales"].to_dict()
    assert totals == {"Acme": 250, "Beta": 400, "Cyan": 60}


def sales(rows: list[str]) -> str:
    return "cust,inv,qty,price,day\n" + "".join(row + "\n" for row in rows)


MAP_DAY = [*MAP, "--date", "day", "--date-format", "%d/%m/%Y"]
BAD_INPUTS = [
    ("missing file", None, [], 1, "Error: {dir}/nope.csv: file not found"),
    ("empty file", ("e.csv", ""), [], 1, "Error: {dir}/e.csv: the file is empty"),
    ("header only", ("h.csv", "cust,inv,qty,price,day\n"), [], 1, "Error: {dir}/h.csv: no data rows (the file has a header only)"),
    ("corrupt xlsx", ("c.xlsx", b"PK\x03\x04 not really a zip"), [], 1, "Error: {dir}/c.xlsx: cannot read as an Excel workbook"),
    ("binary csv", ("b.csv", b"\x00\x01\x02\xff\xfe" * 50), [], 1, "Error: {dir}/b.csv: "),
    ("missing column", ("m.csv", "cust,inv,qty\nc1,1,2\n"), [], 1,
     "Error: {dir}/m.csv: missing column(s) price (price), day (date); the file has: cust, inv, qty"),
    ("non-numeric", ("n.csv", sales(["c1,1,2,5,01/01/2020", "c2,2,N/A,5,01/01/2020"])), [], 1,
     "Error: {dir}/n.csv: column 'qty' (quantity) has 1 non-numeric values, e.g. 'N/A' at data row 2"),
    ("bad dates", ("d.csv", sales(["c1,1,2,5,01/01/2020", "c2,2,1,5,2020.13.01"])), [], 1,
     "Error: {dir}/d.csv: column 'day' (date) has 1 dates that do not parse (expected %d/%m/%Y), e.g. '2020.13.01' at data row 2"),
    ("all filtered", ("f.csv", sales(["c1,1,0,5,01/01/2020", "c2,2,-1,5,01/01/2020"])), [], 1,
     "Error: {dir}/f.csv: all 2 lines were filtered out (quantity <= 0: 2)"),
    ("single customer", ("s.csv", sales(["c1,1,2,5,01/01/2020", "c1,2,1,7,02/01/2020"])), [], 1,
     "Error: n_customers=1 is too few to segment; at least 3 are needed"),
    ("fewer customers than k", ("k.csv", sales([f"c{i},{i},{i + 1},5,01/01/2020" for i in range(4)])), ["--k", "5"], 1,
     "Error: n_customers=4 should be > k=5"),
    ("k range invalid", ("r.csv", sales(["c1,1,2,5,01/01/2020"])), ["--k-range", "6..3"], 2,
     "Error: k range must satisfy 2 <= low <= high; got 6..3"),
    ("unknown preset", ("p.csv", sales(["c1,1,2,5,01/01/2020"])), ["--preset", "sap"], 2,
     "Error: unknown preset 'sap'; presets are online-retail, salesforce-cpq"),
    ("unknown k rule", ("q.csv", sales(["c1,1,2,5,01/01/2020"])), ["--k-rule", "elbow"], 2,
     "Error: k rule must be one of vote, silhouette; got 'elbow'"),
]


@pytest.mark.parametrize(("case", "file", "extra", "code", "message"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_inputs_give_one_line_and_no_output(tmp_path, case, file, extra, code, message):
    path = write(tmp_path, *file) if file else tmp_path / "nope.csv"
    out = tmp_path / "out"
    result = invoke("run", path, *MAP_DAY, *extra, "-o", out, "--no-report")
    assert result.exit_code == code, result.output
    output = result.output.replace("\n", "")
    assert output.startswith(message.format(dir=tmp_path)), output
    assert "Traceback" not in result.output
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]  # no staging left behind


def test_output_that_is_a_file(tmp_path):
    data = write(tmp_path, "sales.csv", GOOD)
    target = write(tmp_path, "out", "I am a file")
    result = invoke("run", data, *MAP, "-o", target, "--no-report")
    assert result.exit_code == 2
    assert result.output.replace("\n", "").startswith(f"Error: output {target} exists and is not a directory")
    assert target.read_text() == "I am a file"


def test_debug_shows_the_traceback(tmp_path):
    result = invoke("run", tmp_path / "nope.csv", *MAP, "--debug")
    assert result.exit_code != 0 and result.exception is not None


def test_customers_mode(tmp_path):
    frame = pd.DataFrame({"id": [f"k{i}" for i in range(30)], "spend": [i % 3 * 100 + i for i in range(30)],
                          "visits": [i % 3 for i in range(30)]})
    data = tmp_path / "customers.csv"
    frame.to_csv(data, index=False, sep=";")
    result = invoke("run", data, "--customers", "--id", "id", "--k", "3", "-o", tmp_path / "out", "--no-report", "--lang", "fr")
    assert result.exit_code == 0, result.output
    assert "k=3 a été imposé par l'utilisateur" in result.output


def test_demo_two_years_runs_the_cycle(tmp_path):
    result = invoke("demo", "-o", tmp_path, "--lines", 6_000, "--accounts", 300, "--years", 2, "--format", "csv")
    assert result.exit_code == 0, result.output
    for name in ("sales_2020.csv", "sales_2021.csv", "run_2020/report.html", "run_2021/model.json",
                 "migration/migration_counts.csv", "migration/migration.html"):
        assert (tmp_path / name).is_file(), name
    assert "Customers: from (rows) -> to (columns)" in result.output
    bad = invoke("demo", "-o", tmp_path / "x", "--format", "ods")
    assert bad.exit_code == 2 and "--format must be xlsx, csv or parquet; got 'ods'" in bad.output
    before = (tmp_path / "sales_2020.csv").read_bytes()
    again = invoke("demo", "-o", tmp_path, "--lines", 3_000, "--accounts", 100, "--years", 2, "--format", "csv")
    assert again.exit_code == 2
    assert again.output.strip() == (f"Error: {tmp_path} already holds sales_2020.csv, sales_2021.csv, run_2020, run_2021, "
                                    "migration from an earlier demo; use --overwrite to replace them, or -o another folder")
    assert (tmp_path / "sales_2020.csv").read_bytes() == before  # the earlier demo's input is left as it was


def test_report_rerenders_a_run_in_french(tmp_path):
    data = write(tmp_path, "sales.csv", GOOD)
    assert invoke("run", data, *MAP, "--k", 3, "-o", tmp_path / "out", "--no-report").exit_code == 0
    result = invoke("report", tmp_path / "out", "--lang", "fr")
    assert result.exit_code == 0, result.output
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert 'lang="fr"' in html
    english = invoke("report", tmp_path / "out", "--lang", "en", "-o", tmp_path / "en.html")
    assert english.exit_code == 0 and 'lang="en"' in (tmp_path / "en.html").read_text(encoding="utf-8")
    assert 'lang="fr"' in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")  # left as it was
    side = invoke("report", tmp_path / "out", "--lang", "en", "-o", tmp_path / "reports" / "en")
    assert side.exit_code == 0 and 'lang="en"' in (tmp_path / "reports" / "en" / "report.html").read_text(encoding="utf-8")
    missing = invoke("report", tmp_path / "nope")
    assert missing.exit_code == 1 and "not a finished custseg run" in missing.output


def test_every_column_role_is_an_option_of_every_command_that_reads_lines(tmp_path):
    """The roles the README lists (product_label, end_date, country too) are options of run, score, refresh, rfm and
    compare-methods alike; the [columns] and [run] of --config's help survive Rich's markup."""
    for command in ("run", "score", "refresh", "rfm", "compare-methods"):
        shown = " ".join(invoke(command, "--help").output.split())
        for option in ("--product-label", "--end-date", "--country", "--sheet", "--header-row", "--date-format"):
            assert option in shown, (command, option)
        assert "custseg.toml with [columns] and [run]" in shown
    data = write(tmp_path, "sales.csv", "cust,inv,qty,price,land,label\n" + "".join(
        f"c{i % 9},i{i},{1 + i % 3},{5 + (i % 9) ** 2},{'FR' if i % 2 else 'DE'},Item {i % 4}\n" for i in range(90)))
    result = invoke("run", data, *MAP, "--country", "land", "--product", "label", "--product-label", "label",
                    "-o", tmp_path / "out", "--no-report")
    assert result.exit_code == 0, result.output
    mapping = pd.read_json(tmp_path / "out" / "run.json", typ="series")["config"]["mapping"]
    assert (mapping["country"], mapping["product_label"]) == ("land", "label")


def test_version_and_new_parent_folders(tmp_path):
    """Issue 22 item 7: `custseg --version`; `-o a/b/c` makes the missing parents (the README's yearly cycle)."""
    shown = invoke("--version")
    assert shown.exit_code == 0 and shown.output.strip() == f"custseg {custseg.__version__}"
    data = write(tmp_path, "sales.csv", GOOD)
    result = invoke("run", data, *MAP, "--k", 3, "-o", tmp_path / "runs" / "2020" / "a", "--no-report")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "runs" / "2020" / "a" / "model.json").is_file()


def test_rates_convert_the_lines_and_say_so_on_the_console_and_in_the_report(tmp_path):
    """Issue 21 item 1: --currency and --rates; c0 buys 16,120 JPY at 161.2 JPY per EUR: 100 EUR."""
    lines = "".join(f"c{i % 9},i{i},1,{10 * (1 + i % 9)},EUR\n" for i in range(18)) + "c0,j1,1,16120,JPY\n"
    data = write(tmp_path, "sales.csv", "cust,inv,qty,price,cur\n" + lines)
    rates = write(tmp_path, "rates.csv", "IsoCode,ConversionRate,IsCorporate\nEUR,1,true\nJPY,161.2,false\n")
    result = invoke("run", data, *MAP, "--currency", "cur", "--rates", rates, "--k", "2", "-o", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert ("currency: money converted to EUR, the corporate currency, with the rates of " in result.output.replace("\n", "")
            and "JPY 1 lines at 161.2 (16,120.00 -> 100.00)" in result.output.replace("\n", ""))
    assignments = pd.read_csv(tmp_path / "out" / "assignments.csv").set_index("customer_id")
    assert assignments.loc["c0", "TotalSales"] == pytest.approx(2 * 10 + 100)  # two EUR lines of 10, and 100 EUR
    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert f"Money amounts are in EUR, the corporate currency: the lines in JPY were converted at the rates of {rates}" in report
    unrated = invoke("score", data, "--model", tmp_path / "out", "-o", tmp_path / "s0")  # a model's rates are not reused
    assert unrated.exit_code == 1 and "holds 2 currencies (EUR 18 lines, JPY 1)" in unrated.output
    scored = invoke("score", data, "--model", tmp_path / "out", "--rates", rates, "-o", tmp_path / "s", "--no-report")
    assert scored.exit_code == 0, scored.output
    assert pd.read_csv(tmp_path / "s" / "assignments.csv").set_index("customer_id").loc["c0", "TotalSales"] == pytest.approx(120)


def test_several_files_and_an_excel_encoding_are_stated(tmp_path):
    header, *rows = GOOD.splitlines(keepends=True)
    write(tmp_path, "2023-1.csv", header + "".join(rows[:45]))
    write(tmp_path, "2023-2.csv", (header + "".join(rows[45:])).replace("c1,", "Caf\u00e9 \u2019,").encode("cp1252"))
    result = invoke("run", tmp_path / "2023-*.csv", *MAP, "--k", "3", "-o", tmp_path / "out", "--no-report")
    assert result.exit_code == 0, result.output
    assert ("read 2 files, stacked by column name: 2023-1.csv: 45 rows; 2023-2.csv: 45 rows, encoding cp1252 (not UTF-8 "
            "(byte 0xE9 on line 3): read as Windows-1252, Excel's encoding for CSV)") in result.output  # c1 is i = 46
    assert "Caf\u00e9 \u2019" in (tmp_path / "out" / "assignments.csv").read_text(encoding="utf-8")
