"""The segmentation report: one self-contained HTML file (plus optional PNG charts).

Two steps, as in skrub's reports: `report_data` computes a plain dict of everything to
show, then the Jinja template `templates/report.html.j2` renders it. Charts are built by
the functions of `_figures` from that dict, embedded as JSON with plotly.js inlined once.

>>> from custseg import SegmentationResult
>>> render_report(SegmentationResult.load("out/"), "out/report.html", lang="fr")  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import jinja2
from markupsafe import Markup

from .. import _schema as S
from .._atomic import write_text_atomic
from .._errors import UsageError
from .._i18n import check_lang
from .._result import SegmentationResult
from ._data import MAP_METHODS, UNIT_CHOICES, report_data
from ._figures import dendrogram_figure, report_figures, sankey_figure, segment_colors
from ._png import check_png_export, write_pngs
from ._texts import texts

__all__ = ["PNG_DIR", "dendrogram_figure", "render_report", "report_data", "report_figures", "sankey_figure",
           "segment_colors", "write_report"]

PNG_DIR = "png"


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader("custseg", "templates"),
                              autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def _script_json(text: str) -> Markup:
    """JSON safe inside a <script> element: no '<', '>' or '&' can end it or open a comment."""
    return Markup(text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
                  .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _embedded(figures: dict) -> dict:
    out, counter = {}, 0
    for name, fig in figures.items():
        items = fig if isinstance(fig, list) else [fig]
        embedded = []
        for item in items:
            if item is None:
                embedded.append(None)
                continue
            counter += 1
            embedded.append({"id": f"fig-{name.replace('_', '-')}-{counter}", "json": _script_json(item.to_json())})
        out[name] = embedded if isinstance(fig, list) else embedded[0]
    return out


def _check_options(max_points: int, map_method: str) -> None:
    if not isinstance(max_points, int) or isinstance(max_points, bool) or max_points < 1:
        raise UsageError(f"max_points must be a positive integer; got {max_points!r}")
    if map_method not in MAP_METHODS:
        raise UsageError(f"map_method must be one of {', '.join(MAP_METHODS)}; got {map_method!r}")


def render_report(result, path, lang: str = "en", max_points: int = 20_000, map_method: str = "pca",
                  png_dir=None, scatter_features: list[str] | None = None, units: str = "original") -> Path:
    """Write the HTML report of `result` to `path` (atomically); PNG charts too if `png_dir`.

    `max_points` caps the customers drawn in each scatter (sampled per segment, seeded by
    the run's seed); `map_method` is "pca" or "tsne" for the map of all features;
    `scatter_features` picks the three features of the 3D view (default: the three with the
    largest between / within variance ratio, which separate the segments best);
    `units` is the units the scatters open in: "original" (what people know, log axes for
    money and counts) or "z" (model units, what K-means saw); a button switches.
    """
    check_lang(lang)
    _check_options(max_points, map_method)
    if units not in UNIT_CHOICES:
        raise UsageError(f"units must be one of {', '.join(UNIT_CHOICES)}; got {units!r}")
    if scatter_features is not None:
        unknown = [f for f in scatter_features if f not in result.features]
        if unknown or len(scatter_features) != 3:
            raise UsageError(f"the 3D view takes three features (--features, scatter_features) among {', '.join(result.features)}; got {list(scatter_features)}")
    path = Path(path)
    if png_dir is not None:
        check_png_export()  # before report.html is replaced
    data = report_data(result, lang=lang, max_points=max_points, map_method=map_method, scatter_features=scatter_features,
                       units=units)
    figures = report_figures(data)
    import plotly
    from plotly.offline import get_plotlyjs

    t = texts(lang)
    html = _environment().get_template("report.html.j2").render(
        d=data, t=t, figs=_embedded(figures), plotly_js=Markup(get_plotlyjs()),
        generated=t["generated"].format(version=result.run.get("custseg_version", "")) + f" Plotly.js {plotly.__version__}.",
    )
    write_text_atomic(path, html)
    if png_dir is not None:
        write_pngs(figures, Path(png_dir))
    return path


def write_report(run_dir, lang: str | None = None, png: bool = False, max_points: int = 20_000, map_method: str = "pca",
                 output=None, scatter_features: list[str] | None = None, units: str = "original") -> Path:
    """Re-render the report of a finished run directory (what `custseg report` calls).

    Writes `output` (default RUN_DIR/report.html; a folder, or a name without .html, gets
    report.html inside it, made if needed) and, with `png`, RUN_DIR/png/*.png.

    >>> write_report("out/", lang="fr", png=True)  # doctest: +SKIP
    PosixPath('out/report.html')
    """
    result = SegmentationResult.load(run_dir)
    target = Path(output) if output else Path(run_dir) / S.REPORT_HTML
    if target.is_dir() or target.suffix.lower() not in (".html", ".htm"):
        target = target / S.REPORT_HTML
    target.parent.mkdir(parents=True, exist_ok=True)
    return render_report(result, target, lang=lang or result.run.get("lang", "en"), max_points=max_points,
                         map_method=map_method, png_dir=Path(run_dir) / PNG_DIR if png else None,
                         scatter_features=scatter_features, units=units)
