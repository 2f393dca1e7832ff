"""Write docs/errors.md from the catalogue: python tests/hardening/make_errors_doc.py"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from catalogue import CASES, render_table  # noqa: E402

INTRO = """# Errors: what custseg says when an input is bad

custseg reads files exported by hand from CRMs and spreadsheets. Whatever the input, a
command ends with either its results or **one line** `Error: ...` naming the file, column,
value or option at fault, and a non-zero exit code:

| exit | meaning |
|---|---|
| 0 | done |
| 1 | the data (or a saved model, or the output disk) cannot be used (`DataError`) |
| 1 | the engine failed for a reason of its own, not the input's (`EngineError`) |
| 2 | the options are invalid or inconsistent (`UsageError`) |
| 130 | interrupted (Ctrl-C; a Salesforce push or rollback also on SIGTERM, once its running job is aborted and read back: `Interrupted`) |

A traceback is shown only with `--debug` (before the `Error:` line; the exit code stays the same). When a run fails, no output directory is created
and an existing one is left exactly as it was (the run is written to a hidden
`.OUT.partial-PID-*` folder beside it and renamed when complete; a folder left by a killed
run is removed by the next run into the same place).

## The catalogue

Every row below is a test (`tests/hardening/catalogue.py`, run by
`tests/hardening/test_bad_inputs.py`): the input is generated, the command is run, and the
output must be exactly the line shown (`DIR` is the input's folder) with that exit code,
no traceback and no output directory. Rows with exit 0 are inputs that are *not* errors but
must be read right: the test checks the numbers. The table is regenerated with
`python tests/hardening/make_errors_doc.py`; a test fails when it is out of date.

Commands: `custseg run INPUT --customer cust --order inv --quantity qty --price price --date day
--date-format %d/%m/%Y -o DIR/out --no-report` (plus the case's options), or
`custseg score INPUT --model DIR/m.json` for the model rows, or `--customers --id id` for
per-customer tables, or `custseg review DIR/run --apply DIR/segments.csv --by "A. Name"` for
the review rows (a run of the nine customers in three segments, and its exported table
edited; the run and the table must be left byte for byte as they were).

"""

NOTES = """
## Not in the table

| case | what happens | test |
|---|---|---|
| output directory exists | `Error: output directory OUT already exists and is not empty (use --overwrite to replace it)`, exit 2 | `test_runs.py` |
| output directory not writable | `Error: cannot create output directory OUT: Permission denied`, exit 2 | `test_runs.py` |
| disk full while writing | `Error: cannot write OUT (assignments.csv): No space left on device; nothing was written, ...`, exit 1; the previous run is unchanged | `test_runs.py` (simulated, and on a 1 MB tmpfs when run as root) |
| killed run (SIGKILL, Ctrl-C) | no output directory, or the complete previous one; Ctrl-C prints `Interrupted.` and exits 130 | `test_runs.py` |
| data larger than memory | DuckDB streams the CSV; `--max-memory 2GB` (or `[run] max_memory` in custseg.toml, or `$CUSTSEG_MAX_MEMORY`) caps it (default: 60% of a cgroup memory limit, else 25% of the machine's memory), and it spills to the temp folder (`$CUSTSEG_TEMP_DIR`); a query that cannot fit stops with `Error: INPUT: Out of Memory Error: ... (raise --max-memory, or free memory)` | `test_limits.py` |
| any other engine failure the input can cause (CSV, conversion, I/O) | `Error: INPUT: <the engine's first line>` (e.g. a CSV error with its line number) | `mixed-encodings-late` above |
| an engine failure the input cannot cause (internal, binder, catalog, parser, not implemented) | `Error: DuckDB failed while preparing INPUT: <the engine's first line> (an engine or custseg error, not a problem of the input; please report it)`, exit 1 | `tests/engines/test_engine_limits.py` |
| a setting DuckDB refuses (threads, memory cap, spill folder) | `Error: DuckDB refused SET threads = 0: Syntax Error: Must have at least 1 thread! (an engine setting, not a problem of the input)`, exit 1 | `test_limits.py` |

## The other hardening tests (`tests/hardening/`)

| file | what it proves |
|---|---|
| `test_properties.py` | hypothesis, 90 random tables of text lines per run: features do not depend on row order, TotalSales is the sum of the kept lines, each kept customer appears once, only custseg errors escape |
| `test_fuzz.py` (slow) | 30 s of mutated CSV and 30 s of mutated XLSX through read -> clean -> features, plus 30 s of coverage-guided atheris on the CSV reader when atheris is installed: features or a custseg error, nothing else |
| `test_outputs_safe.py` | cells starting with `=`, `+`, `-`, `@`, tab or CR are neutralised in every CSV (numbers stay numbers, `restore_cell` gives the value back); hostile ids and product names are escaped in report.html; pulled workbooks hold text cells, never formulas |
| `test_runs.py` | Ctrl-C at four stages and SIGKILL at five moments leave the complete previous run; reruns are byte-identical; `--overwrite` is required; full disk; read-only output; no pickle anywhere |
| `test_secrets.py` | token, password and client-credentials logins: every file, log record, message and `--debug` traceback is free of the credentials and the tokens issued |
| `test_limits.py` | `--max-memory`, `[run] max_memory` and `$CUSTSEG_MAX_MEMORY` reach DuckDB; an 8 MB cap stops in one line; (slow) 3M lines under a 512MB cap stay under 2 GB of process memory |

## Decisions

- **NaN or infinite quantities** are dropped and counted under `quantity <= 0` (DuckDB orders
  NaN above every number, so they used to be kept).
- **Mostly empty customer column**: if more than half of the lines have no customer id, the
  column is almost certainly the wrong one, so the run stops. Below half, the lines are
  dropped and counted (`dropped ... : no customer id`). A column whose filled cells are each a
  different customer is the grouped layout below, not a wrong column.
- **Reports grouped by customer** (Salesforce "Formatted Report", `_prep/_grouped.py`): a file
  is taken for one when it has total rows (`Subtotal`, `Total`, `Grand Totals (N records)`,
  `Sous-total`, `Total général`, `Sum`, `Count`, alone or followed by `: ...`, `(...)` or a
  number, in the order cell, or in the customer or product cell of a row naming no customer;
  no date) or
  `(N records)` group headers, or when at least two lines have a blank customer cell while no
  customer value is on two rows (each account named once: the layout with subtotals hidden).
  One blank customer cell, or blank cells in a file whose customers repeat on their lines
  (Online Retail's guest purchases), is a plain export: the lines are dropped as missing
  customers, as before. A grouped report's blank customer cells stop the run unless
  `--fill-down` is given: filling them silently could be wrong for a plain export, and
  dropping them loses most of the revenue. With `--fill-down` a blank cell takes the nearest
  customer above it in the file's row order (DuckDB numbers a file's rows in order, tested on
  200,000 lines read in parallel); a cell above the first customer stays blank and the line is
  dropped as a missing customer. The rows removed keep the file's numbering: a later error
  names the row in the file. Total rows are dropped in any file (a `Total` customer would
  otherwise carry the grand total); `Total Energies` and `Summit` are not labels. Spark does
  not keep a file's row order, so `--fill-down` is refused there. Looking for the layout reads
  the file once more (3M CSV lines: 1.2 to 1.5 s, where counting the rows takes 0.7 to 1.2 s).
- **Excel serial dates**: a date cell holding a five-digit number (10000 to 99999, i.e.
  1927 to 2173), as text or as a number, is read as an Excel serial day (43831 is 2020-01-01).
- **Dates in several formats**: the `--date-format` (or preset) format is tried first, then
  ISO dates and date-times; anything else is an error naming the value and row.
- **Mixed encodings**: a file that is neither all UTF-8 nor all Windows-1252 stops the run rather
  than silently garbling one of the two (`cé` and `c\\xe9` would become two customers).
- **Encodings**: a CSV that is valid UTF-8 from its first byte to its last is read as UTF-8
  (the whole file is checked, in 1 MiB chunks; UTF-16 when it starts with its byte order mark); any other is read as Windows-1252 (cp1252), what Excel writes as
  "CSV" on Western systems. cp1252 agrees with latin-1 except for bytes 0x80-0x9F, which are
  ’ € – “ ” … in cp1252 and invisible control characters in latin-1 (the old rule read
  `Café – €5 pack` as `Café \\x96 \\x805 pack`); the five bytes cp1252 leaves undefined are
  read as latin-1 reads them, as browsers do. The encoding and why are printed and recorded
  (`file.encoding`, `file.encoding_rule` in cleaning.json). `--encoding` takes any Python
  codec name (`shift_jis`, `cp1251`, `utf-16-le`...). DuckDB reads UTF-8, UTF-16 and latin-1
  itself; a file in another encoding is copied to UTF-8 in the temp folder (`[run] temp_directory`
  in custseg.toml or `$CUSTSEG_TEMP_DIR`, else the system's), read into DuckDB, and the copy removed.
- **A line longer than the reader's limit** (DuckDB's `max_line_size`, 2 MiB by default: a
  cell holding a pasted document, or line breaks the reader does not see) stops naming the
  file, the data row (found by reading the file again with Python's CSV reader) and
  `--max-line-size` with a size that reads it. On Spark, which has no such limit, the option
  is refused.
- **Several files** (`custseg run a.csv b.csv`, a quoted pattern `"exports/*.csv"` expanded by
  custseg and sorted, or a folder: every .csv, .xlsx or .parquet file under it, sorted,
  skipping hidden files, Spark's `_SUCCESS` and Excel's `~$` lock files) are read one by one
  and stacked by column name: the order of columns may differ, the names may not (the stop
  names the file and the columns missing or extra). A column whose type differs between
  files (integers in one Parquet part, decimals in another) is read as text in all and typed
  as text columns are. Files of two kinds (a CSV and a workbook) stop: save them as one kind.
  Each file's name, sha256 and rows are printed in one line and recorded; a message naming
  a data row names the file and the row in that file (`b.csv data row 17`).
- **Workbook sheets**: when other sheets than the first have its column names (order aside),
  reading the first alone would read part of the year, so the run stops naming them;
  `--sheet all` reads every sheet with the column names of the first sheet holding the
  run's columns and stacks them (sheets with other columns, such as notes or a pivot, are
  left out), `--sheet NAME` reads one.
- **A header line repeated among the data rows** (two exports joined with `cat`, the second
  file's byte order mark aside): a row whose every cell is its column's name is dropped and
  counted under `repeated_header` before any value is typed, so its `qty` and `price` never
  read as bad numbers. Rows keep their numbers: the row after a repeated header at data row
  45 is data row 46, its line in the file less one.
- **All customers identical**: a feature that has the same value for every customer carries
  no information; with rank scaling it is no longer ordered by customer id (which made up
  segments out of nothing).
- **k above the number of distinct profiles** is reported for `rank` (tied values share
  their average rank), `standard`, `robust`, `log` and `none` scaling. `rank-first` (the
  study's) ranks ties by customer id, so with it every customer is a distinct point.
- **A pickle named model.json** is rejected as invalid JSON: custseg never unpickles anything.
- **Engine errors name the input only when the input can cause them**: DuckDB's CSV,
  conversion, I/O and out-of-memory errors name the file; a setting it refuses, or an
  error of its own (internal, binder, parser), says it is not a problem of the input
  (`EngineError`). DuckDB's progress bar is turned off only where it is on (a terminal):
  in a Jupyter kernel it starts off, and DuckDB refuses any change to it there unless
  ipywidgets is installed, which made `segment()` fail in notebooks with a message that
  blamed the input file.
- **Several currencies** (issue 21): a line's money is in its currency (`--currency`; the
  salesforce-cpq preset reads `CurrencyIsoCode` when the file has it, and reads a file without
  it as one currency, printed). Lines in two or more currencies are never summed as they are:
  without `--rates` the run stops naming the currencies and their line counts; one currency
  without rates is fine and printed ("money amounts are in EUR"). With `--rates`, an amount
  in the corporate currency is `amount / rate`, a rate being Salesforce's ConversionRate:
  units of the currency per 1 unit of the corporate currency (the one marked IsCorporate, or
  else the only one whose rate is 1). Dated rates apply from their start (included) to their
  end, the next period's start (excluded). A currency with no rate, a line dated outside every
  period of its currency, a line with a customer and no currency, a rate that is not a number
  above 0, overlapping periods or not exactly one corporate currency stop the run in one line.
  Lines without a customer (and, with dated rates, without a date) are not checked: cleaning
  drops them. A saved model's rates file is not reused on new data (next year's rates
  differ): `score` and `refresh` take the new period's (`--rates`).
- **Cluster inputs and failures on Spark** (issue 25): a URL (`hdfs://`, `s3a://`, `gs://`,
  `abfss://`, `dbfs:/`, `file://`) is read by the Spark engine only (on duckdb: exit 2, one
  line); its files are listed by Spark (Hadoop's FileSystem) and its identity in run.json is
  the SHA-256 of that listing (names, sizes, modification times), never a read of the data on
  the driver; the format is `--input-format` or the parts' suffix, and an input whose parts do
  not say stops in one line. A local input is checked before Spark starts. An output that is a
  URL is refused (`-o`, exit 2): outputs are written on the driver's disk. A `spark://` master
  that does not accept a connection stops the run at once; on a cluster, no executor for
  `--spark-wait` seconds (120) at the start or during the run cancels the jobs and stops the run
  in one line; Spark's analysis errors name the input; other Spark failures are one line
  (`EngineError`), `--debug` shows the trace. The same for `score` and `refresh` of a model
  trained on Spark, which run at the model's master unless `--spark-master` (and
  `--spark-wait`) are given.
"""


def render() -> str:
    n_errors = sum(1 for c in CASES if c.code)
    counts = f"{len(CASES)} inputs, {n_errors} of them errors, {len(CASES) - n_errors} read right.\n\n"
    return INTRO + counts + render_table() + NOTES


if __name__ == "__main__":
    target = HERE.parents[1] / "docs" / "errors.md"
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target}")
