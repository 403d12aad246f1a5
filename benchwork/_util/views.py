"""Where a higher layer plugs in how an object displays itself in a notebook.

``RunHandle`` (runner) shows the run's live widget when one is available, but the runner sits
below the widgets and may not import them. ``benchwork.widgets`` registers its view here when
it is imported; the runner only looks it up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["handle_view", "set_handle_view"]

_handle_view: Callable[[Any], Any] | None = None


def set_handle_view(fn: Callable[[Any], Any] | None) -> None:
    """Make ``fn(handle)`` the object a ``RunHandle`` displays as (None: its text repr)."""
    global _handle_view
    _handle_view = fn


def handle_view() -> Callable[[Any], Any] | None:
    """The registered view of a ``RunHandle``, if any."""
    return _handle_view
