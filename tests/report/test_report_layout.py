"""The report's layout in headless Chromium, from 1024 to 1920 px, in English and French: no text box narrower
than its longest word, nothing past its card's or the page's right edge; and its A4-landscape print stylesheet."""

from __future__ import annotations

import base64

import pytest

import custseg
from custseg import _report
from custseg import _schema as S

SLOW = pytest.mark.slow  # a real-data pipeline run of its own
WIDTHS = (1024, 1280, 1600, 1920)
LANGS = ("en", "fr")

# Text boxes the approver reads. Words inside <code> (ids, paths, hashes) may break; others may not.
TEXT_BOXES = "main td, main th, main h3, main p, main li, main dd, main dt, main summary"

MEASURE_JS = """
var boxes = Array.from(document.querySelectorAll(arguments[0]));
function describe(el) {
  var where = el.closest('[id]');
  return el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ').join('.') : '')
    + ' in #' + (where ? where.id : '?');
}
var squeezed = [], broken = [], outside = [];
boxes.forEach(function (el) {
  if (!el.getClientRects().length) return;  // not shown (closed <details>)
  var style = getComputedStyle(el);
  var inner = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  var walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT, {acceptNode: function (node) {
    return node.parentElement.closest('code') ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT; }});
  var range = document.createRange(), node, match;
  while ((node = walker.nextNode())) {
    // A word: what sits between spaces; prose may also break after a hyphen ("cross-|selling"), as in print.
    var re = /[^\\s\\u00a0\\u202f-]+-?/g;
    while ((match = re.exec(node.data))) {
      range.setStart(node, match.index); range.setEnd(node, match.index + match[0].length);
      var rects = Array.from(range.getClientRects()).filter(function (r) { return r.width > 0; });
      if (!rects.length) continue;
      var tops = new Set(rects.map(function (r) { return Math.round(r.top); }));
      var width = range.getBoundingClientRect().width;
      if (tops.size > 1) broken.push(describe(el) + ': "' + match[0] + '" broken over ' + tops.size + ' lines');
      else if (width > inner + 1 && node.parentElement.closest('td, th, p, li, dd, dt, h3, summary') === el)
        squeezed.push(describe(el) + ': "' + match[0] + '" ' + Math.round(width) + ' px in ' + Math.round(inner) + ' px');
    }
  }
});
document.querySelectorAll('.card').forEach(function (card) {
  var right = card.getBoundingClientRect().right;
  card.querySelectorAll('*').forEach(function (el) {
    var r = el.getBoundingClientRect();
    if (r.width && r.right > right + 0.5) outside.push(describe(el) + ' ends ' + Math.round(r.right - right) + ' px past its card');
  });
});
document.querySelectorAll('main section').forEach(function (section) {
  var right = section.getBoundingClientRect().right;
  section.querySelectorAll('*').forEach(function (el) {
    if (el.closest('.scroll, .js-plotly-plot, svg')) return;  // a wide table scrolls in its wrapper
    var r = el.getBoundingClientRect();
    if (r.width && r.right > right + 0.5) outside.push(describe(el) + ' ends ' + Math.round(r.right - right) + ' px past its section');
  });
});
return {squeezed: squeezed, broken: broken, outside: outside,
        page: [document.documentElement.scrollWidth, window.innerWidth], checked: boxes.length};
"""

WAIT_FOR_CHARTS_JS = (
    "var done = arguments[arguments.length - 1];"
    "var wanted = document.querySelectorAll('script.plotly-figure').length;"
    "(function poll(n) { if (document.querySelectorAll('.js-plotly-plot').length >= wanted || n > 600) done();"
    " else setTimeout(function () { poll(n + 1); }, 100); })(0);")


SETTLE_JS = (  # wait until every chart fits its box, then a little longer: at most 10 s
    "var done = arguments[arguments.length - 1];"
    "function fits() { return Array.from(document.querySelectorAll('.js-plotly-plot')).every(function (gd) {"
    " return gd.getBoundingClientRect().width <= gd.parentElement.getBoundingClientRect().width + 1; }); }"
    "(function poll(n) { if ((fits() && n >= 4) || n > 100) done(); else setTimeout(function () { poll(n + 1); }, 100); })(0);")


@pytest.fixture(scope="module")
def reports(runs, tmp_path_factory):
    """reports(name, lang) -> path of that run's report in that language (French rendered once, here)."""
    made = {}

    def report(name: str, lang: str):
        if (name, lang) not in made:
            run = runs.get(name)
            if lang == "en":
                made[name, lang] = run.directory / S.REPORT_HTML
            else:
                path = tmp_path_factory.mktemp(f"{name}_{lang}") / f"report_{lang}.html"
                _report.render_report(custseg.SegmentationResult.load(run.directory), path, lang=lang)
                made[name, lang] = path
        return made[name, lang]

    return report


