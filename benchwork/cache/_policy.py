"""The cache policy: what each cache mode reads and writes, and single-flight for live calls.

The runner and the LLM-judge model both go through ``CachePolicy``, so a mode means the same
thing for a candidate call and a judge call:

=========  =============  ==============  =========================================
mode       reads          writes          a miss
=========  =============  ==============  =========================================
use        yes            ok answers      is sent
refresh    no             ok answers      is sent (every call is)
off        no             no              is sent
replay     yes            no              is an error naming the call (no network)
=========  =============  ==============  =========================================

Single-flight: while a call is in flight, an identical call (same key) waits for its answer
instead of paying again, e.g. two judge prompts, or two cases that render to the same
request, at the same moment. A follower gets the leader's answer as a cache hit; if the leader
fails, the follower makes its own call. Hand-written (a dict of futures) because the libraries
that offer it (aiocache, async-lru) bring their own cache and key rules, and ours are on disk.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, cast, get_args

from benchwork.errors import BenchworkError

if TYPE_CHECKING:
    from benchwork.cache._cache import CallCache

__all__ = ["CacheMode", "CachePolicy"]

CacheMode = Literal["use", "refresh", "off", "replay"]
_MODES: tuple[str, ...] = get_args(CacheMode)


class CachePolicy:
    """A cache (or None) under one mode: lookups, deferred writes, and in-flight sharing."""

    def __init__(self, cache: CallCache | None, mode: CacheMode | str) -> None:
        if mode not in _MODES:
            raise BenchworkError(f"unknown cache mode {mode!r}; use one of {', '.join(_MODES)}")
        self.cache = cache
        self.mode = cast(CacheMode, mode)
        self._inflight: dict[str, asyncio.Future[dict[str, Any] | None]] = {}
        self.shared = 0  #: calls answered by an identical call in flight (single-flight)

    @property
    def reads(self) -> bool:
        """Whether stored answers are used (modes 'use' and 'replay')."""
        return self.cache is not None and self.mode in ("use", "replay")

    @property
    def writes(self) -> bool:
        """Whether live answers are stored (modes 'use' and 'refresh')."""
        return self.cache is not None and self.mode in ("use", "refresh")

    @property
    def replay(self) -> bool:
        """In replay mode a miss is an error: nothing may go over the network."""
        return self.mode == "replay"

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored answer for *key*, or None (a miss, or a mode that does not read)."""
        if not self.reads or not key:
            return None
        assert self.cache is not None
        return self.cache.get(key)

    def __contains__(self, key: str) -> bool:
        return self.reads and bool(key) and key in self.cache  # type: ignore[operator]

    def writer(
        self, key: str, components: dict[str, Any] | None, row: dict[str, Any], **where: str
    ) -> Callable[[], None] | None:
        """A deferred write of an ok answer (run it off the loop), or None when not cached.

        ``where`` (``case_id``, ``target``) labels the entry for ``cache why`` and stats.
        """
        if not self.writes or not key or components is None or row.get("status") != "ok":
            return None
        cache = self.cache
        assert cache is not None

        def put() -> None:
            cache.put(key, components, row, **where)

        return put

    # -- single-flight ---------------------------------------------------------------------
    def join(self, key: str) -> asyncio.Future[dict[str, Any] | None] | None:
        """None: the caller leads (it must call ``land(key, row)`` when done, even on failure).

        Otherwise a future that resolves to the leader's answer (a record dict), or to None
        when the leader failed and the caller should make its own call. Only modes that may
        reuse an answer share ('use', 'refresh'); 'off' asks for every call to be sent.
        """
        if not key or self.mode not in ("use", "refresh"):
            return None
        loop = asyncio.get_running_loop()
        fut = self._inflight.get(key)
        if fut is not None and not fut.done() and fut.get_loop() is loop:
            self.shared += 1
            return fut
        self._inflight[key] = loop.create_future()
        return None

    def land(self, key: str, row: dict[str, Any] | None) -> None:
        """The leader's answer (None on failure) for every call waiting on *key*."""
        fut = self._inflight.pop(key, None)
        if fut is not None and not fut.done():
            ok = row is not None and row.get("status") == "ok"
            fut.set_result(row if ok else None)
