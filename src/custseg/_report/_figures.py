"""One function per chart: report data in, plotly Figure out. Same colours in HTML and PNG.

Texts from data (segment names, customer ids) are HTML-escaped before they reach plotly,
which would otherwise interpret tags in labels and hover texts.
"""

from __future__ import annotations

import colorsys
import html

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from .._i18n import format_number, format_value
from .._profile import matrix
from ._texts import texts

FONT = "system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif"
CENTRE_MARKER = dict(symbol="diamond", size=9, line=dict(color="black", width=2))


def segment_colors(k: int) -> list[str]:
    """One colour per segment, in segment order; the single palette of the HTML and PNG charts.

    >>> segment_colors(2)
    ['#4C78A8', '#F58518']
    """
    if k <= len(qualitative.T10):
        return list(qualitative.T10[:k])
    if k <= len(qualitative.Alphabet):
        return list(qualitative.Alphabet[:k])
    return ["#%02x%02x%02x" % tuple(int(255 * c) for c in colorsys.hls_to_rgb(i / k, 0.45, 0.65)) for i in range(k)]


def _layout(fig: go.Figure, lang: str, title: str | None = None, height: int = 480) -> go.Figure:
    fig.update_layout(template="plotly_white", height=height, font=dict(family=FONT, size=13),
                      title=dict(text=html.escape(title)) if title else None,
                      separators=",\u202f" if lang == "fr" else ".,",
                      margin=dict(l=60, r=20, t=60 if title else 30, b=50),
                      legend=dict(itemsizing="constant"))
    return fig


def _label(segment: dict) -> str:
    return html.escape(f"{segment['id']}. {segment['name']}")


def k_selection_figure(data: dict) -> go.Figure:
    """Inertia, silhouette, Calinski-Harabasz and Davies-Bouldin against k; chosen k and knee marked."""
    lang = data["lang"]
    t = texts(lang)
    rows = data["k_selection"]["rows"]
    metrics = ("inertia", "silhouette", "calinski_harabasz", "davies_bouldin")
    fig = make_subplots(rows=2, cols=2, subplot_titles=[t[m] for m in metrics], horizontal_spacing=0.1, vertical_spacing=0.16)
    ks = [r["k"] for r in rows]
    for i, metric in enumerate(metrics):
        r, c = divmod(i, 2)
        values = [r_[metric] for r_ in rows]
        fig.add_trace(go.Scatter(x=ks, y=values, mode="lines+markers", line=dict(color="#4C78A8"),
                                 marker=dict(size=7, symbol=["circle" if x["eligible"] else "circle-open" for x in rows]),
                                 name=t[metric], showlegend=False,
                                 hovertemplate="k=%{x}<br>%{y}<extra></extra>"), row=r + 1, col=c + 1)
        chosen = [x for x in rows if x["chosen"]]
        fig.add_trace(go.Scatter(x=[x["k"] for x in chosen], y=[x[metric] for x in chosen], mode="markers",
                                 marker=dict(symbol="star", size=16, color="#E45756", line=dict(color="black", width=1)),
                                 name=t["chosen"], showlegend=i == 0, legendgroup="chosen",
                                 hovertemplate=f"{t['chosen']} k=%{{x}}<extra></extra>"), row=r + 1, col=c + 1)
        if metric == "inertia":
            knee = [x for x in rows if x["knee"]]
            fig.add_trace(go.Scatter(x=[x["k"] for x in knee], y=[x[metric] for x in knee], mode="markers",
                                     marker=dict(symbol="diamond-open", size=16, color="#54A24B", line=dict(width=3)),
                                     name=t["knee"], showlegend=True,
                                     hovertemplate=f"{t['knee']} k=%{{x}}<extra></extra>"), row=1, col=1)
        fig.update_xaxes(tickmode="linear", dtick=1, title_text="k", row=r + 1, col=c + 1)
    _layout(fig, lang, height=620)
    fig.update_layout(legend=dict(orientation="h", y=-0.12))
    return fig


