"""``RunProgress``: a live progress widget for a run started with ``bw.start(...)``.

The widget is thin: its state is traitlets set from the run's events, and its one action
(the Cancel button) calls ``handle.cancel()``. Front end: ``widgets/run_progress.js`` and
``.css`` in the source tree, shipped in the wheel as ``benchwork/_widgets/``.

    h = bw.start(suite, targets, progress=False)
    RunProgress(h)          # display it; the cell returns while the run goes on
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from benchwork.runner import Event, RunHandle

__all__ = ["RunProgress", "asset_path"]

_PACKAGE = Path(__file__).resolve().parents[1]
# the wheel (force-include widgets -> benchwork/_widgets), then the source tree / editable install
_ASSET_DIRS = (_PACKAGE / "_widgets", _PACKAGE.parent / "widgets")


def asset_path(name: str) -> Path:
    """Where a front-end file (``run_progress.js``, ``run_progress.css``) is installed."""
    for folder in _ASSET_DIRS:
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(
        f"benchwork widget asset {name!r} not found in {', '.join(map(str, _ASSET_DIRS))}"
    )


def _text(name: str) -> str:
    return asset_path(name).read_text(encoding="utf-8")


class RunProgress(anywidget.AnyWidget):
    """Progress of one run: a bar, counts, a row per target, the last error and a Cancel button.

    ``RunProgress(handle)`` or ``RunProgress().attach(handle)``; updates are sent at most
    ``1 / min_interval_s`` times a second (the first and last events always go out).
    """

    _esm = _text("run_progress.js")
    _css = _text("run_progress.css")

    run_id = traitlets.Unicode("").tag(sync=True)
    status = traitlets.Unicode("pending").tag(sync=True)
    total = traitlets.Int(0).tag(sync=True)
    done = traitlets.Int(0).tag(sync=True)
    errors = traitlets.Int(0).tag(sync=True)
    cached = traitlets.Int(0).tag(sync=True)
    retries = traitlets.Int(0).tag(sync=True)
    elapsed_s = traitlets.Float(0.0).tag(sync=True)
    #: one dict per target: name, total, done, errors, cached
    targets = traitlets.List(traitlets.Dict()).tag(sync=True)
    last_error = traitlets.Unicode("").tag(sync=True)

    min_interval_s = 0.1

    def __init__(self, handle: RunHandle | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._handle: RunHandle | None = None
        self._unsubscribe: Any = None
        self._last_push = 0.0
        self._pending: asyncio.TimerHandle | None = None
        self._last_error = ""
        self.on_msg(self._on_msg)
        if handle is not None:
            self.attach(handle)

    # -- wiring ----------------------------------------------------------------------------
    def attach(self, handle: RunHandle) -> RunProgress:
        """Follow ``handle``'s events (replacing any earlier run); returns the widget."""
        self.detach()
        handle.hide_progress()  # this widget shows the run: no second display
        self._handle = handle
        self._last_error = ""
        self._push()
        if not handle.done():
            self._unsubscribe = handle.subscribe(self._on_event)
        return self

    def detach(self) -> None:
        """Stop following the run (the widget keeps its last state)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None

    def cancel(self) -> None:
        """What the Cancel button does: ``handle.cancel()`` (finished rows are kept)."""
        if self._handle is not None and not self._handle.done():
            self._handle.cancel()

    def _on_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "cancel":
            self.cancel()

    # -- events → traitlets ----------------------------------------------------------------
    def _on_event(self, event: Event) -> None:
        record = event.record
        if event.kind == "call_finished" and record is not None and record.status != "ok":
            what = record.error_type or f"HTTP {record.http_status}"
            self._last_error = f"{record.target} / {record.case_id}: {what}: {record.error_message}"
        if event.kind == "run_finished":
            self._push(status=event.status)
            self.detach()
            return
        wait = self._last_push + self.min_interval_s - time.monotonic()
        if event.kind == "run_started" or wait <= 0:
            self._push()
        elif self._pending is None:
            try:  # flush the held-back counts even if no further event comes soon
                self._pending = asyncio.get_running_loop().call_later(wait, self._push)
            except RuntimeError:
                pass

    def _push(self, status: str | None = None) -> None:
        handle = self._handle
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        if handle is None:
            return
        self._last_push = time.monotonic()
        p = handle.progress
        with self.hold_sync():
            self.run_id = handle.run_id
            self.status = status or handle.status
            self.total, self.done, self.errors = p.total, p.done, p.errors
            self.cached, self.retries = p.cached, p.retries
            self.elapsed_s = round(p.elapsed_s, 1) if self.status != "pending" else 0.0
            self.targets = [{"name": n, **c} for n, c in handle.by_target().items()]
            self.last_error = self._last_error

    def __repr__(self) -> str:
        return f"RunProgress({self.run_id!r}, {self.status}, {self.done}/{self.total})"
