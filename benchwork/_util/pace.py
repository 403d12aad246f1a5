"""Request pacing: at most ``rpm`` call starts per minute, evenly spaced, for candidates and judges.

Uses aiolimiter's leaky bucket (maintained, loop-aware, fair to waiters) instead of our former
hand-written pacer. A bucket of capacity 1 refilled every ``60 / rpm`` seconds spaces starts
evenly; a larger bucket would let ``rpm`` calls burst at once, which providers count as a spike.
"""

from __future__ import annotations

from aiolimiter import AsyncLimiter

__all__ = ["Pacer"]


class Pacer:
    """Spaces call starts to at most ``rpm`` per minute; ``rpm=None`` does not pace at all."""

    def __init__(self, rpm: float | None) -> None:
        self.rpm = rpm
        self._limiter = AsyncLimiter(1, 60.0 / rpm) if rpm else None

    async def wait(self) -> None:
        """Return when the next call may start."""
        if self._limiter is not None:
            await self._limiter.acquire()