def silhouette_figure(data: dict) -> go.Figure:
    """Per-customer silhouettes sorted within each segment, stacked as yellowbrick draws them."""
    lang = data["lang"]
    t = texts(lang)
    fig = go.Figure()
    values = data["silhouette"]["values"]
    gap = max(10, int(0.02 * max(1, sum(len(v) for v in values.values()))))
    y_low = 0
    ticks, labels = [], []
    for segment in reversed(data["segments"]):  # segment 1 on top
        v = values.get(segment["id"], np.array([], dtype=np.float32))
        if len(v) == 0:
            continue
        y = np.arange(y_low, y_low + len(v), dtype=np.float32)
        x = v[::-1]  # ascending from bottom to top: the largest at the top of each block
        fig.add_trace(go.Scatter(x=np.concatenate([[0], x, [0]]).astype(np.float32),
                                 y=np.concatenate([[y[0]], y, [y[-1]]]).astype(np.float32),
                                 fill="toself", mode="lines", line=dict(width=0.5, color=segment["color"]),
                                 fillcolor=segment["color"], name=_label(segment), hoverinfo="name"))
        ticks.append(float(y_low + len(v) / 2))
        labels.append(str(segment["id"]))
        y_low += len(v) + gap
    mean = data["k_selection"]["chosen_silhouette"]
    fig.add_vline(x=mean, line=dict(color="#E45756", dash="dash", width=2),
                  annotation_text=t["silhouette_mean"].format(value=data["k_selection"]["chosen_silhouette_text"]),
                  annotation_position="top")
    fig.update_yaxes(tickvals=ticks, ticktext=labels, title_text=t["segment"], showgrid=False)
    fig.update_xaxes(title_text=t["silhouette_axis"], range=[min(-0.1, float(min((v.min() for v in values.values() if len(v)), default=0))) - 0.02, 1])
    _layout(fig, lang, t["silhouette_title"], height=max(420, 60 * len(data["segments"])))
    fig.update_layout(legend=dict(traceorder="reversed"))
    return fig


def _axis_title(label: str, log: bool) -> str:
    return html.escape(label) + (" (log)" if log else "")


UNITS = ("z", "original")


def _unit_scene(features: list[str], labels: dict[str, str], logs: dict[str, bool], units: str, three_d: bool) -> dict:
    """Axis types and titles for `units`, as flat relayout keys."""
    axes = ("scene.xaxis", "scene.yaxis", "scene.zaxis") if three_d else ("xaxis", "yaxis")
    out = {}
    for axis, f in zip(axes, features):
        log = units == "original" and logs[f]
        out[f"{axis}.type"] = "log" if log else "linear"
        out[f"{axis}.title.text"] = _axis_title(labels[f], log) + (" (z)" if units == "z" else "")
        out[f"{axis}.autorange"] = True
        out[f"{axis}.dtick"] = 1 if log else None  # log axes: one tick a decade (2 and 5 between decades piled up)
    return out


