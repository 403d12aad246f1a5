"""Run a coroutine to completion from synchronous code, even inside a running event loop.

Jupyter and papermill cells run inside a loop, where ``asyncio.run`` fails; nest-asyncio hung
ipykernel 7 here (shared/JUPYTER.md). So when a loop is running, the coroutine runs on a
worker thread with its own loop. Hand-written rather than anyio's blocking portal: on Ctrl-C
the portal abandons the task, while a run must be cancelled *in its own loop* and waited for,
so that every finished row is kept and the manifest does not stay 'running'.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["run_blocking"]

T = TypeVar("T")


def run_blocking(coro_factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """The result of ``coro_factory()`` run to completion; Ctrl-C cancels it and waits."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro_factory())
    box: dict[str, Any] = {}
    ready = threading.Event()
    done = threading.Event()  # not Thread.join: an interrupted join() can return early later

    def worker() -> None:
        loop = asyncio.new_event_loop()
        box["loop"] = loop
        try:
            box["task"] = loop.create_task(coro_factory())
            ready.set()
            box["result"] = loop.run_until_complete(box["task"])
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc
        finally:
            ready.set()
            loop.close()
            done.set()

    thread = threading.Thread(target=worker, name="benchwork-run-sync", daemon=True)
    thread.start()
    ready.wait()
    try:
        while not done.wait(0.1):
            pass
    except KeyboardInterrupt:
        # stop the run in its own loop and wait until it has kept every finished row
        loop, task = box.get("loop"), box.get("task")
        if loop is not None and task is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nothing to stop
                loop.call_soon_threadsafe(task.cancel)
        while not done.wait(0.1):
            pass
        raise
    if "error" in box:
        raise box["error"]
    return box["result"]
