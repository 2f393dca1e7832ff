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
    return _layout(fig, lang, t["silhouette_title"], height=max(420, 60 * len(data["segments"])))


def _axis_title(feature: str, log: bool) -> str:
    return html.escape(feature) + (" (log)" if log else "")


def scatter_3d_figure(data: dict) -> go.Figure:
    """Customers on three features, coloured by segment, with centres; buttons switch units.

    Traces: one per segment then the centres in original units (visible), the same in
    model units (hidden); the buttons swap which half is visible and the axis types.
    """
    lang = data["lang"]
    t = texts(lang)
    scatter = data["scatter"]
    points = scatter["points"]
    fx, fy, fz = scatter["features"][:3]
    fig = go.Figure()
    for units in ("original", "z"):
        for segment in data["segments"]:
            mask = points["segment_id"] == segment["id"]
            fig.add_trace(go.Scatter3d(
                x=points[units][fx][mask], y=points[units][fy][mask], z=points[units][fz][mask],
                mode="markers", marker=dict(size=2.5, color=segment["color"], opacity=0.75),
                name=_label(segment), legendgroup=f"segment-{segment['id']}", visible=units == "original",
                meta=f"segment-{segment['id']}", text=[html.escape(c) for c in points["customer_id"][mask]],
                hovertemplate="%{text}<br>" + f"{html.escape(fx)}=%{{x}}<br>{html.escape(fy)}=%{{y}}<br>{html.escape(fz)}=%{{z}}"
                              + f"<extra>{_label(segment)}</extra>"))
        centres = [{f: next(x[key] for x in s["features"] if x["name"] == f) for f in (fx, fy, fz)}
                   for s in data["segments"] for key in ["median" if units == "original" else "z"]]
        fig.add_trace(go.Scatter3d(
            x=[c[fx] for c in centres], y=[c[fy] for c in centres], z=[c[fz] for c in centres],
            mode="markers", marker=dict(**CENTRE_MARKER, color=[s["color"] for s in data["segments"]]),
            name=t["centres"], meta="centres", visible=units == "original",
            text=[_label(s) for s in data["segments"]], hovertemplate="%{text}<extra></extra>"))
    n = len(data["segments"]) + 1
    logs = scatter["log_axes"]

    def scene(units: str) -> dict:
        return {f"scene.{axis}.{key}": value for axis, f in zip(("xaxis", "yaxis", "zaxis"), (fx, fy, fz))
                for key, value in (("type", "log" if units == "original" and logs[f] else "linear"),
                                   ("title.text", _axis_title(f, units == "original" and logs[f]) + ("" if units == "original" else " (z)")))}

    buttons = [dict(label=t["units_original"], method="update", args=[{"visible": [True] * n + [False] * n}, scene("original")]),
               dict(label=t["units_z"], method="update", args=[{"visible": [False] * n + [True] * n}, scene("z")])]
    _layout(fig, lang, height=680)
    fig.update_layout(updatemenus=[dict(type="buttons", direction="right", buttons=buttons, x=0, y=1.06, xanchor="left",
                                        showactive=True)],
                      scene=dict(aspectmode="cube"), margin=dict(l=0, r=0, t=50, b=0))
    fig.update_layout(_nested(scene("original")))
    return fig


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
    lang = data["lang"]
    scatter = data["scatter"]
    points = scatter["points"]
    figures = []
    for fx, fy in data["pairs"]:
        fig = go.Figure()
        for segment in data["segments"]:
            mask = points["segment_id"] == segment["id"]
            fig.add_trace(go.Scattergl(x=points["original"][fx][mask], y=points["original"][fy][mask], mode="markers",
                                       marker=dict(size=4, color=segment["color"], opacity=0.6),
                                       name=_label(segment), legendgroup=f"segment-{segment['id']}",
                                       text=[html.escape(c) for c in points["customer_id"][mask]],
                                       hovertemplate="%{text}<br>%{x}, %{y}" + f"<extra>{_label(segment)}</extra>"))
        medians = [{x["name"]: x["median"] for x in s["features"]} for s in data["segments"]]
        fig.add_trace(go.Scatter(x=[m[fx] for m in medians], y=[m[fy] for m in medians], mode="markers",
                                 marker=dict(**{**CENTRE_MARKER, "size": 13}, color=[s["color"] for s in data["segments"]]),
                                 name=texts(lang)["centres"], text=[_label(s) for s in data["segments"]],
                                 hovertemplate="%{text}<extra></extra>"))
        fig.update_xaxes(title_text=_axis_title(fx, scatter["log_axes"][fx]), type="log" if scatter["log_axes"][fx] else "linear")
        fig.update_yaxes(title_text=_axis_title(fy, scatter["log_axes"][fy]), type="log" if scatter["log_axes"][fy] else "linear")
        figures.append(_layout(fig, lang, f"{fy} × {fx}", height=460))
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
    """Segment centres in model units: segments down, features across, 0 = average customer."""
    lang = data["lang"]
    t = texts(lang)
    segments = data["segments"]
    z = np.array([[f["z"] for f in s["features"]] for s in segments], dtype=float)
    limit = float(np.nanmax(np.abs(z))) if z.size else 1.0
    fig = go.Figure(go.Heatmap(
        z=z, x=[html.escape(f) for f in data["features"]], y=[_label(s) for s in segments],
        text=[[f["z_text"] for f in s["features"]] for s in segments],
        texttemplate="%{text}" if z.size <= 400 else None, colorscale="RdBu", reversescale=True,
        zmid=0, zmin=-limit, zmax=limit, colorbar=dict(title=dict(text="z")),
        hovertemplate="%{y}<br>%{x}: %{text}<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(tickangle=-35 if len(data["features"]) > 4 else 0)
    return _layout(fig, lang, t["heatmap_title"], height=max(320, 60 + 45 * len(segments)))


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
    return _layout(fig, lang, t["bars_title"], height=max(300, 80 + 40 * len(segments)))


def report_figures(data: dict) -> dict[str, go.Figure | list[go.Figure] | None]:
    """Every chart of the report, by section; `None` where a section has no chart."""
    scatter = data["scatter"]
    return {
        "k_selection": k_selection_figure(data),
        "silhouette": silhouette_figure(data) if data["silhouette"]["n_values"] else None,
        "scatter_3d": scatter_3d_figure(data) if scatter["has_3d"] else None,
        "pairs": pair_scatter_figures(data),
        "map": feature_map_figure(data) if data["map"] else None,
        "heatmap": centroid_heatmap_figure(data),
        "shares": share_bars_figure(data),
    }
