"""One writer per run: an advisory lock file in the run's folder, holding the writer's pid.

Two processes appending to one journal pay for the same calls twice (two resumes at once, or
a resume while the run still goes). The writer holds ``fcntl.flock`` on ``<run>/.lock`` for
its whole life; the kernel drops the lock when the process dies, so a lock left by a
``kill -9`` is stale by construction and the next writer takes it over. The file's text
(pid, host, start time) is only there to name the holder in the refusal message. A clean
release removes the file (while still holding the lock; a writer that locked the removed file
notices by its inode and retries), so only a crashed writer leaves one behind.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchwork._util.flock import drop_lock_file
from benchwork.errors import RunLockedError, StoreError

__all__ = ["LOCK_NAME", "RunLock", "lock_holder"]

LOCK_NAME = ".lock"
_TRIES = 20


def _holder_text(path: Path) -> dict[str, Any]:
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def lock_holder(run_dir: Path) -> dict[str, Any] | None:
    """``{"pid", "host", "since"}`` of the process writing the run now, or None.

    None when nobody holds the lock (no writer, or the last one died: a stale lock file).
    """
    path = run_dir / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _holder_text(path) or {"pid": None, "host": None}
    except OSError:
        return None
    finally:
        os.close(fd)
    return None


def _flock_briefly_waiting(fd: int) -> None:
    """LOCK_EX, waiting up to ~0.1 s: ``lock_holder`` (a listing) takes a shared lock for a
    few microseconds, and must not make a writer that starts at that moment refuse."""
    for _ in range(_TRIES - 1):
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            time.sleep(0.005)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


class RunLock:
    """The lock of one run's folder, held from ``acquire()`` until ``release()`` (or death)."""

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> RunLock:
        """Take the lock, or raise :class:`RunLockedError` naming the run and the holder's pid."""
        for _ in range(100):  # another writer may remove the file between our open and flock
            fd = self._open()
            try:
                _flock_briefly_waiting(fd)
            except BlockingIOError:
                os.close(fd)
                raise self._refusal() from None
            except OSError as exc:
                os.close(fd)
                raise StoreError(
                    f"{self.path}: cannot lock the run ({exc.strerror or exc})"
                ) from exc
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except OSError:
                same = False
            if same:
                break
            os.close(fd)  # we locked a file that was removed meanwhile: try the new one
        else:
            raise StoreError(f"{self.path}: cannot take the run's lock (it keeps changing)")
        text = json.dumps(
            {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "since": datetime.now(UTC).isoformat(timespec="seconds"),
            }
        )
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, text.encode(), 0)
        except OSError:  # the text only names us in messages; the flock is what counts
            pass
        self._fd = fd
        return self

    def _open(self) -> int:
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(
                f"{self.path}: cannot create the run's lock file ({exc.strerror or exc}); "
                "check that the run folder is writable"
            ) from exc

    def _refusal(self) -> RunLockedError:
        info = _holder_text(self.path)
        pid, host = info.get("pid"), info.get("host")
        who = f"pid {pid}" if pid else "another process"
        if host and host != socket.gethostname():
            who += f" on {host}"
        elif pid and not _alive(pid):  # held, but the text is a dead writer's: not written yet
            who = "another process"
        if pid == os.getpid() and host == socket.gethostname():
            who = f"this process (pid {pid}): a run of it started here is still going, or its "
            who += "writer was not closed; await or cancel it"
        since = f" since {info['since']}" if info.get("since") else ""
        return RunLockedError(
            f"run {self.path.parent.name!r} is being written by {who}{since} (lock "
            f"{self.path}): wait for it to finish or stop it, then resume; two writers "
            "would pay for the same calls twice"
        )

    def release(self) -> None:
        """Give the lock up (idempotent) and remove the lock file while still holding it."""
        fd, self._fd = self._fd, None
        if fd is not None:
            drop_lock_file(self.path, fd)  # closing drops the flock

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __del__(self) -> None:
        self.release()
