"""The report's HTML without a browser: escaping, self-containment, languages, options, size."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from plotly.offline import get_plotlyjs

from custseg import SegmentationResult, UsageError
from custseg import _schema as S
from custseg._report import PNG_DIR, render_report, report_data, segment_colors, write_report
from custseg._report._data import sample_per_segment
from report_helpers import CHROMIUM, HOSTILE, drawn, embedded_figures

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


def without_plotly(html: str) -> str:
    bundle = get_plotlyjs()
    assert html.count(bundle) == 1, "plotly.js must be embedded exactly once"
    return html.replace(bundle, "")


@pytest.mark.parametrize("n, k, max_points", [(100, 2, 1000), (10_000, 9, 500), (50_003, 3, 20_000)])
def test_sample_per_segment_keeps_every_segment_within_the_cap(n, k, max_points):
    rng = np.random.default_rng(0)
    ids = np.minimum(rng.geometric(0.5, size=n), k)  # very unequal segments
    rows = sample_per_segment(ids, max_points, seed=42)
    assert len(rows) == min(n, max_points)
    assert set(ids[rows]) == set(ids)
    assert np.all(np.diff(rows) > 0)
    assert np.array_equal(rows, sample_per_segment(ids, max_points, seed=42))


def test_segment_colours_are_distinct_for_any_k():
    for k in (1, 2, 9, 10, 11, 26, 40):
        colors = segment_colors(k)
        assert len(colors) == len(set(c.lower() for c in colors)) == k


def test_report_is_one_self_contained_file(runs):
    html = (runs.get("hostile").directory / S.REPORT_HTML).read_text(encoding="utf-8")
    own = without_plotly(html)
    assert not EXTERNAL.search(own), EXTERNAL.search(own)
    assert "<link" not in own and "@import" not in own


def test_hostile_names_are_escaped(runs):
    html = (runs.get("hostile").directory / S.REPORT_HTML).read_text(encoding="utf-8")
    assert HOSTILE not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "</script" not in "".join(re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', html, re.S))


def test_french_report_formats_numbers_for_french(runs, tmp_path):
    run = runs.get("hostile")
    target = render_report(run.result, tmp_path / "fr.html", lang="fr")
    html = target.read_text(encoding="utf-8")
    assert '<html lang="fr">' in html
    assert "Rapport de segmentation clients" in html and "Action recommandée" in html
    assert re.search(r"\d,\d\u202f%", html)  # 12,3 % (narrow no-break space before %)
    assert run.result.profiles.loc[1, "name_fr"] in html


def test_sampled_scatters_say_so(runs, tmp_path):
    run = runs.get("hostile")
    data = report_data(run.result, max_points=20)
    assert data["scatter"]["n_shown"] <= 20 < data["scatter"]["n_total"]
    html = render_report(run.result, tmp_path / "r.html", max_points=20).read_text(encoding="utf-8")
    assert f"Showing {data['scatter']['n_shown']} of {data['scatter']['n_total']} customers, sampled per segment (seed 42)" in html


@pytest.mark.parametrize("options", [{"lang": "de"}, {"max_points": 0}, {"map_method": "umap"}, {"units": "m"},
                                     {"scatter_features": ["nope", "a", "b"]}])
def test_bad_options_are_refused(runs, tmp_path, options):
    with pytest.raises(UsageError):
        render_report(runs.get("hostile").result, tmp_path / "r.html", **options)


@pytest.mark.parametrize("name", ["lines_k9", pytest.param("online_retail_k9", marks=pytest.mark.slow)])
def test_forced_k_marks_the_choice_as_given(runs, name):
    data = report_data(runs.get(name).result)
    assert data["k_selection"]["given"] and len(data["segments"]) == 9
    assert len(set(s["color"] for s in data["segments"])) == 9


@pytest.mark.parametrize("name", ["lines_many", pytest.param("cc_general", marks=pytest.mark.slow)])
def test_map_shows_for_many_features_only(runs, name):
    assert report_data(runs.get(name).result)["map"]["method"] == "pca"
    assert report_data(runs.get("lines_k2").result)["map"] is None


def test_tsne_map_on_a_sample(runs):
    data = report_data(runs.get("lines_many").result, map_method="tsne", max_points=300)
    assert data["map"]["method"] == "tsne" and len(data["map"]["x"]) <= 300


def test_rerender_from_run_directory_in_french_with_pngs(runs, tmp_path):
    if not CHROMIUM.is_file():
        pytest.skip("/usr/bin/chromium missing: PNG export runs plotly's Kaleido on the system Chromium")
    pytest.importorskip("kaleido", reason="PNG export needs the kaleido package")
    import shutil

    run_dir = shutil.copytree(runs.get("hostile").directory, tmp_path / "run")
    target = write_report(run_dir, lang="fr", png=True)
    assert target == run_dir / S.REPORT_HTML
    assert "Rapport de segmentation clients" in target.read_text(encoding="utf-8")
    pngs = sorted(p.name for p in (run_dir / PNG_DIR).glob("*.png"))
    assert [re.sub(r"^\d\d_", "", name) for name in pngs] == [  # k was forced: no k-selection chart
        "silhouette.png", "scatter_3d.png", "pairs_1.png", "pairs_2.png", "pairs_3.png", "heatmap.png", "shares.png"]
    for name in pngs:
        assert (run_dir / PNG_DIR / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_png_without_chromium_stops_before_anything_is_written(runs, tmp_path, monkeypatch):
    """Issue 22 item 7: --png checks for Chromium first; report.html is left as it was."""
    pytest.importorskip("kaleido", reason="PNG export needs the kaleido package")
    import shutil

    from choreographer.browsers import Chromium

    run_dir = shutil.copytree(runs.get("hostile").directory, tmp_path / "run")
    before = (run_dir / S.REPORT_HTML).read_bytes()
    monkeypatch.setattr(Chromium, "find_browser", classmethod(lambda cls, **kw: None))
    with pytest.raises(UsageError, match=r"^PNG export needs Chromium \(apt-get install chromium.*nothing was written$"):
        write_report(run_dir, lang="fr", png=True)
    assert (run_dir / S.REPORT_HTML).read_bytes() == before and not (run_dir / PNG_DIR).exists()


def _inflated(result: SegmentationResult, n: int) -> SegmentationResult:
    """The same run with its customers repeated (jittered) up to `n` rows: a stand-in for 1M customers."""
    repeats = -(-n // len(result.assignments))
    big = pd.concat([result.assignments] * repeats, ignore_index=True).iloc[:n].copy()
    big[S.CUSTOMER_ID] = [f"C{i:07d}" for i in range(n)]
    rng = np.random.default_rng(0)
    for f in result.features:
        big[S.z_column(f)] += rng.normal(0, 0.01, n)
    return SegmentationResult(assignments=big, profiles=result.profiles, k_selection=result.k_selection,
                              top_products=result.top_products, cleaning=result.cleaning, run=result.run,
                              model=result.model)


def test_report_for_a_million_customers_stays_small(runs, tmp_path):
    result = _inflated(runs.get("lines_many").result, 1_000_000)
    html = render_report(result, tmp_path / "big.html")
    assert html.stat().st_size < 15 * 2**20
    assert "Showing 20,000 of 1,000,000 customers" in html.read_text(encoding="utf-8")


def test_3d_view_opens_facing_the_cloud(runs):
    """Spend, orders and average order lie near a plane (spend = orders x average order): the 3D view must
    not open edge on. The camera looks along the thinnest direction of the drawn customers (log axes as drawn)."""
    run = runs.get("cpq")
    fig = embedded_figures((run.directory / S.REPORT_HTML).read_text(encoding="utf-8"))["scatter-3d"][0]
    scene = fig["layout"]["scene"]
    traces = [t for t in fig["data"] if t.get("visible") is not False and t["meta"].startswith("segment-")]
    columns = []
    for key, axis in zip("xyz", ("xaxis", "yaxis", "zaxis")):
        values = np.concatenate([np.asarray(drawn(t[key]), dtype=float) for t in traces])
        columns.append(np.log10(values) if scene[axis]["type"] == "log" else values)
    points = np.column_stack(columns)
    points = points[np.all(np.isfinite(points), axis=1)]
    cube = (points - points.min(axis=0)) / np.ptp(points, axis=0)
    variances, vectors = np.linalg.eigh(np.cov(cube, rowvar=False))
    assert variances[0] < 0.2 * variances[1], "the cpq customers should lie near a plane"
    eye = np.array([scene["camera"]["eye"][k] for k in "xyz"])
    assert abs(eye @ vectors[:, 0]) / np.linalg.norm(eye) > 0.9  # within ~25 degrees of face on
