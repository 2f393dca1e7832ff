"""SegmentationResult in a notebook: the summary `_repr_html_` and `__repr__` show, cell by cell, against profiles and run.json."""

from __future__ import annotations

import json

import lxml.html
import pandas as pd
import pytest
from shared_data import small_lines_frame

from custseg import ColumnMapping, segment, write_run
from custseg._i18n import NARROW_NBSP
from custseg._report._texts import texts
from custseg._result import SUMMARY_LABELS, SegmentationResult

MAPPING = ColumnMapping(customer="Client", order="Ligne", product="Article", quantity="Qte", price="PU",
                        date="Jour", date_format="%d/%m/%Y")
HOSTILE = '<script>alert("x")</script> & "Co" <b>'
FORMULA = "=HYPERLINK(\"http://x\")"  # written to profiles.csv as '=..., shown as typed


@pytest.fixture(scope="module", params=["en", "fr"])
def run(request, tmp_path_factory):
    """The fixture's three behaviours segmented with k=3 in one language, two names made hostile, written and loaded back."""
    folder = tmp_path_factory.mktemp(f"result_{request.param}")
    small_lines_frame().to_csv(folder / "sales.csv", index=False)
    result = segment(folder / "sales.csv", mapping=MAPPING, k=3, lang=request.param)
    names = result.profiles[f"name_{request.param}"].copy()
    names.iloc[0], names.iloc[1] = HOSTILE, FORMULA
    result.profiles[f"name_{request.param}"] = names
    write_run(result, folder / "run", report=False)
    return request.param, result, SegmentationResult.load(folder / "run")


def _number(text: str) -> float:
    """A number as the report formats it, read back (1,234.5 / 1 234,5; % dropped)."""
    text = text.replace(NARROW_NBSP, "").rstrip("%")
    return float(text.replace(",", "") if "." in text or text.count(",") > 1 else text.replace(",", "."))


def test_the_html_summary_shows_each_segment_as_profiles_and_run_json_say(run):
    lang, result, loaded = run
    profiles = result.profiles.sort_values("segment_id")
    document = json.loads((loaded.directory / "run.json").read_text(encoding="utf-8"))
    for shown in (result, loaded):
        page = lxml.html.fromstring(shown._repr_html_())
        assert not page.cssselect("script, b")  # the hostile name is text, not markup
        header = [th.text_content() for th in page.cssselect("thead th")]
        assert header == [texts(lang)[key] for key in ("segment", "name", "customers", "customer_share", "revenue_share")]
        rows = [[td.text_content() for td in tr.cssselect("td")] for tr in page.cssselect("tbody tr")]
        assert len(rows) == len(profiles) == document["k"]["chosen"] == 3
        for cells, (_, profile) in zip(rows, profiles.iterrows()):
            assert cells[0] == str(profile["segment_id"])
            assert cells[1] == profile[f"name_{lang}"]
            assert _number(cells[2]) == profile["size"]
            assert _number(cells[3]) == round(profile["customer_share"] * 100, 1)
            assert _number(cells[4]) == round(profile["revenue_share"] * 100, 1)
        # by hand: three behaviours of 20 customers; revenue 20 x units x price x 1.02 (mean of 1 + 0.01 (c % 5)):
        # 20*3*500*1.02 = 30,600, 20*18*40*1.02 = 14,688, 20*45*10*1.02 = 9,180 of 54,468
        assert [cells[1] for cells in rows][:2] == [HOSTILE, FORMULA]
        assert [cells[2:] for cells in rows] == {
            "en": [["20", "33.3%", "56.2%"], ["20", "33.3%", "27.0%"], ["20", "33.3%", "16.9%"]],
            "fr": [["20", f"33,3{NARROW_NBSP}%", f"56,2{NARROW_NBSP}%"], ["20", f"33,3{NARROW_NBSP}%", f"27,0{NARROW_NBSP}%"],
                   ["20", f"33,3{NARROW_NBSP}%", f"16,9{NARROW_NBSP}%"]]}[lang]
        heading, k_line = (p.text_content() for p in page.cssselect("p"))
        customers = {"en": "60 customers", "fr": "60 clients"}[lang]
        assert heading == f"sales.csv · {customers}, {document['date_min']} → {document['date_max']}"
        assert document["date_min"] == "2021-03-01" and document["date_max"] == "2021-03-28" and document["n_customers"] == 60
        assert k_line == f"k = 3: {document['k'][f'reason_{lang}']}"


def test_the_html_summary_escapes_every_text(run):
    _, result, _ = run
    shown = result._repr_html_()
    assert HOSTILE not in shown and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;Co&quot; &lt;b&gt;" in shown
    result.run = result.run | {"input": {"name": 'a<b>&"c".csv'}}
    try:
        assert 'a&lt;b&gt;&amp;&quot;c&quot;.csv' in result._repr_html_()
    finally:
        result.run = result.run | {"input": {"name": "sales.csv"}}


def test_the_text_summary_lines_up_the_same_cells(run):
    lang, result, loaded = run
    text = repr(loaded)
    lines = text.splitlines()
    assert lines[0] == f"SegmentationResult: sales.csv · {result.summary()['customers']}"
    assert lines[1] == f"k = 3: {result.run['k'][f'reason_{lang}']}"
    assert len(lines) == 2 + 1 + 3 and HOSTILE in lines[3] and FORMULA in lines[4]
    assert lines[3].split()[0] == "1" and lines[3].endswith({"en": "56.2%", "fr": f"56,2{NARROW_NBSP}%"}[lang])
    assert len({len(line) for line in lines[2:]}) == 1  # aligned columns, the last ones right-aligned
    assert repr(result) == text


def test_the_summary_words_are_the_reports():
    for lang, labels in SUMMARY_LABELS.items():
        assert labels == {key: texts(lang)[key] for key in labels}


def test_a_table_without_dates_or_revenue_says_so(tmp_path):
    frame = pd.DataFrame({"id": [f"c{i}" for i in range(30)], "x": [float(i % 3) for i in range(30)],
                                            "y": [float(i % 3) ** 2 for i in range(30)]})
    result = segment(frame, customers=True, id_column="id", k=3)
    page = lxml.html.fromstring(result._repr_html_())
    assert "no dates in this data" in page.cssselect("p")[0].text_content()
    assert {tr.cssselect("td")[4].text_content() for tr in page.cssselect("tbody tr")} == {"–"}
