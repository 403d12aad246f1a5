"""Lock files held with ``flock``: the operating system drops the lock when its process dies
(even on kill -9), so a lock left behind is stale by construction, never a stuck run."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["drop_lock_file"]


def drop_lock_file(path: Path, fd: int) -> None:
    """Remove *path* while still holding its lock (only if it is still our file), then close
    *fd*, which releases the lock: a waiter never locks a file that is about to vanish."""
    try:
        if os.fstat(fd).st_ino == os.stat(path).st_ino:
            os.unlink(path)
    except OSError:
        pass
    finally:
        os.close(fd)
