"""A chart is a number too: every value the report draws or prints equals the run's files, cell by cell.

Each test reads report.html as the browser gets it (the charts' embedded JSON, the tables'
cells) and compares it with profiles.csv, assignments.parquet, k_selection.csv and
top_products.csv read straight from the run folder, matching cells by their (segment,
feature) labels, never by position: a chart that draws a row in another order than its
labels fails here.
"""

from __future__ import annotations

import html as htmllib
import json

import lxml.html
import numpy as np
import pandas as pd
import pytest

import custseg
from custseg import _schema as S
from custseg._profile import label_of
from custseg._report import render_report, report_data, report_figures
from custseg._report._data import run_labels
from custseg._report._png import png_names
from custseg._report._texts import texts
from report_helpers import drawn, embedded_figures, run_files, segment_of, shown_number

SLOW = pytest.mark.slow
RUNS = ("hostile", "lines_k2", "lines_k9", "lines_many", "mall_customers", "mall_from_2", "wholesale", "cpq", "cpq_reviewed",
        "online_retail", pytest.param("cc_general", marks=SLOW))


@pytest.fixture(params=RUNS)
def run(request, runs):
    return runs.get(request.param)


def _html(run) -> str:
    return (run.directory / S.REPORT_HTML).read_text(encoding="utf-8")


def _features_by_label(run, lang: str = "en") -> dict[str, str]:
    """Label shown -> feature column; labels must be unique or a chart could not be read at all."""
    labels = run_labels(run.result)
    described = [*run.result.features, *run.result.run.get("supplementary", [])]
    shown = {htmllib.escape(label_of(f, labels, lang)): f for f in described}
    assert len(shown) == len(described), f"two features share a label: {shown}"
    return shown


def _close(shown: str, truth: float, lang: str = "en") -> None:
    value, tolerance = shown_number(shown, lang)
    assert abs(value - truth) <= tolerance + 1e-9 * abs(truth), f"{shown!r} shown for {truth!r}"


def _check_heatmap(figure: dict, run) -> None:
    profiles, _ = run_files(run.directory)
    trace = figure["data"][0]
    by_label = _features_by_label(run)
    z, medians, z_texts = drawn(trace["z"]), trace["text"], trace["customdata"]
    assert sorted(segment_of(htmllib.unescape(y)) for y in trace["y"]) == sorted(profiles.index)
    assert sorted(by_label[x] for x in trace["x"]) == sorted(run.result.features)
    for i, y in enumerate(trace["y"]):
        segment = segment_of(htmllib.unescape(y))
        for j, x in enumerate(trace["x"]):
            feature = by_label[x]
            assert z[i][j] == pytest.approx(profiles.loc[segment, f"z_{feature}"], abs=1e-12), (segment, feature)
            _close(z_texts[i][j], profiles.loc[segment, f"z_{feature}"])
            _close(medians[i][j], profiles.loc[segment, f"median_{feature}"])


def test_heatmap_cells_are_the_profiles_centres(run):
    figure = embedded_figures(_html(run))["heatmap"][0]
    _check_heatmap(figure, run)
    menu = figure["layout"]["updatemenus"][0]["buttons"]
    trace = figure["data"][0]
    assert [b["args"][0]["text"][0] for b in menu] == [trace["text"], trace["customdata"]]  # the button swaps the same cells


def test_png_slides_draw_the_same_cells(runs):
    run = runs.get("cpq")
    slides = png_names(report_figures(report_data(run.result)))
    heatmap = next(fig for name, fig in slides.items() if name.endswith("_heatmap.png"))
    _check_heatmap(json.loads(heatmap.to_json()), run)


def _axis_features(layout: dict, by_label: dict, three_d: bool) -> list[str]:
    axes = [layout["scene"][a] for a in ("xaxis", "yaxis", "zaxis")] if three_d else [layout["xaxis"], layout["yaxis"]]
    titles = [a["title"]["text"].removesuffix(" (z)").removesuffix(" (log)") for a in axes]
    return [by_label[t] for t in titles]


