"""Notebook widgets (anywidget): the Python side; front-end sources live in the top-level widgets/.

Each widget is one ES module (plus CSS) in ``widgets/`` and one class here; names load
lazily so that ``import benchwork.widgets`` does not pull in the runner or Polars.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from benchwork._util.views import set_handle_view

if TYPE_CHECKING:
    from benchwork.widgets._assets import asset_path
    from benchwork.widgets._dashboard import Dashboard
    from benchwork.widgets._explorer import Explorer
    from benchwork.widgets._launcher import Launcher
    from benchwork.widgets._progress import RunProgress
    from benchwork.widgets._static import (
        WIDGET_STATE_MIME,
        WIDGET_VIEW_MIME,
        replace_widget_views,
        static_html,
    )
    from benchwork.widgets._suite_builder import SuiteBuilder
    from benchwork.widgets._tuning import TuningView

# public name -> private module that defines it
_EXPORTS: dict[str, str] = {
    "WIDGET_STATE_MIME": "_static",
    "WIDGET_VIEW_MIME": "_static",
    "asset_path": "_assets",
    "Dashboard": "_dashboard",
    "Explorer": "_explorer",
    "Launcher": "_launcher",
    "RunProgress": "_progress",
    "replace_widget_views": "_static",
    "static_html": "_static",
    "SuiteBuilder": "_suite_builder",
    "TuningView": "_tuning",
}

__all__ = [
    "WIDGET_STATE_MIME",
    "WIDGET_VIEW_MIME",
    "Dashboard",
    "Explorer",
    "Launcher",
    "RunProgress",
    "SuiteBuilder",
    "TuningView",
    "asset_path",
    "replace_widget_views",
    "static_html",
]


def _dashboard_of(handle: Any) -> Any:
    return __getattr__("Dashboard").of(handle)


# a RunHandle displayed in a cell shows its run's one Dashboard (re-attaching after a reload)
set_handle_view(_dashboard_of)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'benchwork.widgets' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"benchwork.widgets.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
