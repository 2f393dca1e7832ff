"""Static PNG copies of the report's charts, for slide decks (Plotly export through Kaleido).

Kaleido drives the system's Chromium (/usr/bin/chromium) with the plotly.js shipped in the
plotly package and MathJax disabled, so the export makes no network request.
"""

from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go

from .._errors import UsageError

PNG_WIDTH, PNG_HEIGHT, PNG_SCALE = 1200, 700, 2


def _static(fig: go.Figure) -> go.Figure:
    """A copy fit for a picture: no unit buttons, white background, fixed size."""
    copy = go.Figure(fig)
    copy.layout.updatemenus = ()
    copy.update_layout(width=PNG_WIDTH, height=max(PNG_HEIGHT, fig.layout.height or 0))
    return copy


def png_names(figures: dict) -> dict[str, go.Figure]:
    """File name -> figure, e.g. {"01_k_selection.png": ..., "05_pair_1.png": ...}."""
    named, index = {}, 0
    for name, fig in figures.items():
        items = fig if isinstance(fig, list) else [fig]
        for i, item in enumerate(items, start=1):
            if item is None:
                continue
            index += 1
            suffix = f"_{i}" if isinstance(fig, list) else ""
            named[f"{index:02d}_{name}{suffix}.png"] = _static(item)
    return named


def check_png_export() -> None:
    """Stop before anything is written when the PNG export cannot run: no Kaleido, or no Chromium for it to drive."""
    try:
        import kaleido  # noqa: F401
        from choreographer.browsers import Chromium
    except ImportError:
        raise UsageError("PNG export needs the 'kaleido' package (pip install kaleido) and Chromium; nothing was written") from None
    if Chromium.find_browser(skip_local=False) is None:
        raise UsageError("PNG export needs Chromium (apt-get install chromium, or BROWSER_PATH=/path/to/chrome); "
                         "nothing was written")


def write_pngs(figures: dict, png_dir: Path) -> list[Path]:
    """Write every chart as a PNG in `png_dir`; returns the paths written."""
    check_png_export()
    import kaleido

    png_dir.mkdir(parents=True, exist_ok=True)
    named = png_names(figures)
    specs = [{"fig": fig.to_dict(), "path": png_dir / name,
              "opts": {"format": "png", "width": fig.layout.width, "height": fig.layout.height, "scale": PNG_SCALE}}
             for name, fig in named.items()]
    try:
        kaleido.write_fig_from_object_sync(specs, kopts={"mathjax": False})
    except Exception as exc:  # kaleido raises its own types when Chromium is missing or crashes
        raise UsageError(f"PNG export failed ({type(exc).__name__}: {exc}); it needs Chromium (apt-get install chromium)") from None
    return [png_dir / name for name in named]