def _units_scatter(data: dict, features: list[str], default_units: str) -> go.Figure:
    """Customers on 2 or 3 features, one trace per segment plus the centers, in both units.

    The figure holds one set of traces per units (z first, then original); buttons swap
    which set is visible, so at any time there is exactly one visible trace per segment.
    """
    lang = data["lang"]
    t = texts(lang)
    points = data["scatter"]["points"]
    logs, labels = data["scatter"]["log_axes"], data["labels"]
    ids = [segment["id"] for segment in data["segments"]]
    three_d = len(features) == 3
    Trace = go.Scatter3d if three_d else go.Scattergl
    keys = ("x", "y", "z")[: len(features)]
    fig = go.Figure()
    for units in UNITS:
        for segment in data["segments"]:
            mask = points["segment_id"] == segment["id"]
            coords = {key: points[units][f][mask] for key, f in zip(keys, features)}
            hover = "<br>".join(f"{html.escape(labels[f])}=%{{{key}}}" for key, f in zip(keys, features))
            fig.add_trace(Trace(**coords, mode="markers",
                                marker=dict(size=2.5 if three_d else 4, color=segment["color"], opacity=0.7),
                                name=_label(segment), legendgroup=f"segment-{segment['id']}", visible=units == default_units,
                                meta=f"segment-{segment['id']}", text=[html.escape(c) for c in points["customer_id"][mask]],
                                hovertemplate="%{text}<br>" + hover + f"<extra>{_label(segment)}</extra>"))
        centers = matrix(data["table"], "median" if units == "original" else "z", ids, features)
        center_type = go.Scatter3d if three_d else go.Scatter
        fig.add_trace(center_type(**{key: centers[:, j] for j, key in enumerate(keys)}, mode="markers",
                                  marker=dict(**{**CENTRE_MARKER, "size": 9 if three_d else 13},
                                              color=[s["color"] for s in data["segments"]]),
                                  name=t["centers"], meta="centers", visible=units == default_units,
                                  text=[_label(s) for s in data["segments"]], hovertemplate="%{text}<extra></extra>"))
    n = len(data["segments"]) + 1
    visible = {"z": [True] * n + [False] * n, "original": [False] * n + [True] * n}
    buttons = [dict(label=t[f"units_{units}"], method="update",
                    args=[{"visible": visible[units]}, _unit_scene(features, labels, logs, units, three_d)])
               for units in ("original", "z")]
    fig.update_layout(updatemenus=[dict(type="buttons", direction="right", buttons=buttons, x=0, y=1.02,
                                        xanchor="left", yanchor="bottom", showactive=True,
                                        active=0 if default_units == "original" else 1)])
    fig.update_layout(_nested(_unit_scene(features, labels, logs, default_units, three_d)))
    return fig


def scatter_3d_figure(data: dict) -> go.Figure:
    """Customers on three features, coloured by segment, with centers; buttons switch units."""
    features = data["scatter"]["features"][:3]
    fig = _units_scatter(data, features, data["scatter"]["units"])
    _layout(fig, data["lang"], " × ".join(data["labels"][f] for f in features), height=700)
    fig.update_layout(title=dict(x=0.5, xanchor="center"))
    eye = face_on_eye(_drawn_coordinates(data, features))
    fig.update_layout(scene=dict(aspectmode="cube", camera=dict(eye=dict(zip("xyz", eye)))), margin=dict(l=0, r=0, t=60, b=0))
    return fig


def _drawn_coordinates(data: dict, features: list[str]) -> np.ndarray:
    """The customers' coordinates as the 3D view opens: its units, log10 on log axes (positive values only)."""
    units, logs = data["scatter"]["units"], data["scatter"]["log_axes"]
    columns = [np.asarray(data["scatter"]["points"][units][f], dtype=float) for f in features]
    logged = [units == "original" and logs[f] for f in features]
    keep = np.all([c > 0 for c, log in zip(columns, logged) if log], axis=0) if any(logged) else slice(None)
    return np.column_stack([np.log10(c[keep]) if log else c[keep] for c, log in zip(columns, logged)])


EYE_DISTANCE, EYE_TILT = 2.3, 0.35
DEFAULT_EYE = (1.55, 1.55, 1.0)


def face_on_eye(points: np.ndarray) -> tuple[float, float, float]:
    """A camera position looking at the cloud face on: along its thinnest direction (in the cube the
    scene draws, each axis scaled to its range), tilted a little towards the next one for depth.
    Sales features are often near a plane (spend = orders x average order): the default view saw it edge on.

    >>> plane = np.array([[x, y, 0.0] for x in range(5) for y in (0, 4)])  # flat in z: seen from above
    >>> [abs(round(v, 2)) for v in face_on_eye(plane)]
    [0.76, 0.0, 2.17]
    """
    spans = np.ptp(points, axis=0) if len(points) else np.zeros(3)
    if len(points) < 4 or not np.all(np.isfinite(spans)) or np.count_nonzero(spans == 0) > 1:
        return DEFAULT_EYE
    cube = (points - points.min(axis=0)) / np.where(spans > 0, spans, 1.0)
    _, vectors = np.linalg.eigh(np.cov(cube, rowvar=False))  # eigenvalues ascending: the thinnest direction first
    normal, middle = vectors[:, 0], vectors[:, 1]
    normal = normal if normal[2] >= 0 else -normal
    middle = middle if middle[2] >= 0 else -middle
    eye = normal + EYE_TILT * middle
    eye = EYE_DISTANCE * eye / np.linalg.norm(eye)
    return tuple(float(round(v, 4)) + 0.0 for v in eye)


