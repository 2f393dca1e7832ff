"""The catalogue of bad inputs: each case builds its input in a folder, runs one command, and
expects an exit code and the exact one-line message (or, for inputs that are not errors,
exit 0 and the right numbers). docs/errors.md is rendered from this table (`render_table`)."""

from __future__ import annotations

import datetime as dtm
import functools
import json
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from hardening_data import (GROUPED_ROWS, GROUPED_TOTALS, HEADER, MAP, classic_report_cells, csv_text,
                            encrypted_office_file, good_rows, good_total_sales, rows_as_cells, write, write_parquet,
                            write_xlsx)

G = good_rows()
CPQ_HEADER = HEADER.split(",")


@dataclass(frozen=True)
class Case:
    id: str
    what: str
    make: Callable[[Path], Path]
    args: tuple[str, ...] = tuple(MAP)
    code: int = 1
    message: str = ""  # exact output line, "{dir}" stands for the input's folder
    command: str = "run"
    check: Callable[[Path], None] | None = field(default=None, compare=False)  # exit-0 cases: checks the run directory


def csv_case(name: str, rows: list[str], header: str = HEADER, sep: str = ",", **kw) -> Callable[[Path], Path]:
    return lambda d: write(d / name, csv_text(rows, header, sep, **kw))


def semicolon_case(name: str, rows: list[str]) -> Callable[[Path], Path]:
    """Rows already joined with ';' (their commas are decimal commas)."""
    return lambda d: write(d / name, HEADER.replace(",", ";") + "\n" + "\n".join(rows) + "\n")


def raw_case(name: str, content: str | bytes, encoding: str = "utf-8") -> Callable[[Path], Path]:
    return lambda d: write(d / name, content, encoding)


def xlsx_case(name: str, sheets: dict[str, list[list]]) -> Callable[[Path], Path]:
    return lambda d: write_xlsx(d / name, sheets)


def with_day(rows: list[str], days: list[str]) -> list[str]:
    return [row.rsplit(",", 1)[0] + "," + day for row, day in zip(rows, days)]


def good_xlsx(d: Path) -> Path:
    return write_xlsx(d / "good.xlsx", {"Sales": [CPQ_HEADER] + rows_as_cells(G)})


