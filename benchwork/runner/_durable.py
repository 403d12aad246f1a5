"""Durable writes off the event loop: journal lines (group-committed) and cache entries.

fsync and SQLite commits take 0.3–5 ms; done on the loop they delay every other stream's
chunks and skew TTFT. One writer thread does them in order, batching whatever queued up
into one fsync, and the finishing call awaits its own write before its event is emitted.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from typing import Any

from benchwork.store import RunWriter

__all__ = ["DurableWriter"]

_STOP = object()


class DurableWriter:
    """``await write(record, after=fn)``: the record is fsynced (and ``fn`` run) on return."""

    def __init__(self, writer: RunWriter) -> None:
        self._writer = writer
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._work, name="benchwork-writer", daemon=True)
        self._thread.start()

    async def write(
        self, record: dict[str, Any] | None, after: Callable[[], None] | None = None
    ) -> None:
        """Journal ``record`` (None: no line) and then run ``after``, in order, on the thread."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        line = None if record is None else self._writer.serialize(record)
        self._queue.put((line, after, future, loop))
        await asyncio.shield(future)  # a cancelled caller still gets its row written

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            batch = [item]
            while True:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    self._commit(batch)
                    return
                batch.append(nxt)
            self._commit(batch)

    def _commit(self, batch: list[Any]) -> None:
        error: BaseException | None = None
        try:
            lines = [line for line, *_ in batch if line is not None]
            if lines:
                self._writer.append_lines(lines)
        except BaseException as exc:  # reported to every waiting call
            error = exc
        for _line, after, future, loop in batch:
            err = error
            if after is not None:  # even when the journal failed: the paid answer is kept
                try:  # in the cache then, and a resume takes it from there
                    after()
                except BaseException as exc:
                    err = err or exc
            loop.call_soon_threadsafe(_settle, future, err)

    def close(self) -> None:
        """Finish queued writes and stop the thread."""
        self._queue.put(_STOP)
        self._thread.join()


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
