"""Helpers of the report tests: real pipeline runs built on demand, and opening a report in Chromium."""

from __future__ import annotations

import base64
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import custseg
from custseg import ColumnMapping
from custseg._review import read_review_table

SHARED_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
HOSTILE = "<script>alert(1)</script>"
MAX_SHOT_PIXELS = 8000
MANY_FEATURES = ("TotalSales", "OrderCount", "AvgOrderValue", "LineCount", "Units", "ProductCount")
LINES = ColumnMapping(customer="cust", order="order", product="sku", quantity="qty", price="unit_price")


def shared(name: str) -> Path:
    """Path of a shared dataset, or skip the test when the folder is absent."""
    path = SHARED_DATA / name
    if not path.is_file():
        pytest.skip("../shared/data not found: real-data tests need the shared datasets")
    return path


def sales_lines(n_customers: int = 60, seed: int = 3, hostile: bool = True) -> pd.DataFrame:
    """Generated sales lines; with `hostile`, a product and a customer id are HTML/JS injections."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n_customers):
        customer = f"{HOSTILE}{c}" if c == 0 and hostile else f"C{c:04d}"
        for o in range(int(rng.integers(1, 6))):
            for _ in range(int(rng.integers(1, 4))):
                product = HOSTILE if hostile and rng.random() < 0.5 else f"P{int(rng.integers(1, 30))}"
                rows.append({"cust": customer, "order": f"O{c}-{o}", "sku": product, "qty": int(rng.integers(1, 10)),
                             "unit_price": float(rng.choice([2.5, 10.0, 99.0])) * (1 + c % 7)})
    return pd.DataFrame(rows)


@dataclass
class Run:
    name: str
    directory: Path
    result: custseg.SegmentationResult


class Runs:
    """Real pipeline runs, written with `write_run` (which renders report.html), built on demand."""

    def __init__(self, root: Path):
        self.root = root
        self.cache: dict[str, Run] = {}

    def get(self, name: str) -> Run:
        if name not in self.cache:
            self.cache[name] = self._build(name)
        return self.cache[name]

    def _reviewed(self, name: str) -> Run:
        """The cpq run after a review merged its last segment into the one before: that segment's stability was
        not measured, the others' kept."""
        directory = self.root / name
        shutil.copytree(self.get("cpq").directory, directory)
        export = custseg.review(directory, export=self.root / f"{name}.csv").exported
        table = read_review_table(export)
        table.loc[table.index[-1], "merge_into"] = table["segment_id"].iloc[-2]
        table.to_csv(export, index=False)
        custseg.review(directory, apply=export, by="A. Reviewer")
        return Run(name, directory, custseg.SegmentationResult.load(directory))

    def _build(self, name: str) -> Run:
        if name == "cpq_reviewed":
            return self._reviewed(name)
        if name == "online_retail":
            result = custseg.segment(shared("online_retail.csv"), preset="online-retail")
        elif name.startswith("online_retail_k"):
            result = custseg.segment(shared("online_retail.csv"), preset="online-retail", k=int(name.rsplit("k", 1)[1]))
        elif name == "cc_general":
            result = custseg.segment(shared("cc_general.csv"), customers=True, id_column="CUST_ID")
        elif name == "wholesale":  # no id column: the row number is the customer
            result = custseg.segment(shared("wholesale_customers.csv"), customers=True)
        elif name == "mall_customers":
            result = custseg.segment(shared("mall_customers.csv"), customers=True, id_column="CustomerID")
        elif name == "mall_from_2":  # a range under the business minimum: k=2 is not advised
            result = custseg.segment(shared("mall_customers.csv"), customers=True, id_column="CustomerID", k_range=(2, 6))
        elif name == "cpq":
            from custseg._workflows._demo_data import write_cpq_export

            export = write_cpq_export(self.root / "cpq_export.parquet", n_lines=60_000, n_accounts=1_500, seed=7)
            result = custseg.segment(export, preset="salesforce-cpq")
        elif name.startswith("lines_k"):
            result = custseg.segment(sales_lines(600, seed=5, hostile=False), mapping=LINES, k=int(name.rsplit("k", 1)[1]))
        elif name == "lines_many":  # six features: the map of all features shows
            result = custseg.segment(sales_lines(600, seed=9, hostile=False), mapping=LINES, features=MANY_FEATURES)
        elif name == "hostile":
            result = custseg.segment(sales_lines(), mapping=LINES, k=3)
            result.profiles.loc[0, "name_en"] = HOSTILE  # a segment name a user edited
        else:
            raise KeyError(name)
        directory = custseg.write_run(result, self.root / name)
        return Run(name, directory, result)


