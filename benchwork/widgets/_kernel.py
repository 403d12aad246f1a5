"""Kernel plumbing for widgets: which cell a message belongs to, and which loop work runs on.

Send a widget's update as part of the cell running now, so executed notebooks keep it.

A run goes on in a task started by one cell while later cells execute. ipykernel stamps
each message with the parent request of the context that sends it (a context variable), so
the run's updates carry the *starting* cell's header. JupyterLab does not mind, but nbclient
(papermill, ``nbconvert --execute``) records only the messages of the cell it is executing:
the saved widget state, and so an exported report, would keep the state at the start.
:func:`in_current_cell` runs a widget update in a copy of the context of the cell executing
now (captured by an IPython ``pre_execute`` hook), which fixes the header and nothing else.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from typing import Any

__all__ = ["call_on", "in_current_cell", "running_loop"]

_current: contextvars.Context | None = None
_hooked = False


def _capture() -> None:
    global _current
    _current = contextvars.copy_context()


def _hook() -> None:
    global _hooked
    if _hooked:
        return
    _hooked = True
    try:
        from IPython.core.getipython import get_ipython

        shell = get_ipython()
    except ImportError:  # pragma: no cover - IPython comes with ipykernel
        return
    if shell is not None:
        shell.events.register("pre_execute", _capture)


def in_current_cell(fn: Callable[..., Any], *args: Any) -> Any:
    """Call ``fn(*args)`` in the context of the cell executing now (or the last one)."""
    _hook()
    ctx = _current
    if ctx is None:
        return fn(*args)
    return ctx.copy().run(fn, *args)


def running_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop running in this thread, or None."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def call_on(
    loop: asyncio.AbstractEventLoop,
    fn: Callable[[], Any],
    on_error: Callable[[Exception], Any] | None = None,
) -> None:
    """Call ``fn()`` on *loop*: now when this thread runs it, else handed over thread-safely.

    JupyterLab 4.6 / ipykernel 7 can handle a widget's click on another thread than the
    cells' loop; work started there (a run, a tuning) must go on the cells' loop so a later
    cell can ``await`` it. A handed-over call that raises reports to *on_error* (nobody else
    is listening); called here, it raises as usual.
    """
    if loop is running_loop():
        fn()
        return

    def there() -> None:
        try:
            fn()
        except Exception as exc:
            if on_error is None:
                raise
            on_error(exc)

    loop.call_soon_threadsafe(there)