def _nested(flat: dict) -> dict:
    """{"scene.xaxis.type": v} -> {"scene": {"xaxis": {"type": v}}}."""
    out: dict = {}
    for key, value in flat.items():
        node = out
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out


def pair_scatter_figures(data: dict) -> list[go.Figure]:
    """One 2D scatter per pair of the 3D features, one colour per segment (a loop, any k)."""
    figures = []
    for fx, fy in data["pairs"]:
        fig = _units_scatter(data, [fx, fy], data["scatter"]["units"])
        _layout(fig, data["lang"], f"{data['labels'][fy]} × {data['labels'][fx]}", height=500)
        fig.update_layout(margin=dict(t=90), title=dict(y=0.97))
        figures.append(fig)
    return figures


def feature_map_figure(data: dict) -> go.Figure:
    """Customers on a 2D map of all features (PCA or t-SNE), coloured by segment."""
    lang = data["lang"]
    m = data["map"]
    fig = go.Figure()
    for segment in data["segments"]:
        mask = m["segment_id"] == segment["id"]
        fig.add_trace(go.Scattergl(x=m["x"][mask], y=m["y"][mask], mode="markers",
                                   marker=dict(size=4, color=segment["color"], opacity=0.6), name=_label(segment),
                                   text=[html.escape(c) for c in m["customer_id"][mask]],
                                   hovertemplate="%{text}" + f"<extra>{_label(segment)}</extra>"))
    fig.update_xaxes(title_text=m["axes"][0])
    fig.update_yaxes(title_text=m["axes"][1])
    return _layout(fig, lang, "PCA" if m["method"] == "pca" else "t-SNE", height=560)


def centroid_heatmap_figure(data: dict) -> go.Figure:
    """Segment centres: segments down, features across (both looked up in the feature table).

    Colour is the centre in model units (z: red above the average customer, blue below);
    the cells print the segment's median in original units, or z after the units button.
    """
    lang = data["lang"]
    t = texts(lang)
    segments, features = data["segments"], data["features"]
    ids = [s["id"] for s in segments]
    z = matrix(data["table"], "z", ids, features)
    medians = [[format_value(v, lang) for v in row] for row in matrix(data["table"], "median", ids, features)]
    z_texts = [[format_number(v, lang, 2) for v in row] for row in z]
    limit = float(np.nanmax(np.abs(z))) if z.size and np.isfinite(z).any() else 1.0
    labels = [html.escape(data["labels"][f]) for f in features]
    fig = go.Figure(go.Heatmap(
        z=z, x=labels, y=[_label(s) for s in segments], text=medians, customdata=z_texts,
        texttemplate="%{text}" if z.size <= 400 else None, colorscale="RdBu", reversescale=True,
        zmid=0, zmin=-limit, zmax=limit, colorbar=dict(title=dict(text="z")),
        hovertemplate="%{y}<br>%{x}: " + html.escape(t["median"].lower()) + " %{text}, z %{customdata}<extra></extra>"))
    buttons = [dict(label=t["heatmap_medians"], method="restyle", args=[{"text": [medians]}]),
               dict(label=t["units_z"], method="restyle", args=[{"text": [z_texts]}])]
    fig.update_layout(updatemenus=[dict(type="buttons", direction="right", buttons=buttons, x=0, y=1.02,
                                        xanchor="left", yanchor="bottom", showactive=True, active=0)])
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(tickangle=-35 if len(features) > 4 else 0)
    height = max(380, 120 + 45 * len(segments)) + (8 * max(len(label) for label in labels) if len(features) > 4 else 0)
    _layout(fig, lang, t["heatmap_title"], height=height)
    fig.update_layout(margin=dict(t=100), title=dict(y=0.98))
    return fig