@dataclass
class Page:
    console_errors: list[dict]
    requests: list[str]
    screenshot: Path


def open_report(driver, report: Path, screenshot: Path) -> Page:
    """Load `report`, wait for the charts, collect console errors and requests, save a full-page screenshot."""
    driver.get_log("browser"), driver.get_log("performance")  # drop what earlier pages left
    driver.get(report.resolve().as_uri())
    driver.set_script_timeout(60)
    driver.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "var wanted = document.querySelectorAll('script.plotly-figure').length;"
        "(function poll(n) { if (document.querySelectorAll('.js-plotly-plot').length >= wanted || n > 600) done();"
        " else setTimeout(function () { poll(n + 1); }, 100); })(0);")
    console = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    requests = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            requests.append(message["params"]["request"]["url"])
    # Grow the viewport to the whole page so the shot is one real layout (no stitched repeats).
    width, height = driver.execute_script("return [window.innerWidth, document.documentElement.scrollHeight]")
    # Software GL renders at most ~8192 px in one surface: scale a longer page down to fit.
    scale = min(1.0, MAX_SHOT_PIXELS / height)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": scale, "mobile": False})
    try:
        driver.execute_async_script("var done = arguments[arguments.length - 1]; setTimeout(done, 500);")
        height = driver.execute_script("return document.documentElement.scrollHeight")
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"clip": {"x": 0, "y": 0, "width": width, "height": height,
                                                                          "scale": 1}})
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    screenshot.write_bytes(base64.b64decode(shot["data"]))
    return Page(console, requests, screenshot)


def external_requests(urls: list[str], report: Path) -> list[str]:
    """Requests that left the file: anything but the report itself and inline data/blob URLs."""
    own = report.resolve().as_uri()
    return [u for u in urls if u != own and not u.startswith(("data:", "blob:"))]




def embedded_figures(html: str) -> dict[str, dict]:
    """Each chart of a report, as the browser gets it: {"heatmap": figure JSON, "pairs": [...], ...}, by section."""
    found: dict[str, list[dict]] = {}
    for target, text in re.findall(r'<script type="application/json" class="plotly-figure" data-target="fig-([a-z0-9-]+)-\d+">'
                                    r'(.*?)</script>', html, re.S):
        found.setdefault(target, []).append(json.loads(text))
    return found


def drawn(value):
    """Plotly's JSON value as a plain list: typed arrays ({"dtype", "bdata", "shape"}) decoded."""
    if isinstance(value, dict) and "bdata" in value:
        array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        if "shape" in value:
            array = array.reshape([int(n) for n in str(value["shape"]).split(",")])
        return array.tolist()
    return value


def shown_number(text: str, lang: str = "en") -> tuple[float, float]:
    """(value, tolerance) of a number as a report prints it ('12,345.6', '12 345,6 %', '< 0.001'): the
    tolerance is half a unit of its last printed decimal, so a cell can be checked against the data."""
    text = text.strip().replace("\u202f", "").replace("\xa0", "").replace("−", "-")
    percent = text.endswith("%")
    text = text.rstrip("%").strip()
    if lang == "fr":
        text = text.replace(" ", "").replace(",", ".")
    else:
        text = text.replace(",", "")
    assert re.fullmatch(r"-?\d+(\.\d+)?", text), f"not a number as printed: {text!r}"
    decimals = len(text.split(".")[1]) if "." in text else 0
    scale = 0.01 if percent else 1.0
    return float(text) * scale, 0.5 * 10 ** -decimals * scale + 1e-12


def segment_of(label: str) -> int:
    """The segment id of a chart label such as '3. Key accounts'."""
    return int(re.match(r"(\d+)\. ", label).group(1))


def run_files(directory: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(profiles.csv, assignments.parquet) read straight from a run folder: the truth the report must show."""
    return (pd.read_csv(directory / "profiles.csv", keep_default_na=False, na_values=[""]).set_index("segment_id"),
            pd.read_parquet(directory / "assignments.parquet"))
