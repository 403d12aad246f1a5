"""Single-flight across processes: two kernels on one cache pay for each call once.

In one process, ``CachePolicy`` shares an identical call in flight. Across processes (two
notebooks running the same suite on one empty cache) the cache folder is what they share,
so the leader of a key holds ``fcntl.flock`` on ``<cache>/flight/<key>.lock`` from its miss
until its answer is stored (or its call failed). Another process that misses the same key
waits, without blocking its event loop, until the answer is in the cache (a hit) or the lock
is free with no answer (the leader failed or died: the kernel drops a dead process's flock),
and then leads itself. A released lock file is removed while still held; whoever locked the
removed file notices by its inode and tries again.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchwork._util.flock import drop_lock_file

__all__ = ["Lease", "claim_key"]

#: first and longest pause between two looks at a key another process is calling (seconds)
_POLL_FIRST_S = 0.01
_POLL_MAX_S = 0.25


class Lease:
    """The right to call one key: held until :meth:`release` (idempotent) or process death."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            drop_lock_file(self.path, fd)

    def __del__(self) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"Lease({self.path.name!r}, {'held' if self._fd is not None else 'released'})"


def _try_lock(path: Path) -> Lease | None:
    """The lease if nobody holds it now, else None. OSError if the folder is unusable."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        except OSError:
            os.close(fd)
            raise
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except OSError:
            same = False
        if same:
            return Lease(path, fd)
        os.close(fd)  # locked a file its holder had just removed: try the current one


async def claim_key(
    folder: Path,
    key: str,
    get: Callable[[str], dict[str, Any] | None],
    has: Callable[[str], bool],
) -> tuple[dict[str, Any] | None, Lease | None]:
    """``(answer, None)`` once another process stored ``key``'s answer, or ``(None, lease)``:
    the caller makes the call, stores it, then releases the lease (also when it failed).

    ``(None, None)``: no cross-process coordination possible (the folder is unusable); the
    caller just makes the call. ``get``/``has`` read the cache.
    """
    path = folder / f"{key}.lock"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None, None
    pause = _POLL_FIRST_S
    while True:
        try:
            lease = _try_lock(path)
        except OSError:
            return None, None
        if lease is not None:
            hit = get(key)  # stored by a leader that finished just before we locked
            if hit is None:
                return None, lease
            lease.release()
            return hit, None
        # another process is calling this key: wait for its answer, or for its lock to go
        # (it failed, or died), then try again
        await asyncio.sleep(pause)
        pause = min(pause * 2, _POLL_MAX_S)
        if has(key):
            hit = get(key)
            if hit is not None:
                return hit, None
