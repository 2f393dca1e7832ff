"""The report in headless Chromium: loads offline with no console error, every section, one 3D trace per segment."""

from __future__ import annotations

import pytest

from custseg import _schema as S

from report_helpers import HOSTILE, external_requests, open_report

SECTIONS = ("run", "k-choice", "silhouette-plot", "view-3d", "views-2d", "feature-map", "segments", "top-products", "metadata")
SLOW = pytest.mark.slow  # a real-data pipeline run of its own (10-30 s each); generated data covers the same ground
RUNS = ("mall_customers", "hostile", "lines_k2", "lines_k9", "lines_many",
        *(pytest.param(name, marks=SLOW) for name in ("online_retail", "cc_general", "cpq", "online_retail_k2", "online_retail_k9")))


@pytest.mark.parametrize("name", RUNS)
def test_report_renders_in_chromium(name, runs, browser, tmp_path, keep_screenshots):
    run = runs.get(name)
    report = run.directory / S.REPORT_HTML
    page = open_report(browser, report, tmp_path / f"report_{name}.png")
    keep_screenshots(page.screenshot)

    assert page.console_errors == []
    assert external_requests(page.requests, report) == []
    for section in SECTIONS:
        assert browser.find_elements("id", section), f"section #{section} missing"
    k = run.result.k
    segments_3d = browser.execute_script(
        "var gd = document.querySelector('#view-3d .js-plotly-plot');"
        "return gd.data.filter(function (t) { return t.type === 'scatter3d' && t.visible !== false"
        " && String(t.meta).indexOf('segment-') === 0; }).map(function (t) { return t.meta; });")
    assert sorted(segments_3d) == sorted(f"segment-{i}" for i in range(1, k + 1))
    assert len(browser.find_elements("css selector", ".segment-card")) == k
    n_pairs = len(browser.find_elements("css selector", "#views-2d .js-plotly-plot"))
    assert n_pairs == 3
    has_map = bool(browser.find_elements("css selector", "#feature-map .js-plotly-plot"))
    assert has_map == (len(run.result.features) > 3)
    assert page.screenshot.stat().st_size > 50_000


def test_hostile_names_show_as_text(runs, browser, tmp_path):
    run = runs.get("hostile")
    report = run.directory / S.REPORT_HTML
    open_report(browser, report, tmp_path / "hostile.png")
    cells = browser.execute_script(
        "return Array.from(document.querySelectorAll('.product-table td')).map(function (td) { return td.textContent; });")
    assert HOSTILE in cells
    titles = [h.text for h in browser.find_elements("css selector", ".segment-card h3")]
    assert any(HOSTILE in title for title in titles)
    injected = browser.execute_script(
        "return Array.from(document.querySelectorAll('script')).filter(function (s) {"
        " return s.textContent.indexOf('alert(1)') >= 0 && s.className !== 'plotly-figure'; }).length;")
    assert injected == 0
    legend = browser.execute_script(
        "return Array.from(document.querySelectorAll('#view-3d .legendtext')).map(function (e) { return e.textContent; });")
    assert any(HOSTILE in text for text in legend)  # plotly shows the escaped name as text
