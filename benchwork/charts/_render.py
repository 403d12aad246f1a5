"""Offline display and saving: charts show with no network, and save as standalone files.

Altair 6 writes Vega-Lite v6, which JupyterLab 4 cannot draw itself, and Altair's default
renderer fetches Vega from a CDN. Importing ``benchwork.charts`` therefore enables, unless
another renderer was chosen, the ``html`` renderer with the ``inline`` template: each chart's
output carries vega, vega-lite and vega-embed (from vl-convert, about 0.9 MB), so it is
interactive (tooltips) with no network in JupyterLab, VS Code, classic notebooks and
exported HTML. ``use_renderer("svg")`` switches to static SVG drawn by vl-convert
(small notebooks, renders even where scripts do not run, e.g. untrusted notebooks).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import altair as alt

from benchwork.errors import BenchworkError

__all__ = ["FORMATS", "enable_offline", "save", "use_renderer"]

FORMATS = ("html", "svg", "png", "pdf", "json")
Renderer = Literal["interactive", "svg", "png", "default"]


def use_renderer(kind: Renderer = "interactive") -> None:
    """``interactive``: inline vega bundle in each output (offline, tooltips);
    ``svg``/``png``: static images from vl-convert; ``default``: Altair's (needs a CDN)."""
    if kind == "interactive":
        alt.renderers.enable("html", template="inline")
    elif kind in ("svg", "png", "default"):
        alt.renderers.enable(kind)
    else:
        raise BenchworkError(f"renderer must be interactive, svg, png or default, not {kind!r}")


def enable_offline() -> None:
    """The interactive offline renderer, unless the user already picked one."""
    if alt.renderers.active == "default":
        use_renderer("interactive")


def save(chart: Any, path: str | Path, *, scale: float = 2.0, **options: Any) -> Path:
    """Write ``chart`` to ``path``; the format comes from its suffix.

    ``.html``: self-contained (vega bundle inlined, works offline); ``.svg``, ``.png``
    (``scale`` x pixels), ``.pdf``: drawn by vl-convert; ``.json``: the Vega-Lite spec.
    """
    out = Path(path)
    fmt = out.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise BenchworkError(f"{out}: unknown chart format {fmt!r}; use one of {FORMATS}")
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "html":
        chart.save(str(out), format="html", inline=True, **options)
    elif fmt == "png":
        chart.save(str(out), format="png", scale_factor=scale, **options)
    else:
        chart.save(str(out), format=fmt, **options)
    return out