@pytest.mark.parametrize("units", ["original", "z"])
def test_scatter_points_and_centres_are_the_customers_and_profiles(run, units, tmp_path):
    """Every drawn customer sits at its own values, in its own segment; every centre at its segment's median (or z)."""
    path = run.directory / S.REPORT_HTML if units == "original" else render_report(run.result, tmp_path / "z.html", units=units)
    profiles, assignments = run_files(run.directory)
    by_customer = assignments.set_index(assignments[S.CUSTOMER_ID].astype(str))
    figures = embedded_figures(path.read_text(encoding="utf-8"))
    scatters = figures.get("scatter-3d", []) + figures["pairs"]
    assert scatters
    by_label = _features_by_label(run)
    for fig in scatters:
        three_d = "scene" in fig["layout"]
        features = _axis_features(fig["layout"], by_label, three_d)
        keys = ("x", "y", "z")[: len(features)]
        visible = [t for t in fig["data"] if t.get("visible") is not False]
        drawn_segments = sorted(int(t["meta"].split("-")[1]) for t in visible if t["meta"].startswith("segment-"))
        assert drawn_segments == sorted(profiles.index)
        for trace in visible:
            if trace["meta"] == "centers":
                for i, name in enumerate(trace["text"]):
                    segment = segment_of(htmllib.unescape(name))
                    for key, f in zip(keys, features):
                        column = f"median_{f}" if units == "original" else f"z_{f}"
                        assert drawn(trace[key])[i] == pytest.approx(profiles.loc[segment, column]), (segment, f)
                continue
            segment = int(trace["meta"].split("-")[1])
            customers = by_customer.loc[[htmllib.unescape(c) for c in trace["text"]]]
            assert (customers[S.SEGMENT_ID] == segment).all()
            for key, f in zip(keys, features):
                column = f if units == "original" else S.z_column(f)
                np.testing.assert_allclose(drawn(trace[key]), customers[column].to_numpy(dtype=np.float32), rtol=1e-6)


def test_scatters_open_in_original_units_with_log_axes_for_money(runs):
    run = runs.get("cpq")
    fig = embedded_figures(_html(run))["scatter-3d"][0]
    axes = {fig["layout"]["scene"][a]["title"]["text"]: fig["layout"]["scene"][a]["type"] for a in ("xaxis", "yaxis", "zaxis")}
    assert any(title.endswith(" (log)") for title in axes)
    assert all(kind == ("log" if title.endswith(" (log)") else "linear") for title, kind in axes.items())
    assert not any(title.endswith(" (z)") for title in axes)


def test_share_bars_are_the_profiles_shares(run):
    profiles, _ = run_files(run.directory)
    bars = embedded_figures(_html(run))["shares"][0]["data"]
    columns = ["customer_share"] + (["revenue_share"] if profiles["revenue_share"].notna().any() else [])
    assert len(bars) == len(columns)
    for trace, column in zip(bars, columns):
        for x, y, text in zip(drawn(trace["x"]), trace["y"], trace["text"]):
            segment = segment_of(htmllib.unescape(y))
            assert x == pytest.approx(profiles.loc[segment, column])
            _close(text, profiles.loc[segment, column])


