"""Run events that progress displays, widgets and logs subscribe to (none is required).

A ``call_finished`` event is emitted only after the call's row is durably journaled.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from benchwork.results import CallRecord

__all__ = ["Event", "EventBus", "EventKind", "Progress"]

EventKind = Literal["run_started", "call_started", "call_retry", "call_finished", "run_finished"]
log = logging.getLogger("benchwork")


@dataclass
class Progress:
    """Counts so far; ``done`` includes errors and cache hits, excludes nothing."""

    total: int = 0
    done: int = 0
    errors: int = 0
    cached: int = 0
    retries: int = 0
    started: float = field(default_factory=time.perf_counter)

    @property
    def elapsed_s(self) -> float:
        return time.perf_counter() - self.started

    def __str__(self) -> str:
        return (
            f"{self.done}/{self.total} calls · {self.errors} errors · "
            f"{self.cached} cached · {self.elapsed_s:.1f} s"
        )


@dataclass(frozen=True)
class Event:
    """One thing that happened in a run; ``record`` is set on call_finished."""

    kind: EventKind
    run_id: str
    progress: Progress
    record: CallRecord | None = None
    case_id: str | None = None
    target: str | None = None
    repeat: int | None = None
    attempt: int | None = None
    delay_s: float | None = None
    error: str | None = None
    status: str | None = None


Subscriber = Callable[[Event], None]


class EventBus:
    """Fan-out to subscribers; a failing subscriber is logged and never breaks the run."""

    def __init__(self) -> None:
        self._subs: list[Subscriber] = []

    def subscribe(self, fn: Subscriber) -> Callable[[], None]:
        """Add a subscriber; returns a function that removes it."""
        self._subs.append(fn)
        return lambda: self._subs.remove(fn) if fn in self._subs else None

    def emit(self, event: Event) -> None:
        for fn in list(self._subs):
            try:
                fn(event)
            except Exception:  # a broken display must not lose a run
                log.exception("benchwork: event subscriber %r failed", fn)
