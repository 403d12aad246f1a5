"""Live progress for runs: an updating HTML line in notebooks, a status line in terminals.

Both are plain event subscribers; the final line says how many calls came from the cache.
"""

from __future__ import annotations

import html
import sys
import time
from collections.abc import Callable
from typing import TextIO

from benchwork.runner._events import Event, EventBus, Progress

__all__ = ["ConsoleProgress", "NotebookProgress", "attach_progress", "final_line", "in_notebook"]


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where a display can be updated in place)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()  # type: ignore[attr-defined]
    return shell is not None and getattr(shell, "kernel", None) is not None


def final_line(event: Event) -> str:
    """One line for the end of a run, e.g. ``run X finished: 72 calls (72 from cache) ...``."""
    p = event.progress
    sent = p.done - p.cached
    return (
        f"run {event.run_id} {event.status}: {p.done} calls ({p.cached} from cache, {sent} sent)"
        f" · {p.errors} errors · {p.elapsed_s:.1f} s"
    )


def _bar(p: Progress, width: int = 24) -> str:
    frac = p.done / p.total if p.total else 1.0
    filled = round(frac * width)
    return "█" * filled + "░" * (width - filled)


class ConsoleProgress:
    """A status line on stderr (redrawn on a TTY at most 10×/s; start and end lines otherwise)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last = 0.0

    def __call__(self, event: Event) -> None:
        p = event.progress
        if event.kind == "run_started":
            self.stream.write(f"run {event.run_id}: {p.total} calls planned\n")
        elif event.kind == "call_retry" and not self.tty:
            self.stream.write(
                f"  retry {event.target} / {event.case_id} in {event.delay_s:.1f} s: {event.error}\n"
            )
        elif event.kind == "call_finished" and self.tty:
            now = time.monotonic()
            if now - self._last >= 0.1 or p.done == p.total:
                self._last = now
                self.stream.write(f"\r{_bar(p)} {p}   ")
        elif event.kind == "run_finished":
            self.stream.write(("\r" if self.tty else "") + final_line(event) + " " * 8 + "\n")
        self.stream.flush()


class NotebookProgress:
    """An HTML progress line in the cell output, updated in place at most 10×/s."""

    def __init__(self) -> None:
        from IPython.core.display import HTML
        from IPython.display import display

        self._HTML = HTML
        self._handle = display(HTML(""), display_id=True)
        self._last = 0.0

    def _show(self, text: str, frac: float) -> None:
        body = (
            f'<div class="benchwork-progress-line" style="font-family:monospace">'
            f'<progress value="{frac:.3f}" max="1" style="width:14em"></progress> '
            f"{html.escape(text)}</div>"
        )
        if self._handle is not None:
            self._handle.update(self._HTML(body))

    def clear(self) -> None:
        """Blank the display (another view, e.g. the RunProgress widget, shows the run)."""
        if self._handle is not None:
            self._handle.update(self._HTML(""))

    def __call__(self, event: Event) -> None:
        p = event.progress
        frac = p.done / p.total if p.total else 1.0
        if event.kind == "run_finished":
            self._show(final_line(event), frac)
        elif event.kind in ("run_started", "call_finished"):
            now = time.monotonic()
            if event.kind == "run_started" or now - self._last >= 0.1:
                self._last = now
                self._show(f"run {event.run_id}: {p}", frac)


def attach_progress(bus: EventBus) -> Callable[[], None]:
    """Subscribe the display that fits where we are (notebook or terminal); returns a function
    that removes it again (and blanks a notebook display), e.g. when a widget takes over."""
    display = NotebookProgress() if in_notebook() else ConsoleProgress()
    unsubscribe = bus.subscribe(display)

    def remove() -> None:
        unsubscribe()
        if isinstance(display, NotebookProgress):
            display.clear()

    return remove