def test_k_choice_chart_and_table_are_the_k_selection_csv(run):
    table = pd.read_csv(run.directory / S.K_SELECTION_CSV).set_index("k")
    min_share = run.result.run["config"]["min_share"]
    page = lxml.html.fromstring(_html(run))
    t = texts("en")
    headers = [th.text_content().strip() for th in page.cssselect("table.k-table thead th")]
    by_header = {t[f"{c}_short"]: c for c in ("jaccard_min", "stability_ari", "gap", "inertia_ratio", "bic")}
    extras = {i: by_header[h] for i, h in enumerate(headers) if h in by_header}  # the optional columns, by their header
    assert sorted(extras.values()) == sorted(c for c in by_header.values() if c in table.columns)
    for row in page.cssselect("table.k-table tbody tr"):
        cells = _cells(row)
        truth = table.loc[int(cells[0])]
        for shown, column in zip(cells[1:6], ("inertia", "silhouette", "calinski_harabasz", "davies_bouldin", "min_share")):
            _close(shown, truth[column])
        for i, column in extras.items():
            if pd.isna(truth[column]):  # a k whose Jaccard was not measured (it could not change the choice)
                assert cells[i] == "–"
            else:
                _close(cells[i], truth[column])
        if "votes" in table.columns:
            assert cells[headers.index(t["votes"])] == str(truth["votes"])
        remark = cells[-1]
        assert ("too small" in remark) == (not truth["eligible"] and truth["min_share"] < min_share)
        unstable = not truth["eligible"] and truth["jaccard_min"] < 0.6 if "jaccard_min" in truth.index else False
        assert ("unstable" in remark) == unstable
        assert ("business minimum" in remark) == (not truth["eligible"] and truth["min_share"] >= min_share
                                                  and not unstable)
        assert "()" not in remark
        assert ("chosen" in remark) == bool(truth["chosen"])
    notes = [p.text_content() for p in page.cssselect("p.jaccard-note")]
    measured = table.index[table["jaccard_min"].notna()].tolist() if "jaccard_min" in table.columns else []
    assert notes == ([t["jaccard_unmeasured"].format(ks=", ".join(map(str, measured)))]
                     if "jaccard_min" in table.columns and table["jaccard_min"].isna().any() else [])
    figures = embedded_figures(_html(run))
    if "k-selection" not in figures:
        assert run.result.run["k"]["rule"] == "given" or len(run.result.k_selection) == 1
        return
    t = texts("en")
    metrics = {t[m]: m for m in ("inertia", "silhouette", "calinski_harabasz", "davies_bouldin")}
    lines = [trace for trace in figures["k-selection"][0]["data"] if trace.get("name") in metrics]
    assert sorted(metrics[trace["name"]] for trace in lines) == sorted(metrics.values())
    for trace in lines:
        for k, value in zip(drawn(trace["x"]), drawn(trace["y"])):
            assert value == pytest.approx(table.loc[k, metrics[trace["name"]]])


def test_silhouettes_drawn_are_each_customers_own(run):
    _, assignments = run_files(run.directory)
    fig = embedded_figures(_html(run))["silhouette"][0]
    for trace in fig["data"]:
        if trace.get("type") != "scatter" or trace.get("fill") != "toself":
            continue
        segment = segment_of(htmllib.unescape(trace["name"]))
        own = assignments.loc[assignments[S.SEGMENT_ID] == segment, S.SILHOUETTE].to_numpy(dtype=np.float32)
        values = np.asarray(drawn(trace["x"])[1:-1], dtype=np.float32)  # the outline's two zeros closed the shape
        assert len(values) <= len(own)
        assert np.isin(values, own).all()
        if len(assignments) <= 20_000:
            np.testing.assert_array_equal(np.sort(values), np.sort(own))


def test_map_puts_each_customer_in_its_segment(run):
    figures = embedded_figures(_html(run))
    if "map" not in figures:
        assert len(run.result.features) <= 3
        return
    _, assignments = run_files(run.directory)
    segment_of_customer = assignments.set_index(assignments[S.CUSTOMER_ID].astype(str))[S.SEGMENT_ID]
    for trace in figures["map"][0]["data"]:
        segment = segment_of(htmllib.unescape(trace["name"]))
        assert (segment_of_customer.loc[[htmllib.unescape(c) for c in trace["text"]]] == segment).all()


def _cells(row) -> list[str]:
    return [td.text_content().strip() for td in row.findall("td")]


