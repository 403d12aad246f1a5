"""``RunProgress``: a live progress widget for a run started with ``bw.start(...)``.

The widget is thin: its state is traitlets set from the run's events, and its one action
(the Cancel button) calls ``handle.cancel()``. Front end: ``widgets/run_progress.js`` and
``.css`` in the source tree, shipped in the wheel as ``benchwork/_widgets/``.

    h = bw.start(suite, targets, progress=False)
    RunProgress(h)          # display it; the cell returns while the run goes on
"""

from __future__ import annotations

import asyncio
import html
import time
from typing import Any

import anywidget
import traitlets

from benchwork.runner import Event, RunHandle
from benchwork.widgets._assets import asset_path, asset_text
from benchwork.widgets._kernel import in_current_cell

__all__ = ["RunProgress", "asset_path"]


class RunProgress(anywidget.AnyWidget):
    """Progress of one run: a bar, counts, a row per target, the last error and a Cancel button.

    ``RunProgress(handle)`` or ``RunProgress().attach(handle)``; updates are sent at most
    ``1 / min_interval_s`` times a second (the first and last events always go out).
    """

    _esm = asset_text("run_progress.js")
    _css = asset_text("run_progress.css")

    _bw_widget = traitlets.Unicode("RunProgress").tag(sync=True)
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
        in_current_cell(self._push_now, status)

    def _push_now(self, status: str | None) -> None:
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

    @classmethod
    def static_html(cls, state: dict[str, Any]) -> str:
        """The last state as static HTML (an exported notebook shows this with no widget manager)."""
        esc = html.escape
        total, done = int(state.get("total") or 0), int(state.get("done") or 0)
        pct = round(100 * done / total) if total else 0
        rows = "".join(
            f"<tr><td>{esc(str(t.get('name', '')))}</td><td>{int(t.get('done') or 0)}/"
            f"{int(t.get('total') or 0)}</td><td>{int(t.get('errors') or 0)}</td>"
            f"<td>{int(t.get('cached') or 0)}</td></tr>"
            for t in state.get("targets") or []
        )
        last = state.get("last_error") or ""
        return (
            '<div class="benchwork-progress" style="font:13px sans-serif">'
            f"<div><b>{esc(str(state.get('run_id') or ''))}</b> "
            f'<span class="benchwork-status">{esc(str(state.get("status") or ""))}</span> '
            f'<span class="benchwork-counts">{done}/{total} calls ({pct}%), '
            f"{int(state.get('errors') or 0)} errors, {int(state.get('cached') or 0)} cached, "
            f"{float(state.get('elapsed_s') or 0):.1f} s</span></div>"
            '<table style="border-collapse:collapse"><tr><th>target</th><th>done</th>'
            f"<th>errors</th><th>cached</th></tr>{rows}</table>"
            + (f'<div class="benchwork-last-error">{esc(str(last))}</div>' if last else "")
            + "</div>"
        )

    def __repr__(self) -> str:
        return f"RunProgress({self.run_id!r}, {self.status}, {self.done}/{self.total})"
