"""Offline display and saving: charts show with no network, and save as standalone files.

Altair 6 writes Vega-Lite v6, which JupyterLab 4 cannot draw itself, and Altair's default
renderer fetches Vega from a CDN. Importing ``benchwork.charts`` therefore enables, unless
another renderer was chosen, the ``benchwork`` renderer: each chart's output carries vega,
vega-lite and vega-embed (vl-convert's bundle, about 0.9 MB), so it is interactive
(tooltips) with no network in JupyterLab, VS Code, classic notebooks and exported HTML.
Altair's own ``html`` renderer with ``template="inline"`` is not used: its scripts declare
top-level ``const``s, so in a notebook page only the first chart draws (the second throws
"Identifier has already been declared"); here the bundle runs once per page inside a
function and each chart in its own scope. ``use_renderer("svg")`` switches to static SVG
drawn by vl-convert (small notebooks, shows even where scripts do not run).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
from pathlib import Path
from typing import Any, Literal

import altair as alt

from benchwork.errors import BenchworkError

__all__ = ["FORMATS", "RENDERER", "enable_offline", "inline_html", "save", "use_renderer"]

RENDERER = "benchwork"
_count = itertools.count()
_bundle: list[str] = []


def _vega_bundle() -> str:
    """vega + vega-lite + vega-embed for Altair's Vega-Lite version (vl-convert; cached)."""
    if not _bundle:
        import vl_convert as vlc
        from altair.utils._importers import vl_version_for_vl_convert

        make: Any = vlc.javascript_bundle  # its stub wants a snippet; None = the default one
        _bundle.append(make(vl_version=vl_version_for_vl_convert()))
    return _bundle[0]


def _static_svg(spec: dict[str, Any]) -> str | None:
    """The chart as SVG (vl-convert), for pages where scripts do not run; None if it fails."""
    try:
        import vl_convert as vlc
        from altair.utils._importers import vl_version_for_vl_convert

        return vlc.vegalite_to_svg(spec, vl_version=vl_version_for_vl_convert())
    except Exception:  # the interactive chart still draws; the fallback is a nicety
        return None


def inline_html(
    spec: dict[str, Any],
    embed_options: dict[str, Any] | None = None,
    *,
    static: bool = True,
) -> str:
    """An HTML snippet that draws ``spec`` with no network: the bundle is evaluated once per
    page (inside a function, so no global names clash), the chart in its own scope.

    ``static``: also carry the chart as an SVG image, shown where scripts do not run (a
    notebook reopened untrusted, viewers that sanitise HTML) and removed by the script."""
    text = json.dumps(spec, sort_keys=True)
    div = f"benchwork-chart-{hashlib.sha256(text.encode()).hexdigest()[:12]}-{next(_count)}"
    options = json.dumps({"mode": "vega-lite", **(embed_options or {})})
    safe = text.replace("</", "<\\/")
    svg = _static_svg(spec) if static else None
    picture = (
        f'<img id="{div}-static" class="benchwork-static" alt="chart (static)" '
        f'src="data:image/svg+xml;base64,{base64.b64encode(svg.encode()).decode()}">\n'
        if svg
        else ""
    )
    return (
        f"{picture}"
        f'<div id="{div}" class="benchwork-chart"></div>\n'
        '<script type="text/javascript">\n'
        "if (typeof window.vegaEmbed !== 'function') { (function () {\n"
        f"{_vega_bundle()}\n"
        "})(); }\n"
        "(function () {\n"
        f"  var still = document.getElementById('{div}-static');\n"
        "  if (still) { still.remove(); }\n"
        f"  window.vegaEmbed('#{div}', {safe}, {options}).catch(function (err) {{\n"
        f"    document.getElementById('{div}').textContent = 'chart error: ' + err;\n"
        "  });\n"
        "})();\n"
        "</script>"
    )


def _render(spec: dict[str, Any], **metadata: Any) -> dict[str, str]:
    embed = metadata.get("embed_options") or alt.renderers.options.get("embed_options")
    static = bool(metadata.get("static", True))
    return {
        "text/html": inline_html(spec, embed, static=static),
        "text/plain": "<Vega-Lite chart: benchwork inline renderer>",
    }


alt.renderers.register(RENDERER, _render)

FORMATS = ("html", "svg", "png", "pdf", "json")
Renderer = Literal["interactive", "svg", "png", "default"]


def use_renderer(kind: Renderer = "interactive", *, static: bool = True) -> None:
    """``interactive``: inline vega bundle in each output (offline, tooltips), plus an SVG
    copy shown where scripts do not run (``static=False`` leaves it out: smaller, faster);
    ``svg``/``png``: static images from vl-convert; ``default``: Altair's (needs a CDN)."""
    if kind == "interactive":
        alt.renderers.enable(RENDERER, static=static)
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