def _check_tables(page, profiles: pd.DataFrame, run, lang: str) -> None:
    t = texts(lang)
    revenue = profiles["revenue_share"].notna().any()
    summary = page.cssselect("table.summary-table tbody tr")
    assert sorted(int(r.get("data-segment")) for r in summary) == sorted(profiles.index)
    sentence = "summary" if f"summary_{lang}" in profiles.columns else "description"
    for row in summary:
        segment, cells = int(row.get("data-segment")), _cells(row)
        p = profiles.loc[segment]
        assert cells[0] == f"{segment}. {p[f'name_{lang}']}"
        customers = row.findall("td")[1]
        _close(customers.text.strip(), p["size"], lang)
        _close(customers.cssselect(".note")[0].text_content(), p["customer_share"], lang)
        if revenue:
            _close(cells[2], p["revenue_share"], lang)
        assert cells[-2] == p[f"{sentence}_{lang}"] and cells[-1] == p[f"action_{lang}"]
    cards = page.cssselect("article.segment-card")
    assert sorted(int(c.get("data-segment")) for c in cards) == sorted(profiles.index)
    by_label = {htmllib.unescape(k): v for k, v in _features_by_label(run, lang).items()}
    for card in cards:
        segment = int(card.get("data-segment"))
        p = profiles.loc[segment]
        assert card.cssselect("h3")[0].text_content().strip() == f"{segment}. {p[f'name_{lang}']}"
        stability = card.cssselect("p.stability")
        if "stability_jaccard" in p.index and pd.notna(p["stability_jaccard"]):  # the bootstrap Jaccard and its word
            sentence = stability[0].text_content()
            _close(sentence.split()[1], p["stability_jaccard"], lang)
            assert f": {p[f'stability_{lang}']}," in sentence
        elif isinstance(p.get(f"stability_{lang}"), str):  # merged at a review: "not measured", said on the card
            assert p[f"stability_{lang}"] == {"en": "not measured", "fr": "non mesurée"}[lang]
            assert [e.text_content() for e in stability] == [texts(lang)["stability_not_measured"]]
        else:
            assert stability == []
        listed = [[code.text_content() for code in para.cssselect("code")] for para in card.cssselect("details.paragons p")]
        expected = [str(p.get(column) or "").split() for column in ("paragons", "most_distinct")]
        assert listed == (expected if expected[0] else [])  # the most typical, then the most distinct customers
        rows = card.cssselect("tr.vtest-row")
        assert sorted(r.get("data-feature") for r in rows) == sorted(by_label.values())
        for row in rows:
            feature, cells = row.get("data-feature"), _cells(row)
            label = row.cssselect("td.feature-label")[0].text.strip()
            assert by_label[label] == feature
            _close(cells[1], p[f"median_{feature}"], lang)
            assert cells[2] == t[f"level_{p[f'level_{feature}']}"]
            _close(cells[3], p[f"vtest_{feature}"], lang)
        vtests = [abs(profiles.loc[segment, f"vtest_{r.get('data-feature')}"]) for r in rows]
        assert vtests == sorted(vtests, reverse=True)  # the card's order is by |v-test|; its values are by feature
    appendix = page.cssselect("table.feature-table tbody tr")
    assert len(appendix) == len(profiles) * len(by_label)
    for row in appendix:
        segment, feature, cells = int(row.get("data-segment")), row.get("data-feature"), _cells(row)
        p = profiles.loc[segment]
        assert cells[0] == str(segment) and cells[2] == feature
        for shown, statistic in zip(cells[3:7], ("median", "mean", "z", "vtest")):
            column = f"{statistic}_{feature}"
            if column in p.index and pd.notna(p[column]):
                _close(shown, p[column], lang)
            else:
                assert shown == "–"
        assert cells[8] == t[f"level_{p[f'level_{feature}']}"]
    naming = page.cssselect("table.naming-table tbody tr")
    assert sorted(int(r.get("data-segment")) for r in naming) == sorted(profiles.index)
    for row in naming:
        segment, cells = int(row.get("data-segment")), _cells(row)
        p = profiles.loc[segment]
        assert cells[1:4] == [p[f"name_{lang}"], p["name_rule"], p["action_rule"]]
        if revenue:
            _close(cells[4], p["revenue_lift"], lang)
    for row in page.cssselect("table.segment-table tbody tr"):
        segment, cells = int(row.get("data-segment")), _cells(row)
        p = profiles.loc[segment]
        assert cells[1] == p[f"name_{lang}"]
        _close(cells[2], p["size"], lang)
        _close(cells[3], p["customer_share"], lang)
        if revenue:
            _close(cells[4], p["revenue"], lang)
            _close(cells[5], p["revenue_share"], lang)


