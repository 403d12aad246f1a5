"""Measurement health: how late the event loop ran while calls were timed, and the client's CPU.

A timing is only as good as the loop that takes it: if the loop is busy (a slow scorer, a
GC pause, a starved CPU), a chunk that arrived on time is seen late, and TTFT grows with no
fault of the model. A ticker sleeps ``tick_s`` over and over and records how late each wake-up
was; each live call gets the worst lag seen while it ran (``loop_lag_ms``), and a call whose
lag passes ``LAG_FLAG_MS`` has speed figures a reader should not trust without a look.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

__all__ = ["LAG_FLAG_MS", "LoopMonitor"]

#: a call whose loop lag went past this had its timings possibly distorted by the client
LAG_FLAG_MS = 10.0


class LoopMonitor:
    """Samples event-loop lag every ``tick_s`` while a run goes; measures client CPU time."""

    def __init__(self, tick_s: float = 0.02) -> None:
        self.tick_s = tick_s
        self.lags: list[float] = []  # seconds late, one per tick
        self._task: asyncio.Task[None] | None = None
        self._cpu0 = 0.0
        self.cpu_s: float | None = None

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + self.tick_s
            await asyncio.sleep(self.tick_s)
            self.lags.append(max(0.0, loop.time() - due))

    def start(self) -> None:
        self._cpu0 = time.process_time()
        self._task = asyncio.get_running_loop().create_task(self._tick(), name="benchwork-loop-lag")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.cpu_s = time.process_time() - self._cpu0

    def mark(self) -> int:
        """A position to measure from (before a call starts)."""
        return len(self.lags)

    def worst_since(self, mark: int) -> float:
        """The worst lag (ms) of the ticks since *mark*, and of the tick running now."""
        window = self.lags[mark:]
        return round(max(window, default=0.0) * 1000, 2)

    def summary(self) -> dict[str, Any]:
        """For the manifest: loop lag p50/p99/max (ms), ticks, and client CPU seconds."""
        lags = sorted(self.lags)
        if not lags:
            return {"loop_lag_ticks": 0, "client_cpu_s": self.cpu_s}

        def q(p: float) -> float:
            return round(lags[min(len(lags) - 1, int(p * len(lags)))] * 1000, 2)

        return {
            "loop_lag_ticks": len(lags),
            "loop_lag_p50_ms": q(0.5),
            "loop_lag_p99_ms": q(0.99),
            "loop_lag_max_ms": round(lags[-1] * 1000, 2),
            "client_cpu_s": round(self.cpu_s, 3) if self.cpu_s is not None else None,
        }
