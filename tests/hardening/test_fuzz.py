"""Bounded fuzz runs of the CSV and XLSX readers (slow: CI runs them with -m slow).

Valid inputs are mutated (bytes flipped, cut, spliced, special tokens inserted) and read
through the whole read -> type -> clean -> features path: each must give features or a
custseg error, never another exception. Deterministic seeds; the time budget bounds the run.
A failing input is saved beside the test's tmp dir for replay. With atheris installed, the
CSV reader also gets a coverage-guided run.
"""

from __future__ import annotations

import importlib.util
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hardening_data import csv_text, good_rows, rows_as_cells, write_xlsx

from custseg._config._columns import ColumnMapping
from custseg._config._run import RunConfig
from custseg._errors import CustsegError
from custseg._workflows._segment import prepare

MAPPING = ColumnMapping(customer="cust", order="inv", quantity="qty", price="price", date="day", date_format="%d/%m/%Y")
CONFIG = RunConfig(mapping=MAPPING)
SECONDS_PER_READER = 30
TOKENS = [b",", b";", b"\t", b'"', b"\n", b"\r\n", b"\x00", b"\xff\xfe", b"\xef\xbb\xbf", b"NaN", b"-inf", b"1e308", b"=1+1",
          b"\xe9", b"\xc3\xa9", b"43831", b"31/02/2020", b"", b"cust", b"price", b"9" * 40, b"PK\x03\x04"]


def mutate(data: bytes, rng: random.Random) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        choice = rng.random()
        at = rng.randrange(len(data) + 1)
        if choice < 0.3 and data:
            data[min(at, len(data) - 1)] = rng.randrange(256)
        elif choice < 0.5:
            data[at:at] = rng.choice(TOKENS)
        elif choice < 0.65:
            del data[at:at + rng.randint(1, 64)]
        elif choice < 0.8 and data:
            start = rng.randrange(len(data))
            data[at:at] = data[start:start + rng.randint(1, 200)]
        else:
            data = data[: max(1, at)]
    return bytes(data)


def fuzz(seed_file: Path, folder: Path, seconds: float, seed: int) -> tuple[int, int]:
    rng = random.Random(seed)
    original = seed_file.read_bytes()
    tried = errors = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        case = folder / f"case{seed_file.suffix}"
        case.write_bytes(mutate(original, rng))
        tried += 1
        try:
            prepare(case, CONFIG)
        except CustsegError as exc:
            errors += 1
            assert str(exc) and "Traceback" not in str(exc)
        except Exception:
            crash = folder / f"crash-{tried}{seed_file.suffix}"
            crash.write_bytes(case.read_bytes())
            raise AssertionError(f"{type(sys.exc_info()[1]).__name__} escaped on {crash}") from sys.exc_info()[1]
    return tried, errors


@pytest.mark.slow
def test_fuzz_csv_reader(tmp_path):
    seed_file = tmp_path / "seed.csv"
    seed_file.write_text(csv_text(good_rows(40)), encoding="utf-8")
    tried, errors = fuzz(seed_file, tmp_path, SECONDS_PER_READER, seed=7)
    print(f"csv: {tried} inputs, {errors} custseg errors, 0 other exceptions")
    assert tried > 20


@pytest.mark.slow
def test_fuzz_xlsx_reader(tmp_path):
    seed_file = write_xlsx(tmp_path / "seed.xlsx", {"Sales": [["cust", "inv", "qty", "price", "day"]] + rows_as_cells(good_rows(40))})
    tried, errors = fuzz(seed_file, tmp_path, SECONDS_PER_READER, seed=11)
    print(f"xlsx: {tried} inputs, {errors} custseg errors, 0 other exceptions")
    assert tried > 20


ATHERIS_HARNESS = """
import sys, tempfile, pathlib, atheris
with atheris.instrument_imports(include=["custseg"]):
    from custseg._workflows._segment import prepare
from custseg._config._columns import ColumnMapping
from custseg._config._run import RunConfig
from custseg._errors import CustsegError
CONFIG = RunConfig(mapping=ColumnMapping(customer="cust", order="inv", quantity="qty", price="price", date="day"))
path = pathlib.Path(tempfile.mkdtemp()) / "case.csv"

def one(data):
    path.write_bytes(b"cust,inv,qty,price,day\\n" + data)
    try:
        prepare(path, CONFIG)
    except CustsegError:
        pass

atheris.Setup(sys.argv, one)
atheris.Fuzz()
"""


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("atheris") is None, reason="atheris is not installed (optional)")
def test_atheris_csv_reader(tmp_path):
    run = subprocess.run([sys.executable, "-c", ATHERIS_HARNESS, f"-max_total_time={SECONDS_PER_READER}", "-rss_limit_mb=4096",
                          f"-artifact_prefix={tmp_path}/"], capture_output=True, text=True, timeout=SECONDS_PER_READER * 4 + 240)
    assert run.returncode == 0, run.stderr[-3000:]