def test_summary_cards_and_tables_are_the_profiles(run):
    profiles, _ = run_files(run.directory)
    _check_tables(lxml.html.fromstring(_html(run)), profiles, run, "en")


@pytest.mark.parametrize("name", ["cpq", "cpq_reviewed", "mall_customers"])
def test_french_report_shows_the_same_numbers(runs, name, tmp_path):
    run = runs.get(name)
    page = lxml.html.fromstring(render_report(run.result, tmp_path / "fr.html", lang="fr").read_text(encoding="utf-8"))
    profiles, _ = run_files(run.directory)
    _check_tables(page, profiles, run, "fr")


def test_top_products_tables_are_the_csv(run):
    top = pd.read_csv(run.directory / S.TOP_PRODUCTS_CSV, dtype={"product": str, "label": str}, keep_default_na=False)
    page = lxml.html.fromstring(_html(run))
    tables = page.cssselect("table.product-table")
    if top.empty:
        assert tables == []
        return
    for block in page.cssselect("#top-products .products > div"):
        segment = segment_of(block.cssselect("h3")[0].text_content().strip())
        expected = top[top[S.SEGMENT_ID] == segment].sort_values("rank")
        rows = [_cells(r) for r in block.cssselect("tbody tr")]
        assert [r[1] for r in rows] == expected["product"].astype(str).tolist()
        for cells, truth in zip(rows, expected.to_dict("records")):
            assert int(cells[0]) == truth["rank"]
            _close(cells[3], float(truth["revenue"]))
            _close(cells[4], float(truth["share"]))
            _close(cells[5], float(truth["lift"]))


def test_confidence_sentences_are_the_k_table(run):
    """The approver's 'how sure we are' quotes the vote (and its ties), the stability and the silhouette of the
    chosen k; each sentence's verdict is the one its own number gives (a silhouette of 0.45 is never 'under 0.25')."""
    table = pd.read_csv(run.directory / S.K_SELECTION_CSV).set_index("k")
    k, info = run.result.k, run.result.run["k"]
    page = lxml.html.fromstring(_html(run))
    sentences = [li.text_content() for li in page.cssselect("#confidence li")]
    if info["rule"] == "given" or len(table) == 1:
        assert sentences[0] == f"{k} segments: the analyst set this number; the checks did not choose it."
    else:
        votes = int(table.loc[k, "votes"])
        first = f"{k} segments: {votes} of the {int(table['votes'].sum())} votes cast by the checks of the number of segments chose {k}."
        tied = [j for j in table.index if j != k and table.loc[j, "eligible"] and table.loc[j, "votes"] == votes]
        assert sentences[0].startswith(first)
        assert (f"k={', '.join(map(str, tied))} had as many votes; the method keeps the smaller number in a tie"
                in sentences[0]) == bool(tied)
        assert all(j > k for j in tied)  # the tie went to the smaller k, as the sentence says
        assert any("largest number of segments tried" in s for s in sentences) == (k == table.index.max())
    if "stability_ari" in table.columns and pd.notna(table.loc[k, "stability_ari"]):
        stability = next(s for s in sentences if "adjusted Rand" in s)
        _close(stability.split("agreement ")[1].split(" ")[0], table.loc[k, "stability_ari"])
        assert ("come back" in stability) == (table.loc[k, "stability_ari"] >= 0.8)
    structure, silhouette, hopkins = sentences[-1], table.loc[k, "silhouette"], info.get("hopkins")
    copies = info.get("structure")  # the chosen k against copies without groups decides when measured
    _close(structure.split("average silhouette ")[1].split(" ")[0], silhouette)
    if copies is not None and not copies["natural_groups"]:
        assert structure.startswith("The data have no clear natural groups: K-means finds segments almost as good on "
                                    "copies of the data built without groups")
        _close(structure.split(" against ")[1].split(" ")[0], copies["silhouette_copies"])
    elif copies is not None:
        assert structure.startswith("Customers sit clearly" if silhouette >= 0.5 else "The segments are real but overlap")
    elif silhouette < 0.25:
        assert structure.startswith("The data have no natural groups")
    elif hopkins is not None and hopkins <= 0.7:
        assert "no clear natural groups (Hopkins statistic" in structure and "under 0.25" not in structure
        _close(structure.split("Hopkins statistic ")[1].split(",")[0], hopkins)
    else:
        assert "Hopkins" not in structure and not structure.startswith("The data have no natural groups")
        assert structure.startswith("Customers sit clearly" if silhouette >= 0.5 else "The segments are real but overlap")