@pytest.fixture
def sized(browser):
    """sized(report, width, height): the report loaded in a viewport of exactly that size, charts drawn."""
    def load(report, width: int, height: int = 900) -> None:
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        if browser.current_url != report.resolve().as_uri():
            browser.get(report.resolve().as_uri())
            browser.set_script_timeout(60)
            browser.execute_async_script(WAIT_FOR_CHARTS_JS)
        # Let Plotly's responsive charts follow a new width before measuring (slower on a loaded machine).
        browser.execute_async_script(SETTLE_JS)

    yield load
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def assert_readable(browser, report, width):
    found = browser.execute_script(MEASURE_JS, TEXT_BOXES)
    where = f"{report.name} at {width} px"
    assert found["checked"] > 50, where
    assert found["broken"] == [], f"{where}: words broken mid-word: {found['broken'][:10]}"
    assert found["squeezed"] == [], f"{where}: boxes narrower than their longest word: {found['squeezed'][:10]}"
    assert found["outside"] == [], f"{where}: {found['outside'][:10]}"
    scroll_width, inner_width = found["page"]
    assert scroll_width <= inner_width, f"{where}: the page scrolls sideways ({scroll_width} > {inner_width} px)"


CASES = [(lang, width) for lang in LANGS for width in WIDTHS]  # one load per language, then resized


@pytest.mark.parametrize(("lang", "width"), CASES, ids=[f"{lang}-{width}" for lang, width in CASES])
def test_cpq_report_reads_at_every_width(lang, width, reports, browser, sized):
    report = reports("cpq", lang)
    sized(report, width)
    assert_readable(browser, report, width)


@SLOW
@pytest.mark.parametrize("name", ["online_retail", "cc_general"])
@pytest.mark.parametrize(("lang", "width"), CASES, ids=[f"{lang}-{width}" for lang, width in CASES])
def test_real_reports_read_at_every_width(name, lang, width, reports, browser, sized):
    report = reports(name, lang)
    sized(report, width)
    assert_readable(browser, report, width)


def test_summary_columns_have_sensible_widths(reports, browser, sized):
    """At 1280 px the name takes about a fifth, numbers little, the sentence and the action the rest."""
    report = reports("cpq", "fr")
    sized(report, 1280)
    widths = browser.execute_script(
        "var table = document.querySelector('.summary-table'), total = table.getBoundingClientRect().width;"
        "return Array.from(table.querySelector('tbody tr').children).map(function (td) {"
        " return td.getBoundingClientRect().width / total; });")
    name, *numbers, sentence, action = widths
    assert 0.12 <= name <= 0.22, widths
    assert all(share <= 0.12 for share in numbers), widths
    assert sentence >= 0.3 and action >= 0.22, widths


def test_print_stylesheet_a4_landscape(reports, browser, sized):
    report = reports("cpq", "en")
    sized(report, 1280)
    chart_sizes = "return Array.from(document.querySelectorAll('.js-plotly-plot')).map(function (gd) {" \
                  " return [gd._fullLayout.width, gd._fullLayout.height]; });"
    on_screen = browser.execute_script(chart_sizes)
    pdf = browser.execute_cdp_cmd("Page.printToPDF", {"landscape": True, "paperWidth": 11.69, "paperHeight": 8.27,
                                                      "printBackground": True, "preferCSSPageSize": True})
    data = base64.b64decode(pdf["data"])
    assert data.startswith(b"%PDF")
    pages = data.count(b"/Type /Page") - data.count(b"/Type /Pages")
    assert 3 <= pages <= 60, pages
    # After printing, the <details> the print script opened are closed again and the charts have their size back.
    assert browser.execute_script("return document.querySelectorAll('.paragons[open]').length") == 0
    browser.execute_async_script("var done = arguments[arguments.length - 1]; setTimeout(done, 300);")
    assert browser.execute_script(chart_sizes) == on_screen

    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        styles = browser.execute_script(
            "var card = getComputedStyle(document.querySelector('.segment-card'));"
            "var row = getComputedStyle(document.querySelector('.summary-table tbody tr'));"
            "return {nav: getComputedStyle(document.querySelector('nav')).display, card: card.breakInside,"
            " row: row.breakInside, colours: card.printColorAdjust || card.webkitPrintColorAdjust,"
            " segments: getComputedStyle(document.getElementById('segments')).breakBefore};")
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert styles == {"nav": "none", "card": "avoid", "row": "avoid", "colours": "exact", "segments": "page"}
