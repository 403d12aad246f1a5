"""Static HTML for a widget's last state: what an exported notebook shows with no widget manager.

An executed notebook stores each widget's synced state in its metadata
(``application/vnd.jupyter.widget-state+json``); a cell output only points at a model id.
Offline, nbconvert's HTML cannot load the widget manager from a CDN, so the widget is blank.
Each benchwork widget carries a synced ``_bw_widget`` name and a ``static_html(state)``
classmethod; :func:`static_html` dispatches on that name and the report exporter swaps every
widget view for the HTML (``benchwork.reports`` uses :func:`replace_widget_views`).
"""

from __future__ import annotations

import html
import importlib
from typing import Any

__all__ = ["WIDGET_STATE_MIME", "WIDGET_VIEW_MIME", "replace_widget_views", "static_html"]

WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json"

# the value of a widget's synced ``_bw_widget`` trait -> the private module of its class
_CLASSES: dict[str, str] = {
    "RunProgress": "_progress",
    "SuiteBuilder": "_suite_builder",
    "Launcher": "_launcher",
    "Dashboard": "_dashboard",
    "Explorer": "_explorer",
    "TuningView": "_tuning",
}


def static_html(state: dict[str, Any]) -> str | None:
    """The static HTML of one widget's synced *state*, or None if it is not a benchwork widget."""
    name = state.get("_bw_widget")
    module = _CLASSES.get(name) if isinstance(name, str) else None
    if module is None:
        return None
    cls = getattr(importlib.import_module(f"benchwork.widgets.{module}"), name)  # type: ignore[arg-type]
    body: str = cls.static_html(state)
    return f'<div class="benchwork-static" data-widget="{html.escape(name)}">{body}</div>'  # type: ignore[arg-type]


def replace_widget_views(nb: Any) -> int:
    """Swap each benchwork widget view in notebook *nb* for its static HTML; return how many.

    Reads the states from ``nb.metadata.widgets``; a view of a model with no saved state, or
    of a widget that is not ours, is left as it is. *nb* is an ``nbformat`` notebook (changed in
    place).
    """
    saved = (nb.get("metadata", {}).get("widgets") or {}).get(WIDGET_STATE_MIME) or {}
    states: dict[str, Any] = saved.get("state") or {}
    swapped = 0
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            data = output.get("data") or {}
            view = data.get(WIDGET_VIEW_MIME)
            if not isinstance(view, dict):
                continue
            model = states.get(view.get("model_id", ""), {})
            rendered = static_html(model.get("state") or {})
            if rendered is None:
                continue
            output["data"] = {"text/html": rendered, "text/plain": data.get("text/plain", "")}
            swapped += 1
    return swapped