def test_data_without_groups_are_said_to_have_none(tmp_path):
    """Uniform noise has no natural groups: the first screen says so in plain words, not as an index value."""
    rng = np.random.default_rng(4)
    noise = pd.DataFrame({"id": [f"c{i}" for i in range(600)], **{c: rng.uniform(size=600) for c in ("a", "b", "c")}})
    result = custseg.segment(noise, customers=True, id_column="id", k_range=(3, 5))
    page = lxml.html.fromstring(render_report(result, tmp_path / "r.html").read_text(encoding="utf-8"))
    box = page.cssselect("#confidence")[0]
    assert "tentative" in box.get("class")
    text = " ".join(box.text_content().split())
    assert "no clear natural groups: K-means finds segments almost as good on copies" in text
    assert "the borders between segments are a convention" in text or "their borders are a convention" in text


def test_cleaning_decisions_are_the_cleaning_record(runs):
    """Lines netted or kept by a rule are in the appendix beside the dropped ones, with cleaning.json's counts."""
    run = runs.get("online_retail")
    cleaning = json.loads((run.directory / S.CLEANING_JSON).read_text(encoding="utf-8"))
    lines = [li.text_content() for li in lxml.html.fromstring(_html(run)).cssselect("#run ul.decisions li")]
    netted = cleaning["cancellations"]
    assert lines[0] == (f"{netted['matched']:,} cancellation line(s) netted against the purchase they cancel (revenue "
                        f"{netted['revenue_netted']:,.2f}); {netted['unmatched']:,} with no earlier purchase to cancel "
                        f"were dropped (counted above).")
    assert lines[1] == f"{cleaning['zero_price_lines']['kept']:,} zero-price line(s) kept as orders (free items)."


def test_a_range_from_2_says_k2_is_under_the_business_minimum(runs):
    """The mall_from_2 case above checks the k table's remarks: make sure k=2 is there to check, not eligible."""
    table = pd.read_csv(runs.get("mall_from_2").directory / S.K_SELECTION_CSV).set_index("k")
    assert not table.loc[2, "eligible"] and table.loc[2, "min_share"] >= 0.05


def test_the_reviewed_run_has_a_segment_whose_stability_was_not_measured(runs):
    """The cpq_reviewed cases above check a card saying "not measured": make sure there is one to check."""
    profiles, _ = run_files(runs.get("cpq_reviewed").directory)
    assert profiles["stability_en"].tolist().count("not measured") == 1
    assert profiles["stability_jaccard"].isna().sum() == 1 and profiles["stability_jaccard"].notna().sum() >= 1
