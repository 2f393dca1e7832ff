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
| 2 | the options are invalid or inconsistent (`UsageError`) |
| 130 | interrupted (Ctrl-C) |

A traceback is shown only with `--debug`. When a run fails, no output directory is created
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
| data larger than memory | DuckDB streams the CSV; `--max-memory 2GB` (or `[run] max_memory` in custseg.toml, or `$CUSTSEG_MAX_MEMORY`) caps it, and it spills to the temp folder (`$CUSTSEG_TEMP_DIR`); a query that cannot fit stops with `Error: INPUT: Out of Memory Error: ... (raise --max-memory, or free memory)` | `test_limits.py` |
| any other engine failure while reading | `Error: INPUT: <the engine's first line>` (e.g. a CSV error with its line number) | `mixed-encodings-late` above |

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
  dropped and counted (`dropped ... : no customer id`).
- **Excel serial dates**: a date cell holding a five-digit number (10000 to 99999, i.e.
  1927 to 2173), as text or as a number, is read as an Excel serial day (43831 is 2020-01-01).
- **Dates in several formats**: the `--date-format` (or preset) format is tried first, then
  ISO dates and date-times; anything else is an error naming the value and row.
- **Mixed encodings**: a file that is neither all UTF-8 nor all latin-1 stops the run rather
  than silently garbling one of the two (`cé` and `c\\xe9` would become two customers).
- **All customers identical**: a feature that has the same value for every customer carries
  no information; with rank scaling it is no longer ordered by customer id (which made up
  segments out of nothing).
- **k above the number of distinct profiles** is reported for `rank` (tied values share
  their average rank), `standard`, `robust`, `log` and `none` scaling. `rank-first` (the
  study's) ranks ties by customer id, so with it every customer is a distinct point.
- **A pickle named model.json** is rejected as invalid JSON: custseg never unpickles anything.
"""


def render() -> str:
    n_errors = sum(1 for c in CASES if c.code)
    counts = f"{len(CASES)} inputs, {n_errors} of them errors, {len(CASES) - n_errors} read right.\n\n"
    return INTRO + counts + render_table() + NOTES


if __name__ == "__main__":
    target = HERE.parents[1] / "docs" / "errors.md"
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target}")
