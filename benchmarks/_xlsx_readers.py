"""What parsing the S workbook costs with each .xlsx reader on the package index (issue 24).

    pip install --target /tmp/xlsx-readers python-calamine openpyxl pylightxl xlsx2csv
    PYTHONPATH=/tmp/xlsx-readers python benchmarks/_xlsx_readers.py /tmp/custseg-bench/cpq_S.xlsx [--runs 3]

Each reader, in a fresh process, reads every cell of the first sheet into memory (as the
run needs it: all rows, all columns); wall and CPU seconds, the fastest of --runs. Readers
that are not installed are listed as such. custseg reads with fastexcel (`_engines/_xlsx.py`).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

READERS = {
    "fastexcel": "import fastexcel; n = fastexcel.read_excel(PATH).load_sheet(0).to_arrow().num_rows",
    "fastexcel (typed, strict, as custseg)": (
        "import fastexcel; n = fastexcel.read_excel(PATH).load_sheet(0, schema_sample_rows=None, "
        "dtype_coercion='strict').to_arrow().num_rows"),
    "python-calamine": ("from python_calamine import CalamineWorkbook; "
                        "n = len(CalamineWorkbook.from_path(PATH).get_sheet_by_index(0).to_python())"),
    "openpyxl (read-only)": ("import openpyxl; wb = openpyxl.load_workbook(PATH, read_only=True, data_only=True); "
                             "n = sum(1 for _ in wb.worksheets[0].iter_rows(values_only=True))"),
    "pylightxl": "import pylightxl; db = pylightxl.readxl(PATH); n = len(list(db.ws(db.ws_names[0]).rows))",
    "xlsx2csv": ("import io, xlsx2csv; out = io.StringIO(); xlsx2csv.Xlsx2csv(PATH).convert(out, sheetid=1); "
                 "n = out.getvalue().count(chr(10))"),
}


def _child(code: str, path: str) -> dict:
    start, cpu = time.perf_counter(), time.process_time()
    namespace: dict = {"PATH": path}
    exec(code, namespace)  # noqa: S102 - the reader's snippet above
    return {"seconds": round(time.perf_counter() - start, 2), "cpu": round(time.process_time() - cpu, 2),
            "rows": namespace["n"]}


def main() -> None:
    path = sys.argv[1]
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 1
    results = {}
    for name, code in READERS.items():
        timings = []
        for _ in range(runs):
            done = subprocess.run([sys.executable, __file__, "--child", code, path], capture_output=True, text=True)
            if done.returncode:
                timings = [{"error": done.stderr.strip().splitlines()[-1][:120]}]
                break
            timings.append(json.loads(done.stdout))
        results[name] = min(timings, key=lambda t: t.get("seconds", 0))
        print(f"{name}: {results[name]}", flush=True)
    print("XLSX-JSON " + json.dumps(results))


if __name__ == "__main__":
    if sys.argv[1] == "--child":
        print(json.dumps(_child(sys.argv[2], sys.argv[3])))
    else:
        main()