def share_bars_figure(data: dict) -> go.Figure:
    """Share of customers and share of revenue of each segment, side by side."""
    lang = data["lang"]
    t = texts(lang)
    segments = data["segments"]
    panels = [("customer_share", t["customer_share"])] + ([("revenue_share", t["revenue_share"])] if data["has_revenue"] else [])
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=[p[1] for p in panels], shared_yaxes=True)
    labels = [_label(s) for s in segments]
    for c, (key, title) in enumerate(panels, start=1):
        fig.add_trace(go.Bar(x=[s[key] for s in segments], y=labels, orientation="h",
                             marker=dict(color=[s["color"] for s in segments]), showlegend=False, name=title,
                             text=[s[f"{key}_text"] for s in segments], textposition="auto",
                             hovertemplate="%{y}: %{text}<extra></extra>"), row=1, col=c)
        fig.update_xaxes(tickformat=".0%", rangemode="tozero", row=1, col=c)
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, lang, t["bars_title" if data["has_revenue"] else "bars_title_customers"],
                   height=max(300, 80 + 40 * len(segments)))


def dendrogram_figure(dendro: dict, lang: str = "en"):
    """Plotly figure of `dendrogram_data` with the cut line (for the report)."""
    fig = go.Figure()
    for xs, ys in zip(dendro["icoord"], dendro["dcoord"]):
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line={"color": "#4c72b0", "width": 1.5},
                                 hoverinfo="skip", showlegend=False))
    fig.add_hline(y=dendro["cut_height"], line={"dash": "dash", "color": "#c44e52"},
                  annotation_text=f"k={dendro['k']}")
    ticks = [5 + 10 * i for i in range(len(dendro["leaves"]))]
    title = {"en": f"Ward dendrogram ({dendro['n_sampled']:,} customers, last {len(ticks)} merges)",
             "fr": f"Dendrogramme de Ward ({dendro['n_sampled']:,} clients, {len(ticks)} dernières fusions)"}[lang]
    fig.update_layout(title=title, xaxis={"tickvals": ticks, "ticktext": dendro["leaves"], "title": ""},
                      yaxis={"title": "Ward distance" if lang == "en" else "distance de Ward"},
                      template="plotly_white", height=420)
    return fig


def report_figures(data: dict) -> dict[str, go.Figure | list[go.Figure] | None]:
    """Every chart of the report, by section; `None` where a section has no chart."""
    scatter = data["scatter"]
    return {
        "k_selection": k_selection_figure(data) if len(data["k_selection"]["rows"]) > 1 else None,
        "silhouette": silhouette_figure(data) if data["silhouette"]["n_values"] else None,
        "scatter_3d": scatter_3d_figure(data) if scatter["has_3d"] else None,
        "pairs": pair_scatter_figures(data),
        "map": feature_map_figure(data) if data["map"] else None,
        "heatmap": centroid_heatmap_figure(data),
        "shares": share_bars_figure(data),
        "dendrogram": dendrogram_figure(data["dendrogram"], data["lang"]) if data.get("dendrogram") else None,
    }


def sankey_figure(migration, title: str):
    """Plotly Sankey of the customer counts (left: earlier segments, right: later)."""
    sources, targets = list(migration.counts.index), list(migration.counts.columns)
    labels = [html.escape(f"{s} (before)") for s in sources] + [html.escape(f"{t} (after)") for t in targets]
    links = [(i, len(sources) + j, int(v)) for i, s in enumerate(sources) for j, t in enumerate(targets)
             if (v := migration.counts.loc[s, t]) > 0]
    return go.Figure(go.Sankey(node={"label": labels, "pad": 12},
                               link={"source": [l[0] for l in links], "target": [l[1] for l in links],
                                     "value": [l[2] for l in links]}),
                     layout={"title": {"text": title}})