def truncated_xlsx(d: Path) -> Path:
    data = good_xlsx(d).read_bytes()
    return write(d / "cut.xlsx", data[: len(data) // 2])


def big_mixed_encoding(d: Path) -> Path:
    """Two MB of UTF-8, then one latin-1 line: beyond the encoding sniffer's first MiB."""
    body = csv_text(ACCENTED * 600).encode()
    return write(d / "mixed_late.csv", body + "c\xe9,iY,1,5,01/01/2020\n".encode("latin-1"))


def late_windows_1252(d: Path) -> Path:
    """Two MB of ASCII lines (other customers), then the Windows-1252 rows: beyond the first MiB."""
    ascii_rows = [f"x{i},ix{i},1,5,01/01/2020" for i in range(60_000)]
    return write(d / "late.csv", csv_text(ascii_rows + WINDOWS_1252), "cp1252")


@functools.cache
def trained_model() -> str:
    from custseg import segment
    from custseg._config._columns import ColumnMapping
    from custseg._outputs import dump_json

    mapping = ColumnMapping(customer="cust", order="inv", quantity="qty", price="price", date="day", date_format="%d/%m/%Y")
    frame = pd.read_csv(pd.io.common.StringIO(csv_text(G)), dtype=str)
    return dump_json(segment(frame, mapping=mapping, k=3).model)


def model_case(name: str, edit: Callable[[dict], object] | None = None, raw: bytes | None = None) -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        model = json.loads(trained_model())
        content = raw if raw is not None else json.dumps(edit(model) if edit else model).encode()
        write(d / name, content)
        return write(d / "new.csv", csv_text(G))
    return make


def edited(**changes) -> Callable[[dict], dict]:
    def apply(model: dict) -> dict:
        for key, value in changes.items():
            if value is None:
                model.pop(key, None)
            else:
                model[key] = value
        return model
    return apply


def deep_edit(path: str, value) -> Callable[[dict], dict]:
    def apply(model: dict) -> dict:
        *parents, last = path.split(".")
        node = model
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[int(last) if last.isdigit() else last] = value
        return model
    return apply


@functools.cache
def reviewed_run() -> Path:
    """A run of the nine good customers in three segments, made once (each review case edits a copy)."""
    import tempfile

    from custseg import segment, write_run
    from custseg._config._columns import ColumnMapping

    mapping = ColumnMapping(customer="cust", order="inv", quantity="qty", price="price", date="day", date_format="%d/%m/%Y")
    frame = pd.read_csv(pd.io.common.StringIO(csv_text(G)), dtype=str)
    return write_run(segment(frame, mapping=mapping, k=3), Path(tempfile.mkdtemp(prefix="custseg-review-")) / "run", report=False)


def review_case(edit: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable[[Path], Path]:
    """A copy of `reviewed_run()` in the case's folder and its review table, edited, as segments.csv beside it."""
    def make(d: Path) -> Path:
        import shutil

        from custseg import review
        from custseg._review import read_review_table

        run = Path(shutil.copytree(reviewed_run(), d / "run"))
        review(run, export=d / "segments.csv")
        edit(read_review_table(d / "segments.csv")).to_csv(d / "segments.csv", index=False)
        return run
    return make


def cell(segment: int, column: str, value: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def apply(table: pd.DataFrame) -> pd.DataFrame:
        table.loc[table["segment_id"] == str(segment), column] = value
        return table
    return apply


def first_name(segment: int) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """Segment `segment` takes segment 1's English name."""
    def apply(table: pd.DataFrame) -> pd.DataFrame:
        table.loc[table["segment_id"] == str(segment), "name_en"] = table["name_en"].iloc[0]
        return table
    return apply


REVIEW_ARGS = ("--apply", "{dir}/segments.csv", "--by", "A. Name")


def flagged_run(d: Path) -> Path:
    """A run whose segment 3 a refresh flagged as new (run.json `to_review`)."""
    run = review_case(lambda t: t)(d)
    record = json.loads((run / "run.json").read_text(encoding="utf-8"))
    record["to_review"] = [{"segment_id": 3, "reason": "new", "en": "is new this period: its name comes from the naming "
                            "rules, nobody reviewed it", "fr": "est nouveau"}]
    (run / "run.json").write_text(json.dumps(record), encoding="utf-8")
    return run


def without_product_revenue(d: Path) -> Path:
    """A run with top products written before product_revenue.parquet existed, and a table merging segment 3 into 2."""
    run = review_case(cell(3, "merge_into", "2"))(d)
    (run / "product_revenue.parquet").unlink()
    (run / "top_products.csv").write_text("segment_id,rank,product,label,revenue,share,lift\n1,1,P1,,10.0,1.0,1.0\n",
                                          encoding="utf-8")
    return run


def score_args(model: str) -> tuple[str, ...]:
    return ("--model", "{dir}/" + model)


# --- checks of exit-0 cases -------------------------------------------------------------------

def read_run(out: Path) -> tuple[pd.DataFrame, dict]:
    assignments = pd.read_csv(out / "assignments.csv", dtype={"customer_id": str})
    return assignments, json.loads((out / "cleaning.json").read_text())


def totals_are(expected: dict[str, float], **cleaning) -> Callable[[Path], None]:
    def check(out: Path) -> None:
        assignments, summary = read_run(out)
        got = dict(zip(assignments["customer_id"], assignments["TotalSales"]))
        assert got.keys() == expected.keys(), (sorted(got), sorted(expected))
        for customer, total in expected.items():
            assert abs(got[customer] - total) < 1e-6 * max(1, abs(total)), (customer, got[customer], total)
        for key, value in cleaning.items():
            actual = summary["dropped"].get(key[len("dropped_"):], 0) if key.startswith("dropped_") else summary[key]
            assert actual == value, (key, actual, value)
    return check


GOOD_TOTALS = good_total_sales()
DECIMAL_ROWS = [f"c{i % 9},i{i},{1 + i % 3},{5 + (i % 9) ** 2},5,01/01/2020" for i in range(90)]


def decimal_comma_rows() -> list[str]:
    return [f"c{i % 9};i{i};{1 + i % 3};{5 + (i % 9) ** 2},25;0{1 + i % 9}/01/2020" for i in range(90)]


def decimal_comma_totals() -> dict[str, float]:
    totals: dict[str, float] = {}
    for i in range(90):
        totals[f"c{i % 9}"] = totals.get(f"c{i % 9}", 0) + (1 + i % 3) * (5.25 + (i % 9) ** 2)
    return totals


def thousands_rows(style: str) -> list[str]:
    rows = []
    for i in range(90):
        price = 1000 + (i % 9) ** 3 + 0.5
        text = f"{price:,.2f}" if style == "en" else f"{price:,.2f}".replace(",", " ").replace(".", ",")
        sep = "," if style == "en" else ";"
        cell = f'"{text}"' if style == "en" else text
        rows.append(sep.join([f"c{i % 9}", f"i{i}", str(1 + i % 3), cell, "01/01/2020"]))
    return rows


def thousands_totals() -> dict[str, float]:
    totals: dict[str, float] = {}
    for i in range(90):
        totals[f"c{i % 9}"] = totals.get(f"c{i % 9}", 0) + (1 + i % 3) * (1000 + (i % 9) ** 3 + 0.5)
    return totals


AMBIGUOUS_ROWS = [f"c{i % 9},i{i},1,{1 + i % 9}.{250 + i:03d},0{1 + i % 9}/01/2020" for i in range(90)]
PLACEHOLDERS = {"dir": "DIR", "next_year": "NEXT_YEAR"}  # how render_table shows a message's variable parts


def expected_message(case: "Case", folder: Path) -> str:
    """The exact line a case expects, for inputs in `folder`."""
    return case.message.format(dir=folder, next_year=dtm.date.today().year + 1)


def ambiguous_totals() -> dict[str, float]:
    totals: dict[str, float] = {}
    for i in range(90):
        totals[f"c{i % 9}"] = totals.get(f"c{i % 9}", 0) + (1 + i % 9) * 1000 + 250 + i
    return totals


def dates_are(date_min: str, date_max: str) -> Callable[[Path], None]:
    def check(out: Path) -> None:
        _, summary = read_run(out)
        assert (summary["date_min"], summary["date_max"]) == (date_min, date_max), summary
        assert summary["rows_out"] == 90
    return check


THREE_FORMATS = [("05/01/2020", "2020-01-05", "2020-01-05 10:30:00")[i % 3] if i != 89 else "2020-03-31T23:59:59"
                 for i in range(90)]
SERIALS = [str(43831 + i % 60) for i in range(90)]  # 2020-01-01 .. 2020-02-29
XLSX_DATES = [dtm.date(2020, 1, 1) + dtm.timedelta(days=i % 60) for i in range(90)]


def xlsx_with_days(days: list) -> list[list]:
    return [CPQ_HEADER] + [cells[:4] + [day] for cells, day in zip(rows_as_cells(G), days)]


def names_kept(*names: str) -> Callable[[Path], None]:
    def check(out: Path) -> None:
        assignments, _ = read_run(out)
        assert set(names) <= set(assignments["customer_id"]), sorted(assignments["customer_id"])
    return check


def halves(first: str, second: str, second_header: str = HEADER, second_rows: list[str] | None = None) -> Callable[[Path], Path]:
    """The good rows split over two CSV files (45 each); returns the first."""
    def make(d: Path) -> Path:
        write(d / second, csv_text(G[45:] if second_rows is None else second_rows, second_header))
        return write(d / first, csv_text(G[:45]))
    return make


def parquet_parts(d: Path) -> Path:
    frame = pd.read_csv(pd.io.common.StringIO(csv_text(G)), dtype=str)
    (d / "parts").mkdir()
    write_parquet(d / "parts" / "part-0.parquet", frame.iloc[:45])
    write_parquet(d / "parts" / "part-1.parquet", frame.iloc[45:])
    write(d / "parts" / "_SUCCESS", "")
    return d / "parts"


def stacked_files(*expected: tuple[str, int]) -> Callable[[Path], None]:
    """Totals of the good rows, and the files read, with their rows, in run.json and cleaning.json."""
    def check(out: Path) -> None:
        totals_are(GOOD_TOTALS)(out)
        _, summary = read_run(out)
        run = json.loads((out / "run.json").read_text())
        for files in (summary["files"], run["input"]["files"]):
            assert [(Path(f["path"]).name, f["rows"]) for f in files] == list(expected), files
            assert all(len(f["sha256"]) == 64 for f in files)
    return check


SPLIT_BOOK = {"Q1": [CPQ_HEADER] + rows_as_cells(G[:45]), "Q2": [CPQ_HEADER] + rows_as_cells(G[45:]),
              "Notes": [["made by"], ["sales ops"]]}
ACCENTED = [f"Soci\u00e9t\u00e9 {i % 9}," + row.split(",", 1)[1] for i, row in enumerate(G)]
ACCENTED_NAMES = [f"Soci\u00e9t\u00e9 {i}" for i in range(9)]
WINDOWS_1252_NAMES = [f"Caf\u00e9 \u2019{i}\u2019 \u2013 \u20ac{i}" for i in range(9)]  # Café ’0’ – €0
WINDOWS_1252 = [WINDOWS_1252_NAMES[i % 9] + "," + row.split(",", 1)[1] for i, row in enumerate(G)]
QUOTED = [f'"c{i % 9}, SA","line\n{i}",{1 + i % 3},{5 + (i % 9) ** 2},01/01/2020' for i in range(90)]

CURRENCY_TYPE = "IsoCode,ConversionRate,IsCorporate\nEUR,1,true\nJPY,161.2,false\nUSD,1.25,false\n"
CURRENCY_ARGS = (*MAP, "--currency", "cur", "--rates", "{dir}/rates.csv")


def currency_case(name: str, currencies: list[str], rates: str | None = CURRENCY_TYPE,
                  rows: list[str] = G) -> Callable[[Path], Path]:
    """`rows` with a currency column (`currencies` repeated), and rates.csv beside them."""
    def make(d: Path) -> Path:
        if rates is not None:
            write(d / "rates.csv", rates)
        return write(d / name, csv_text([f"{row},{currencies[i % len(currencies)]}" for i, row in enumerate(rows)],
                                        HEADER + ",cur"))
    return make


def converted_totals() -> dict[str, float]:
    """GOOD_TOTALS with every third line in JPY (161.2 per EUR) and every fifth of the others in USD (1.25)."""
    totals: dict[str, float] = {}
    for i in range(90):
        rate = 161.2 if i % 3 == 0 else 1.25 if i % 5 == 0 else 1.0
        totals[f"c{i % 9}"] = totals.get(f"c{i % 9}", 0) + (1 + i % 3) * (5 + (i % 9) ** 2) / rate
    return totals


CURRENCIES = ["JPY" if i % 3 == 0 else "USD" if i % 5 == 0 else "EUR" for i in range(90)]


def numbered_ids(long_id: float) -> list[list]:
    """`rows_as_cells(G)` with number ids (1000 + customer), the fourth one `long_id`."""
    cells = [[1000.0 + int(c[0][1:])] + c[1:] for c in rows_as_cells(G)]
    cells[3][0] = long_id
    return cells


def numbered_frame(long_id: float) -> pd.DataFrame:
    return pd.DataFrame(numbered_ids(long_id), columns=CPQ_HEADER)


def with_price(rows: list[str], price: Callable[[str], str]) -> list[str]:
    """Rows whose price (the fourth field) is written by `price`."""
    return [",".join([*fields[:3], price(fields[3]), fields[4]]) for fields in (row.split(",") for row in rows)]


DOLLARS = with_price(G, lambda price: f'"${float(price):,.2f}"')
UNTIDY_HEADER = "\ufeffcust\u00a0,inv\u200b,qty,\u3000price,day "


CASES: list[Case] = [
    # files that cannot be read
    Case("missing-file", "input file does not exist", lambda d: d / "nope.csv",
         message="Error: {dir}/nope.csv: file not found"),
    Case("url-on-duckdb", "a cluster URL given to the default (duckdb) engine", lambda d: "hdfs:///sales/2021", code=2,
         message="Error: hdfs:///sales/2021: a cluster URL is read by the Spark engine (--engine spark); the duckdb "
                 "engine reads local files"),
    Case("spark-missing-file", "with --engine spark, a local input that does not exist (checked before Spark starts)",
         lambda d: d / "nope.parquet", args=(*MAP, "--engine", "spark"),
         message="Error: {dir}/nope.parquet: file not found"),
    Case("input-format-on-duckdb", "--input-format (a cluster input's parts) with the duckdb engine",
         csv_case("good.csv", G), args=(*MAP, "--input-format", "csv"), code=2,
         message="Error: --input-format names the format of a cluster input's parts (--engine spark); the duckdb engine "
                 "reads the format from the file names"),
    Case("directory", "input is a folder with no data file", lambda d: (d / "folder.csv").mkdir() or d / "folder.csv",
         message="Error: {dir}/folder.csv: no .csv, .xlsx or .parquet file in the folder"),
    Case("unknown-type", "unsupported extension (.json)", raw_case("sales.json", "{}"), code=2,
         message="Error: {dir}/sales.json: unknown file type '.json'; use .csv, .xlsx or .parquet"),
    Case("empty-file", "empty file (0 bytes)", raw_case("empty.csv", ""),
         message="Error: {dir}/empty.csv: the file is empty"),
    Case("header-only", "CSV with the header only", raw_case("header.csv", HEADER + "\n"),
         message="Error: {dir}/header.csv: no data rows (the file has a header only)"),
    Case("header-only-xlsx", "workbook with the header row only", xlsx_case("header.xlsx", {"Sales": [CPQ_HEADER]}),
         message="Error: {dir}/header.xlsx: no data rows (the file has a header only)"),
    Case("binary-csv", "binary garbage named .csv", raw_case("garbage.csv", bytes(range(256)) * 40),
         message="Error: {dir}/garbage.csv: not a text file (binary content); export the data as CSV, "
                 "or use .xlsx/.parquet for those formats"),
    Case("binary-xlsx", "binary garbage named .xlsx", raw_case("garbage.xlsx", bytes(range(256)) * 40),
         message="Error: {dir}/garbage.xlsx: cannot read as an Excel workbook (calamine error: Xlsx error: "
                 "Zip error: invalid Zip archive: Could not find EOCD)"),
    Case("binary-parquet", "binary garbage named .parquet", raw_case("garbage.parquet", bytes(range(256)) * 40),
         message="Error: {dir}/garbage.parquet: cannot read as parquet (Invalid Input Error: No magic bytes found "
                 "at end of file '{dir}/garbage.parquet')"),
    Case("zip-not-xlsx", "a file that starts like a zip but is not a workbook",
         raw_case("fake.xlsx", b"PK\x03\x04 not really a zip"),
         message="Error: {dir}/fake.xlsx: cannot read as an Excel workbook (calamine error: Xlsx error: "
                 "Zip error: invalid Zip archive: Could not find EOCD)"),
    Case("truncated-xlsx", "a real workbook cut in half (interrupted download)", truncated_xlsx,
         message="Error: {dir}/cut.xlsx: cannot read as an Excel workbook (calamine error: Xlsx error: "
                 "Zip error: invalid Zip archive: Could not find EOCD)"),
    Case("password-xlsx", "password-protected workbook (OLE container with EncryptedPackage)",
         lambda d: encrypted_office_file(d / "locked.xlsx"),
         message="Error: {dir}/locked.xlsx: cannot read as an Excel workbook (calamine error: Xlsx error: "
                 "Workbook is password protected)"),
    Case("other-sheet", "workbook whose data is on the second sheet (first: a cover page)",
         xlsx_case("cover.xlsx", {"Cover": [["Sales export"], ["made by hand"]], "Data": [CPQ_HEADER] + rows_as_cells(G)}),
         message="Error: {dir}/cover.xlsx: sheet 'Cover' has no column(s) cust, inv, qty, price, day; the workbook "
                 "has sheets 'Cover', 'Data' (choose one with --sheet)"),
    Case("empty-first-sheet", "workbook whose first sheet is empty",
         xlsx_case("blank.xlsx", {"Blank": [], "Data": [CPQ_HEADER] + rows_as_cells(G)}),
         message="Error: {dir}/blank.xlsx: sheet 'Blank' has no column(s) cust, inv, qty, price, day; the workbook "
                 "has sheets 'Blank', 'Data' (choose one with --sheet)"),
    Case("sheet-name", "--sheet names a sheet that does not exist", good_xlsx, (*MAP, "--sheet", "Ventes"),
         message="Error: {dir}/good.xlsx: no sheet named 'Ventes'; sheets are 'Sales'"),
    Case("sheet-index", "--sheet index out of range", good_xlsx, (*MAP, "--sheet", "3"),
         message="Error: {dir}/good.xlsx: sheet index 3 out of range; the workbook has 1 sheet(s)"),
    # several files and sheets (issue 21, item 3)
    Case("files-columns-differ", "two files, the second with 'quantity' for 'qty'",
         halves("a.csv", "b.csv", second_header=HEADER.replace("qty", "quantity")), ("{dir}/b.csv", *MAP),
         message="Error: {dir}/b.csv: its columns differ from those of {dir}/a.csv (no qty; quantity not in {dir}/a.csv); "
                 "files are stacked by column name: rename the columns to match, or read the files apart"),
    Case("files-of-two-kinds", "a CSV and a workbook given together", lambda d: (good_xlsx(d), halves("a.csv", "b.csv")(d))[1],
         ("{dir}/good.xlsx", *MAP), code=2,
         message="Error: {dir}/a.csv + {dir}/good.xlsx: files of different kinds (csv: a.csv; xlsx: good.xlsx); save them "
                 "as one kind (e.g. the workbook as CSV) to read them together"),
    Case("file-given-twice", "the same file given twice", halves("a.csv", "b.csv"), ("{dir}/a.csv", *MAP), code=2,
         message="Error: {dir}/a.csv: given twice; each file is read once"),
    Case("glob-no-match", "a quoted pattern that matches no file", lambda d: d / "2023-*.csv",
         message="Error: {dir}/2023-*.csv: no file matches"),
    Case("files-bad-value", "quantity 'N/A' in the second file's data row 4",
         halves("a.csv", "b.csv", second_rows=G[45:48] + ["c1,x1,N/A,5,01/01/2020"] + G[48:]), ("{dir}/b.csv", *MAP),
         message="Error: {dir}/a.csv + {dir}/b.csv: column 'qty' (quantity) has 1 non-numeric values, e.g. 'N/A' at "
                 "b.csv data row 4"),
    Case("sheets-alike", "a workbook whose second sheet has the first one's columns (a year split over sheets)",
         xlsx_case("book.xlsx", SPLIT_BOOK),
         message="Error: {dir}/book.xlsx: sheet(s) 'Q2' have the same columns as sheet 'Q1', the one read; --sheet all "
                 "reads them all together, --sheet NAME reads one"),
    Case("repeated-header-bad-value", "two exports joined with cat, 'N/A' on the 3rd line after the second header",
         csv_case("cat.csv", G[:45] + [HEADER] + G[45:47] + ["c1,x1,N/A,5,01/01/2020"] + G[47:]),
         message="Error: {dir}/cat.csv: column 'qty' (quantity) has 1 non-numeric values, e.g. 'N/A' at data row 49"),

    Case("wrong-delimiter", "semicolon file read with --delimiter ','", csv_case("semi.csv", G, sep=";"),
         (*MAP, "--delimiter", ","),
         message="Error: {dir}/semi.csv: missing column(s) cust (customer), inv (order), qty (quantity), price (price), "
                 "day (date); the file has: cust;inv;qty;price;day (read as a single column: is the delimiter right, "
                 "or do some lines have more fields than the header?)"),
    Case("ragged-lines", "a line with more fields than the header",
         csv_case("ragged.csv", G[:5] + ["c1,i1,1,5,01/01/2020,extra,more"] + G[5:]),
         message="Error: {dir}/ragged.csv: missing column(s) cust (customer), inv (order), qty (quantity), price (price), "
                 "day (date); the file has: cust,inv,qty,price,day (read as a single column: is the delimiter right, "
                 "or do some lines have more fields than the header?)"),
    Case("missing-column", "a mapped column is absent", raw_case("cols.csv", "cust,inv,qty\nc1,1,2\n"),
         message="Error: {dir}/cols.csv: missing column(s) price (price), day (date); the file has: cust, inv, qty"),
    Case("duplicate-header", "two columns named price", csv_case("dup.csv", [r + ",9" for r in G], HEADER + ",price"),
         message="Error: {dir}/dup.csv: column name 'price' appears 2 times in the header (columns 4, 6); "
                 "rename the copies so each name is unique"),
    Case("duplicate-header-xlsx", "two columns named price in a workbook",
         xlsx_case("dup.xlsx", {"Sales": [CPQ_HEADER + ["price"]] + [c + [9.0] for c in rows_as_cells(G)]}),
         message="Error: {dir}/dup.xlsx: column name 'price' appears 2 times in the header (columns 4, 6); "
                 "rename the copies so each name is unique"),
    # encodings
    Case("mixed-encodings", "UTF-8 and latin-1 lines in one file",
         raw_case("mixed.csv", HEADER.encode() + "\nc\u00e9,i1,1,5,01/01/2020\n".encode() + "c\xe9,i2,1,5,01/01/2020\n".encode("latin-1")
                  + csv_text(G).split("\n", 1)[1].encode()),
         message="Error: {dir}/mixed.csv: mixed encodings: line 2 is UTF-8 but line 3 is not (re-save the file as UTF-8)"),
    Case("mixed-encodings-late", "a latin-1 line after 2 MB of UTF-8", big_mixed_encoding,
         message="Error: {dir}/mixed_late.csv: mixed encodings: line 2 is UTF-8 but line 54002 is not (re-save the file "
                 "as UTF-8)"),
    Case("wrong-encoding", "--encoding ascii on a Windows-1252 file", lambda d: write(d / "w.csv", csv_text(ACCENTED), "cp1252"),
         (*MAP, "--encoding", "ascii"),
         message="Error: {dir}/w.csv: not ascii text (byte 0xE9 on line 2); is --encoding right?"),
    Case("long-line", "a 3,019-byte line (a pasted document) over --max-line-size 1KB",
         csv_case("long.csv", G[:4] + ["c1,i" + "x" * 3000 + ",1,5,01/01/2020"] + G[4:]), (*MAP, "--max-line-size", "1KB"),
         message="Error: {dir}/long.csv: data row 5 is 3,019 bytes long, more than the reader's limit of 1,000 (a cell "
                 "holding a long text, or line breaks the reader does not see); read it with --max-line-size 1MB"),
    # values
    Case("text-quantity", "quantity 'N/A'", csv_case("na.csv", G[:3] + ["c1,i1,N/A,5,01/01/2020"] + G[3:]),
         message="Error: {dir}/na.csv: column 'qty' (quantity) has 1 non-numeric values, e.g. 'N/A' at data row 4"),
    Case("excel-error-price", "price '#DIV/0!' from a spreadsheet formula",
         csv_case("div0.csv", G[:3] + ["c1,i1,1,#DIV/0!,01/01/2020"] + G[3:]),
         message="Error: {dir}/div0.csv: column 'price' (price) has 1 non-numeric values, e.g. '#DIV/0!' at data row 4"),
    Case("bad-date", "a date that does not exist (month 13)", csv_case("d.csv", G[:7] + ["c2,i2,1,5,2020.13.01"]),
         message="Error: {dir}/d.csv: column 'day' (date) has 1 dates that do not parse (expected %d/%m/%Y), "
                 "e.g. '2020.13.01' at data row 8"),
    Case("fourth-date-format", "dates written 'Jan 5, 2020' among dd/mm/yyyy",
         csv_case("months.csv", G[:2] + ['c2,i2,1,5,"Jan 5, 2020"'] + G[2:]),
         message="Error: {dir}/months.csv: column 'day' (date) has 1 dates that do not parse (expected %d/%m/%Y), "
                 "e.g. 'Jan 5, 2020' at data row 3"),
    Case("mostly-empty-customer", "customer id missing on 8 lines of 10, the ids present repeating (not a grouped report)",
         csv_case("ids.csv", [("" if i % 5 else r.split(",", 1)[0]) + "," + r.split(",", 1)[1] for i, r in enumerate(G)]),
         message="Error: {dir}/ids.csv: column 'cust' (customer) is empty on 72 of 90 lines; is it the customer id column?"),
    Case("grouped-report", "a report grouped by account: the account on each group's first line only, subtotal rows",
         csv_case("report.csv", GROUPED_ROWS),
         message="Error: {dir}/report.csv: column 'cust' (customer) is blank on 4 of 7 lines (first at data row 2) in what "
                 "looks like a report grouped by customer (4 subtotal or total row(s)); use --fill-down to give each blank "
                 "cell the customer above it, or export the report again as \"Details Only\""),
    Case("grouped-report-grand-total", "a grouped report whose 'Grand Totals (8 records)' row counts more lines than read",
         xlsx_case("report.xlsx", {"Report": classic_report_cells(grand_total=8)}), (*MAP, "--header-row", "4", "--fill-down"),
         message="Error: {dir}/report.xlsx: the grand total row at data row 14 ('Grand Totals (8 records)') counts 8 records, "
                 "but 7 lines were read; was the report cut short or were rows removed? Export the report again"),
    Case("fill-down-spark", "--fill-down with --engine spark (Spark does not keep a file's row order)",
         csv_case("report.csv", GROUPED_ROWS), (*MAP, "--fill-down", "--engine", "spark"), code=2,
         message="Error: --fill-down follows the row order of the file, which the Spark engine does not keep; "
                 "run it with --engine duckdb"),
    Case("all-filtered", "every quantity <= 0", csv_case("q0.csv", [f"c{i},i{i},{-(i % 2)},5,01/01/2020" for i in range(6)]),
         message="Error: {dir}/q0.csv: all 6 lines were filtered out (quantity <= 0: 6)"),
    Case("all-negative-prices", "every price negative", csv_case("neg.csv", [f"c{i % 9},i{i},1,-5,01/01/2020" for i in range(20)]),
         message="Error: {dir}/neg.csv: all 20 lines were filtered out (negative price: 20)"),
    # issue 12: no silent misreads
    Case("ambiguous-dot", "prices '1.250', '2.251'... in a comma-delimited file (thousands or decimals?)",
         csv_case("amb.csv", AMBIGUOUS_ROWS),
         message="Error: {dir}/amb.csv: column 'price' (price) is ambiguous: '1.250' may be 1250 or 1.25 (thousands "
                 "separator or decimal mark); give --decimal . or --decimal ,"),
    Case("two-digit-year", "a date '03/01/23' read with --date-format %d/%m/%Y (year 23)",
         csv_case("yy.csv", G[:4] + ["c2,i2,1,5,03/01/23"] + G[4:]),
         message="Error: {dir}/yy.csv: column 'day' (date) has 1 date(s) outside the years 1900 to {next_year}, e.g. "
                 "'03/01/23' (read as 0023-01-03) at data row 5; is the date format right (%Y is a four-digit year, "
                 "%y a two-digit one)?"),
    Case("salesforce-id-case", "an 18-character Salesforce id upper-cased (--salesforce-ids)",
         csv_case("sf.csv", G[:3] + ["001DN00000ABCDEIAV,i1,1,5,01/01/2020"] + G[3:]), (*MAP, "--salesforce-ids"),
         message="Error: {dir}/sf.csv: column 'cust' (customer) has 1 Salesforce id(s) whose letter case does not match "
                 "their checksum, e.g. '001DN00000ABCDEIAV' at data row 4 (its checksum says '001Dn00000AbCdEIAV'); "
                 "was the case changed by a spreadsheet? Export the ids again"),
    # issue 21: ids whose digits are lost, formatted numbers
    Case("id-scientific", "a customer id in Excel's scientific notation ('6.27123E+15', a CSV saved by Excel)",
         csv_case("sci.csv", G[:3] + ["6.27123E+15,i1,1,5,01/01/2020"] + G[3:]),
         message="Error: {dir}/sci.csv: column 'cust' (customer) has 1 id(s) in Excel's scientific notation, e.g. "
                 "'6.27123E+15' at data row 4: their digits are lost; export the column formatted as text and read it again"),
    Case("id-float-16-digits", "a 16-digit customer id held as a float (Parquet)",
         lambda d: write_parquet(d / "f.parquet", numbered_frame(6271234567890123.0)),
         message="Error: {dir}/f.parquet: column 'cust' (customer) has 1 id(s) held as floating-point numbers of 16 digits "
                 "or more, e.g. 6271234567890123.0 at data row 4: their last digits may be lost (a float keeps 15 to 17 "
                 "significant digits, Excel 15); give the column as text or whole numbers"),
    Case("id-number-cell-16-digits", "a 16-digit customer id in a number cell of a workbook (Excel keeps 15 digits)",
         xlsx_case("n.xlsx", {"Sales": [CPQ_HEADER] + numbered_ids(6271234567890120.0)}),
         message="Error: {dir}/n.xlsx: column 'cust' (customer) has number cells and ids of 16 digits or more, e.g. "
                 "'6271234567890120' at data row 4: a workbook keeps 15 significant digits of a number, so their last "
                 "digits may be lost; format the column as text in the export and read it again"),
    Case("currency-code-prices", "prices written with an ISO code, 'EUR 5.00' (a multi-currency report)",
         csv_case("eur.csv", with_price(G, lambda price: f"EUR {float(price):.2f}")),
         message="Error: {dir}/eur.csv: column 'price' (price) has 90 non-numeric values, e.g. 'EUR 5.00' at data row 1, "
                 "'EUR 6.00' at data row 2, 'EUR 9.00' at data row 3; amounts written with a currency code are not read: "
                 "export them as numbers, with the code in a column of its own (--currency)"),
    Case("mixed-currencies", "prices in dollars and one in euros", csv_case("cur.csv", DOLLARS[:3] + ["c1,e1,1,€5.00,01/01/2020"]
                                                                             + DOLLARS[3:]),
         message="Error: {dir}/cur.csv: column 'price' (price) mixes currencies: '$5.00' at data row 1 and '€5.00' at data "
                 "row 4; amounts in different currencies cannot be added: convert them to one currency first"),
    Case("mixed-percent", "one price written '5%' among plain numbers", csv_case("pct.csv", G[:3] + ["c1,p1,1,5%,01/01/2020"] + G[3:]),
         message="Error: {dir}/pct.csv: column 'price' (price) mixes percentages and plain numbers: '5%' at data row 4 and "
                 "'5' at data row 1; write every value with % (read as divided by 100) or none"),
    Case("customers-mostly-numbers", "a per-customer column of numbers with one 'abc' (never dropped as text)",
         raw_case("c.csv", "id,spend\n" + "".join(f"k{i},{i}\n" for i in range(9)) + "k9,abc\n"), ("--customers", "--id", "id"),
         message="Error: {dir}/c.csv: column 'spend' is numbers but for 1 of 10 values, e.g. 'abc' at data row 10; write "
                 "them as numbers or leave the cells empty (missing values are imputed with the median)"),
    Case("xlsx-title-block", "a workbook with a title block above the header (row 3)",
         xlsx_case("titled.xlsx", {"Sales": [["Sales export"], [], CPQ_HEADER] + rows_as_cells(G)}),
         message="Error: {dir}/titled.xlsx: sheet 'Sales' has no column(s) cust, inv, qty, price, day; row 3 looks like "
                 "the header: use --header-row 3"),
    Case("header-row-zero", "--header-row 0", csv_case("r.csv", G), (*MAP, "--header-row", "0"), code=2,
         message="Error: header row must be a row number >= 1; got 0"),
    Case("cancellations-option", "--cancellations keep", csv_case("r.csv", G), (*MAP, "--cancellations", "keep"), code=2,
         message="Error: cancellations must be one of net, signed, drop; got 'keep'"),
    # several currencies (issue 21 item 1)
    Case("currencies-without-rates", "lines in EUR, JPY and USD, no --rates", currency_case("cur.csv", CURRENCIES, None),
         (*MAP, "--currency", "cur"),
         message="Error: {dir}/cur.csv: column 'cur' (currency) holds 3 currencies (EUR 48 lines, JPY 30, USD 12); amounts in "
                 "different currencies cannot be summed: give --rates rates.csv (Salesforce's CurrencyType export) or "
                 "filter to one currency"),
    Case("currency-without-rate", "a currency the rates file lacks (GBP)", currency_case("cur.csv", ["EUR", "GBP"]),
         CURRENCY_ARGS,
         message="Error: {dir}/cur.csv: column 'cur' (currency) holds GBP on 45 line(s), e.g. data row 2, but "
                 "{dir}/rates.csv has no rate for GBP (it has EUR, JPY, USD); add it to the rates file (--rates)"),
    Case("currency-date-outside-rates", "a JPY line dated before the first JPY period of dated rates",
         currency_case("cur.csv", ["EUR", "JPY"], "currency,rate,start,end\nEUR,1,,\nJPY,150,2020-02-01,\n"), CURRENCY_ARGS,
         # JPY: odd i; in January: i % 9 == 0, so i = 9, 27, 45, 63, 81; the earliest day, 1 + i % 28 = 8, is i = 63
         message="Error: {dir}/cur.csv: 5 line(s) in JPY are dated outside every JPY period of {dir}/rates.csv, e.g. "
                 "2020-01-08 at data row 64 (its periods run from 2020-02-01 to the end); add a period that holds that "
                 "date (--rates)"),
    Case("currency-blank", "a line with a customer and no currency code",
         currency_case("cur.csv", ["EUR"] * 4 + [""] + ["EUR"] * 85), CURRENCY_ARGS,
         message="Error: {dir}/cur.csv: column 'cur' (currency) is blank on 1 line(s) that have a customer, e.g. data row 5; "
                 "every line needs its currency code"),
    Case("rates-bad-value", "a rate of 0 in the rates file",
         currency_case("cur.csv", ["EUR"], "IsoCode,ConversionRate,IsCorporate\nEUR,1,true\nJPY,0,false\n"), CURRENCY_ARGS,
         message="Error: {dir}/rates.csv: data row 2: the rate of JPY in column 'ConversionRate' is '0', not a number > 0 "
                 "(--rates)"),
    Case("rates-two-corporate", "two currencies marked IsCorporate",
         currency_case("cur.csv", ["EUR"], "IsoCode,ConversionRate,IsCorporate\nEUR,1,true\nUSD,1,true\n"), CURRENCY_ARGS,
         message="Error: {dir}/rates.csv: exactly one corporate currency is needed (marked IsCorporate true, or else the "
                 "only one whose rate is 1); found 2: EUR, USD (--rates)"),
    Case("rates-overlap", "two dated JPY rates holding the same day",
         currency_case("cur.csv", ["EUR"], "currency,rate,start,end\nEUR,1,,\nJPY,150,,2020-03-01\nJPY,160,2020-02-01,\n"),
         CURRENCY_ARGS,
         message="Error: {dir}/rates.csv: the rates of JPY at data rows 2 and 3 overlap (the beginning to 2020-03-01, "
                 "2020-02-01 to the end); each date needs one rate (--rates)"),
    Case("rates-missing", "--rates names a file that does not exist", currency_case("cur.csv", ["EUR"], None),
         CURRENCY_ARGS, message="Error: {dir}/rates.csv: file not found (--rates)"),
    Case("rates-without-currency", "--rates on lines without a currency column", csv_case("r.csv", G),
         (*MAP, "--rates", "{dir}/r.csv"),
         message="Error: {dir}/r.csv: no currency column (IsoCode or currency) and rate column (ConversionRate or rate) in "
                 "the header 'cust,inv,qty,price,day' (--rates)"),
    Case("rates-no-currency-column", "--rates given, no currency column mapped", currency_case("r.csv", ["EUR"]),
         (*MAP, "--rates", "{dir}/rates.csv"),
         message="Error: {dir}/r.csv: --rates {dir}/rates.csv was given but the input has no currency column to convert by; "
                 "map one with --currency (the salesforce-cpq preset reads CurrencyIsoCode when the file has it)"),
    Case("rates-customers", "--rates with a per-customer table", raw_case("c.csv", "id,spend\nk1,1\nk2,2\nk3,3\n"),
         ("--customers", "--id", "id", "--rates", "{dir}/rates.csv"), code=2,
         message="Error: --rates converts the amounts of sales lines; a per-customer table (--customers) has none"),
    # too little to segment
    Case("one-customer", "a single customer", csv_case("one.csv", [f"c1,i{i},1,{i + 1},01/01/2020" for i in range(20)]),
         message="Error: n_customers=1 is too few to segment; at least 3 are needed"),
    Case("identical-customers", "all customers identical (zero variance)",
         csv_case("same.csv", [f"c{i % 9},i{i},1,5,01/01/2020" for i in range(90)]), (*MAP, "--k-range", "2..10"),
         message="Error: n_customers=9 with 1 distinct feature value(s) is too few for k=2..10"),
    Case("k-above-customers", "--k 12 with 9 customers", csv_case("few.csv", G), (*MAP, "--k", "12"),
         message="Error: n_customers=9 should be > k=12"),
    Case("k-above-distinct", "--k 5 with 3 distinct customer profiles (standard scaling)",
         csv_case("three.csv", [f"c{i % 9},i{i},1,{5 + (i % 9) % 3},01/01/2020" for i in range(90)]),
         (*MAP, "--k", "5", "--scaling", "standard"),
         message="Error: only 3 distinct customer profile(s); cannot make k=5 segments"),
    # options
    Case("k-range-order", "--k-range 6..3", csv_case("r.csv", G), (*MAP, "--k-range", "6..3"), code=2,
         message="Error: k range must satisfy 2 <= low <= high; got 6..3"),
    Case("k-range-syntax", "--k-range a..b", csv_case("r.csv", G), (*MAP, "--k-range", "a..b"), code=2,
         message="Error: k range must look like 2..10; got 'a..b'"),
    Case("k-one", "--k 1", csv_case("r.csv", G), (*MAP, "--k", "1"), code=2,
         message="Error: The 'k' parameter of Segmenter must be int in [2, inf]; got 1 instead."),
    Case("seed-too-large", "--seed 2**40", csv_case("r.csv", G), (*MAP, "--seed", str(2**40)), code=2,
         message="Error: The 'seed' parameter of Segmenter must be int in [0, 4294967295]; got 1099511627776 instead."),
    Case("min-share", "--min-share 0.9", csv_case("r.csv", G), (*MAP, "--min-share", "0.9"), code=2,
         message="Error: The 'min_share' parameter of Segmenter must be float in [0.0, 0.5]; got 0.9 instead."),
    Case("business-min-k", "--business-min-k 0", csv_case("r.csv", G), (*MAP, "--business-min-k", "0"), code=2,
         message="Error: --business-min-k must be a whole number of segments >= 1; got 0"),
    Case("unknown-preset", "--preset sap", csv_case("r.csv", G), ("--preset", "sap"), code=2,
         message="Error: unknown preset 'sap'; presets are online-retail, salesforce-cpq"),
    Case("no-mapping", "sales lines without any column mapping", csv_case("r.csv", G), (), code=2,
         message="Error: no column mapping: give --preset, --id/--customer or a [columns] table with 'customer'"),
    Case("unknown-feature", "--features Foo", csv_case("r.csv", G), (*MAP, "--features", "Foo"), code=2,
         message="Error: unknown feature 'Foo'; features are TotalSales, OrderCount, AvgOrderValue, LineCount, Units, "
                 "ProductCount, RecencyDays, TenureDays"),
    Case("feature-needs-role", "RecencyDays without a date column", csv_case("r.csv", G),
         ("--customer", "cust", "--quantity", "qty", "--price", "price", "--features", "RecencyDays"), code=2,
         message="Error: feature RecencyDays needs the date column role(s), which are not mapped"),
    Case("bad-as-of", "--as-of yesterday", csv_case("r.csv", G), (*MAP, "--as-of", "yesterday"), code=2,
         message="Error: --as-of must be a date like 2021-01-01; got 'yesterday'"),
    Case("bad-decimal", "--decimal ';'", csv_case("r.csv", G), (*MAP, "--decimal", ";"), code=2,
         message="Error: decimal must be 'auto', '.' or ','; got ';'"),
    Case("bad-encoding", "--encoding ebcdic", csv_case("r.csv", G), (*MAP, "--encoding", "ebcdic"), code=2,
         message="Error: encoding 'ebcdic' is not a text encoding Python knows; give a codec name such as utf-8, cp1252, "
                 "latin-1, utf-16, shift_jis"),
    Case("bad-max-line-size", "--max-line-size big", csv_case("r.csv", G), (*MAP, "--max-line-size", "big"), code=2,
         message="Error: max line size must be a size like 4MB or 8000000 (bytes); got 'big'"),
    Case("bad-scaling", "--scaling magic", csv_case("r.csv", G), (*MAP, "--scaling", "magic"), code=2,
         message="Error: scaling must be one of rank, rank-first, log, robust, standard, none; got 'magic'"),
    Case("bad-lang", "--lang de", csv_case("r.csv", G), (*MAP, "--lang", "de"), code=2,
         message="Error: language must be one of en, fr; got 'de'"),
    Case("bad-max-memory", "--max-memory lots", csv_case("r.csv", G), (*MAP, "--max-memory", "lots"), code=2,
         message="Error: max memory must be a size like 512MB or 4GB; got 'lots'"),
    Case("config-invalid", "custseg.toml that is not TOML", csv_case("r.csv", G),
         ("--config", "{dir}/bad.toml"), code=2,
         message="Error: config file {dir}/bad.toml not found"),
    # per-customer tables
    Case("customers-no-id", "--id names a missing column", raw_case("c.csv", "id,spend\nk1,1\nk2,2\nk3,3\n"),
         ("--customers", "--id", "nope"),
         message="Error: {dir}/c.csv: missing id column 'nope'; the file has: id, spend"),
    Case("customers-duplicate-id", "a customer twice in a per-customer table",
         raw_case("c.csv", "id,spend\nk1,1\nk1,2\nk2,3\n"), ("--customers", "--id", "id"),
         message="Error: {dir}/c.csv: column 'id' is not one row per customer: 'k1' appears more than once"),
    Case("customers-empty-id", "an empty id in a per-customer table",
         raw_case("c.csv", "id,spend\nk1,1\n,2\nk2,3\n"), ("--customers", "--id", "id"),
         message="Error: {dir}/c.csv: column 'id' has 1 empty customer id(s)"),
    Case("customers-infinite", "an infinite value in a per-customer table",
         raw_case("c.csv", "id,spend\nk1,1\nk3,inf\nk2,3\nk4,5\n"), ("--customers", "--id", "id"),
         message="Error: {dir}/c.csv: column 'spend' has infinite values"),
    Case("customers-text-only", "no numeric column", raw_case("c.csv", "id,name\nk1,a\nk3,b\nk2,c\n"),
         ("--customers", "--id", "id"),
         message="Error: {dir}/c.csv: no numeric column to segment on (text columns: name)"),
    Case("customers-text-column", "--columns names a text column",
         raw_case("c.csv", "id,spend,seg\nk1,1,a\nk2,2,b\nk3,3,a\nk4,4,b\n"), ("--customers", "--id", "id", "--columns", "spend,seg"),
         message="Error: {dir}/c.csv: column 'seg' is not numeric (e.g. 'a'); use --categorical onehot to encode it"),
    # saved models (custseg score)
    Case("model-missing", "--model file does not exist", model_case("other.json"), score_args("nothing.json"), command="score",
         message="Error: {dir}/nothing.json: model file not found"),
    Case("model-pickle", "a pickle renamed model.json (never unpickled)",
         model_case("m.json", raw=pickle.dumps({"centroids": [[0.0]]})), score_args("m.json"), command="score",
         message="Error: {dir}/m.json: not a custseg model (invalid JSON: 'utf-8' codec can't decode byte 0x80 in "
                 "position 0: invalid start byte)"),
    Case("model-not-custseg", "a JSON file that is not a custseg model", model_case("m.json", raw=b"[1, 2]"),
         score_args("m.json"), command="score", message="Error: {dir}/m.json: not a custseg model file"),
    Case("model-other-version", "model.json from another format version", model_case("m.json", edited(format_version=3)),
         score_args("m.json"), command="score",
         message="Error: {dir}/m.json: model format version 3 is not supported (expected 1 or 2)"),
    Case("model-centroids-edited", "centroids edited by hand (a row removed)",
         model_case("m.json", lambda m: edited(centroids=m["centroids"][:1])(m)), score_args("m.json"), command="score",
         message="Error: {dir}/m.json: centroids, features and segments do not agree (edited by hand?)"),
    Case("model-centroid-text", "a centroid value replaced by text", model_case("m.json", deep_edit("centroids.0.0", "x")),
         score_args("m.json"), command="score",
         message="Error: {dir}/m.json: centroids must be a table of numbers (edited by hand?)"),
    Case("model-no-scaler", "the scaler removed", model_case("m.json", edited(scaler=None)), score_args("m.json"),
         command="score", message="Error: {dir}/m.json: model part(s) scaler missing or of the wrong type (edited by hand?)"),
    Case("model-scaler-damaged", "the scaler's center removed", model_case("m.json", deep_edit("scaler", {"kind": "rank"})),
         score_args("m.json"), command="score",
         message="Error: {dir}/m.json: damaged model (missing 'center'); was it edited by hand?"),
    Case("model-bad-scaling", "an unknown scaling in the saved settings",
         model_case("m.json", deep_edit("config.scaling", "magic")), score_args("m.json"), command="score",
         message="Error: {dir}/m.json: the model's settings are invalid (scaling must be one of rank, rank-first, log, robust, "
                 "standard, none; got 'magic')"),
    Case("model-other-columns", "new data without the model's customer column",
         model_case("m.json", deep_edit("config.mapping.customer", "AccountId")), score_args("m.json"), command="score",
         message="Error: {dir}/new.csv: missing column(s) AccountId (customer); the file has: cust, inv, qty, price, day"),
    # the business review (custseg review RUN --apply segments.csv --by NAME): the run is left exactly as it was
    Case("review-unknown-segment", "a row of the review table with a segment id the run does not have",
         review_case(cell(3, "segment_id", "7")), REVIEW_ARGS, command="review",
         message="Error: segments.csv, row 4: segment 7 is not a segment of this run (segments 1, 2, 3)"),
    Case("review-row-missing", "a segment's row deleted from the review table",
         review_case(lambda t: t[t["segment_id"] != "2"]), REVIEW_ARGS, command="review",
         message="Error: segments.csv: no row for segment 2; every segment needs its row (export the table again)"),
    Case("review-empty-name", "a segment's French name emptied", review_case(cell(2, "name_fr", " ")), REVIEW_ARGS,
         command="review", message="Error: segments.csv, row 3: name_fr of segment 2 is empty"),
    Case("review-duplicate-name", "two segments given the same English name", review_case(first_name(3)), REVIEW_ARGS,
         command="review", message="Error: segments.csv, row 4: name_en 'Premium buyers' is also the name of segment 1 "
                                   "(row 2); names must differ"),
    Case("review-merge-itself", "a segment merged into itself", review_case(cell(2, "merge_into", "2")), REVIEW_ARGS,
         command="review", message="Error: segments.csv, row 3: segment 2 cannot merge into itself"),
    Case("review-merge-unknown", "a merge into a segment the run does not have", review_case(cell(2, "merge_into", "5")),
         REVIEW_ARGS, command="review",
         message="Error: segments.csv, row 3: segment 2 merges into 5, which is not a segment of this run (segments 1, 2, 3)"),
    Case("review-merge-chain", "a chain of merges (3 into 2, 2 into 1)",
         review_case(lambda t: cell(2, "merge_into", "1")(cell(3, "merge_into", "2")(t))), REVIEW_ARGS, command="review",
         message="Error: segments.csv, row 4: segment 3 merges into 2, which merges into 1: merge both into 1 directly"),
    Case("review-other-run", "a review table of another run (the sizes differ)", review_case(cell(1, "size", "999")),
         REVIEW_ARGS, command="review",
         message="Error: segments.csv, row 2: segment 1 has 999 customers in this table but 3 in the run: the table comes "
                 "from another run or from before a review; export it again"),
    Case("review-old-run-merge", "a merge in a run written before custseg kept every product's revenue",
         without_product_revenue, REVIEW_ARGS, command="review",
         message="Error: {dir}/run: written by an earlier custseg without product_revenue.parquet, which a merge adds up; "
                 "run it again with this version, then review"),
    Case("review-approve-flagged", "--approve on a refreshed run with a new segment nobody reviewed", flagged_run,
         ("--approve", "--by", "B. Boss"), command="review",
         message="Error: {dir}/run: segment(s) 3 are flagged for review (is new this period: its name comes from the naming "
                 "rules, nobody reviewed it): export the table, check them and apply it (custseg review {dir}/run --export "
                 "segments.xlsx, then --apply segments.xlsx --by NAME) before approving"),
    Case("review-no-signer", "--apply without --by", review_case(lambda t: t), ("--apply", "{dir}/segments.csv"),
         command="review", code=2, message='Error: say who signs with --by, e.g. --by "A. Name" (recorded in run.json)'),
    # not errors: read right, counted right
    Case("decimal-comma", "prices '5,25' in a ';' file (decimal comma detected)", semicolon_case("fr.csv", decimal_comma_rows()),
         code=0, check=totals_are(decimal_comma_totals())),
    Case("thousands-en", "prices '1,000.50' (thousands comma)", csv_case("k.csv", thousands_rows("en")),
         code=0, check=totals_are(thousands_totals())),
    Case("thousands-fr", "prices '1 000,50' (space thousands, decimal comma)", semicolon_case("k.csv", thousands_rows("fr")),
         code=0, check=totals_are(thousands_totals())),
    Case("quantity-decimal-comma", "quantities '1,5'",
         csv_case("q.csv", [f'c{i % 9},i{i},"{1 + i % 3},5",{5 + (i % 9) ** 2},01/01/2020' for i in range(90)]), code=0,
         check=totals_are({c: sum((1.5 + i % 3) * (5 + (i % 9) ** 2) for i in range(90) if f"c{i % 9}" == c) for c in GOOD_TOTALS})),
    Case("three-date-formats", "dd/mm/yyyy, ISO date and ISO date-time in one column", csv_case("dates.csv", with_day(G, THREE_FORMATS)),
         code=0, check=dates_are("2020-01-05", "2020-03-31")),
    Case("excel-serial-text", "Excel serial day numbers as text ('43831')", csv_case("serial.csv", with_day(G, SERIALS)),
         code=0, check=dates_are("2020-01-01", "2020-02-29")),
    Case("excel-serial-numbers", "serial numbers in number cells of a workbook",
         xlsx_case("serial.xlsx", {"Sales": xlsx_with_days([43831 + i % 60 for i in range(90)])}),
         code=0, check=dates_are("2020-01-01", "2020-02-29")),
    Case("excel-real-dates", "real Excel dates in a workbook", xlsx_case("dates.xlsx", {"Sales": xlsx_with_days(XLSX_DATES)}),
         code=0, check=dates_are("2020-01-01", "2020-02-29")),
    Case("nan-inf-prices", "prices NaN, inf and -Infinity (dropped and counted)",
         csv_case("nan.csv", G + ["c1,x1,1,NaN,01/01/2020", "c1,x2,1,inf,01/01/2020", "c1,x3,1,-Infinity,01/01/2020"]),
         code=0, check=totals_are(GOOD_TOTALS, dropped_missing_or_non_finite_price=3)),
    Case("negative-prices", "negative prices (dropped and counted)",
         csv_case("neg.csv", G + [f"c{i},n{i},1,-{i + 1},01/01/2020" for i in range(4)]),
         code=0, check=totals_are(GOOD_TOTALS, dropped_negative_price=4)),
    Case("latin-1", "a latin-1 file with accented ids", lambda d: write(d / "l1.csv", csv_text(ACCENTED), "latin-1"),
         code=0, check=names_kept(*ACCENTED_NAMES)),
    Case("utf-8-bom", "UTF-8 with a byte order mark and CRLF line ends",
         lambda d: write(d / "bom.csv", b"\xef\xbb\xbf" + csv_text(ACCENTED, newline="\r\n").encode()),
         code=0, check=names_kept(*ACCENTED_NAMES)),
    Case("utf-16", "UTF-16 (Excel's 'Unicode text')", lambda d: write(d / "u16.csv", csv_text(ACCENTED), "utf-16"),
         code=0, check=names_kept(*ACCENTED_NAMES)),
    Case("quoted-fields", "quoted ids holding the delimiter and line breaks", csv_case("quoted.csv", QUOTED),
         code=0, check=names_kept(*(f"c{i}, SA" for i in range(9)))),
    Case("ambiguous-dot-semicolon", "prices '1.250', '2.251'... in a ';' file", csv_case("eu.csv", AMBIGUOUS_ROWS, sep=";"),
         code=0, check=totals_are(ambiguous_totals())),
    Case("salesforce-datetimes", "Bulk API date-times '...T23:30:00.000+0000' and '...Z', no --date-format",
         csv_case("sfdt.csv", with_day(G, [("2020-01-05T23:30:00.000+0000", "2020-01-05T23:30:00Z")[i % 2] if i != 89
                                           else "2020-03-31T23:59:59Z" for i in range(90)])),
         tuple(MAP[:-2]), code=0, check=dates_are("2020-01-05", "2020-03-31")),
    Case("mixed-line-endings", "CRLF and LF line ends in one file",
         lambda d: write(d / "crlf.csv", csv_text(G).replace("\n", "\r\n", 45).encode()), code=0, check=totals_are(GOOD_TOTALS)),
    Case("title-block-header-row", "a workbook with a title block, read with --header-row 3",
         xlsx_case("titled.xlsx", {"Sales": [["Sales export"], [], CPQ_HEADER] + rows_as_cells(G)}), (*MAP, "--header-row", "3"),
         code=0, check=totals_are(GOOD_TOTALS)),
    Case("total-row", "a grand-total row (date and price, no customer, no order id)",
         csv_case("total.csv", G + [",,1,99999,31/03/2020"]), code=0, check=totals_are(GOOD_TOTALS, dropped_total_row=1)),
    Case("grouped-report-fill-down", "a report grouped by account read with --fill-down",
         csv_case("report.csv", GROUPED_ROWS), (*MAP, "--fill-down", "--k", "2"), code=0,
         check=totals_are(GROUPED_TOTALS, dropped_subtotal_row=4)),
    Case("grouped-report-xlsx", "Classic's printable view in a workbook: title rows, 'Account Name: X (N records)' headers, "
         "unlabelled subtotal rows", xlsx_case("report.xlsx", {"Report": classic_report_cells()}),
         (*MAP, "--header-row", "4", "--fill-down", "--k", "2"), code=0,
         check=totals_are(GROUPED_TOTALS, dropped_subtotal_row=4, dropped_group_header=3)),
    Case("blank-customer", "one blank customer cell in a plain export (not a grouped report)",
         csv_case("blank.csv", G[:45] + ["," + G[45].split(",", 1)[1]] + G[46:]), code=0,
         check=totals_are(GOOD_TOTALS | {"c0": GOOD_TOTALS["c0"] - 1 * 5}, dropped_missing_customer=1)),
    Case("salesforce-15-18", "15- and 18-character forms of one Salesforce id (--salesforce-ids)",
         csv_case("sf.csv", G + ["001Dn00000AbCdE,s1,1,450,01/01/2020", "001Dn00000AbCdEIAV,s2,1,700,01/01/2020"]),
         (*MAP, "--salesforce-ids"), code=0, check=totals_are(GOOD_TOTALS | {"001Dn00000AbCdEIAV": 1150.0})),
    Case("currencies-converted", "lines in EUR, JPY and USD with Salesforce's CurrencyType rates",
         currency_case("cur.csv", CURRENCIES), CURRENCY_ARGS, code=0, check=totals_are(converted_totals())),
    Case("two-files", "a year split over two CSV files", halves("a.csv", "b.csv"), ("{dir}/b.csv", *MAP),
         code=0, check=stacked_files(("a.csv", 45), ("b.csv", 45))),
    Case("glob", "a quoted pattern, DIR/part-*.csv", lambda d: halves("part-1.csv", "part-2.csv")(d).parent / "part-*.csv",
         code=0, check=stacked_files(("part-1.csv", 45), ("part-2.csv", 45))),
    Case("parquet-parts", "a folder of Parquet parts (with Spark's _SUCCESS marker)", parquet_parts,
         code=0, check=stacked_files(("part-0.parquet", 45), ("part-1.parquet", 45))),
    Case("sheet-all", "--sheet all on a workbook split over sheets Q1 and Q2, with a Notes sheet",
         xlsx_case("book.xlsx", SPLIT_BOOK), (*MAP, "--sheet", "all"),
         code=0, check=stacked_files(("book.xlsx", 45), ("book.xlsx", 45))),
    Case("repeated-header", "two exports joined with cat (the header line repeated)",
         csv_case("cat.csv", G[:45] + [HEADER] + G[45:]), code=0, check=totals_are(GOOD_TOTALS, dropped_repeated_header=1)),
    Case("windows-1252", "Excel's Windows-1252 CSV: ids with \u2019 \u20ac \u2013 (bytes 0x92 0x80 0x96)",
         lambda d: write(d / "w.csv", csv_text(WINDOWS_1252), "cp1252"), code=0, check=names_kept(*WINDOWS_1252_NAMES)),
    Case("windows-1252-late", "a Windows-1252 CSV whose first non-ASCII byte comes after 2 MB of plain ASCII",
         late_windows_1252, code=0, check=names_kept(*WINDOWS_1252_NAMES)),
    Case("parquet", "the same lines as parquet", lambda d: write_parquet(d / "p.parquet", pd.read_csv(pd.io.common.StringIO(csv_text(G)), dtype=str)),
         code=0, check=totals_are(GOOD_TOTALS)),
    Case("dollar-prices", "prices '$1,000.00' (currency symbol stripped, recorded)", csv_case("usd.csv", DOLLARS),
         code=0, check=totals_are(GOOD_TOTALS)),
    Case("untidy-header", "a header with a BOM, no-break, zero-width and ideographic spaces around the names",
         csv_case("h.csv", G, UNTIDY_HEADER), code=0, check=totals_are(GOOD_TOTALS)),
    Case("ids-unicode-spaces", "customer ids with no-break spaces and a BOM around them ('c1\\u00a0', '\\ufeffc2')",
         csv_case("sp.csv", [("\ufeff" if i % 2 else "") + r.split(",", 1)[0] + ("\u00a0" if i % 3 else "") + "," + r.split(",", 1)[1]
                             for i, r in enumerate(G)]),  # every line but those with i % 6 == 0: 75
         code=0, check=totals_are(GOOD_TOTALS, spaces_trimmed={"cust": {"values": 75, "unicode": 75}})),
]


def render_table() -> str:
    """The markdown table of docs/errors.md."""
    lines = ["| # | case | input | exit | what the user sees |", "|---|---|---|---|---|"]
    for number, case in enumerate(CASES, 1):
        shown = case.message.format(**PLACEHOLDERS).replace("|", "\\|") if case.message else "runs; " + CHECKED[case.id]
        lines.append(f"| {number} | `{case.id}` | {case.what} | {case.code} | {'`' + shown + '`' if case.message else shown} |")
    return "\n".join(lines) + "\n"


CHECKED = {
    "dollar-prices": "TotalSales equals the plain prices' (the symbol stripped, counted in cleaning.json)",
    "untidy-header": "the names match the mapping once trimmed; TotalSales right",
    "ids-unicode-spaces": "nine customers, not 27; TotalSales right; 75 trimmed values counted",
    "decimal-comma": "TotalSales equals the sum of quantity x 5.25-style prices",
    "thousands-en": "TotalSales uses 1000.50, not 1.0005 or an error",
    "thousands-fr": "TotalSales uses 1000.50",
    "quantity-decimal-comma": "quantities read as 1.5, 2.5, 3.5",
    "three-date-formats": "all 90 lines kept; first and last dates right",
    "excel-serial-text": "43831 read as 2020-01-01",
    "excel-serial-numbers": "43831 read as 2020-01-01",
    "excel-real-dates": "dates read as dates",
    "nan-inf-prices": "3 lines dropped under 'price missing, NaN or infinite', totals unchanged",
    "negative-prices": "4 lines dropped under 'negative price', totals unchanged",
    "latin-1": "accented ids kept exactly",
    "utf-8-bom": "accented ids kept exactly, no BOM in the first column name",
    "utf-16": "accented ids kept exactly",
    "quoted-fields": "ids with commas kept whole",
    "parquet": "same totals as the CSV",
    "ambiguous-dot-semicolon": "'1.250' read as 1250 (European convention), the choice printed and in cleaning.json",
    "salesforce-datetimes": "both forms read as UTC dates",
    "mixed-line-endings": "every line read",
    "title-block-header-row": "the table below the title read",
    "total-row": "dropped under 'no customer and no order id (a total or subtotal row)'",
    "salesforce-15-18": "one account, TotalSales 1150",
    "currencies-converted": "TotalSales in EUR: JPY amounts / 161.2, USD amounts / 1.25 (cleaning.json records the rates)",
    "grouped-report-fill-down": "each account's TotalSales is the sum of its lines (550, 600, 900), the 4 subtotal and "
                                "total rows dropped under 'subtotal_row', not summed",
    "grouped-report-xlsx": "the same totals; 3 group headers and 4 subtotal rows dropped, the account taken from the headers",
    "blank-customer": "the line dropped under 'no customer id' (c0's TotalSales 5 lower), no grouped-report stop",
    "two-files": "TotalSales is the sum over both files; each file's name, sha256 and rows in run.json and cleaning.json",
    "glob": "both files read, in name order, and listed",
    "parquet-parts": "both parts read; the marker skipped",
    "sheet-all": "both sheets read and listed; the Notes sheet (other columns) left out",
    "repeated-header": "1 line dropped under 'a header line repeated among the data rows', totals unchanged",
    "windows-1252": "ids read exactly (not as latin-1 control characters); encoding cp1252 printed and recorded",
    "windows-1252-late": "the same: the whole file is checked for UTF-8, not its first MiB",
}
