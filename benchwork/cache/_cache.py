"""The call cache: finished calls on disk, keyed by what changes the answer.

This is the only module that touches diskcache. Entries are JSON text (not pickles), so a
shared cache folder cannot run code and its contents stay readable. Layout under ``directory``:
``cache.db`` holds one entry per call; ``index/`` holds a small "why" index, one entry per
(target, case_id) listing that pair's keys, so :meth:`CallCache.why` need not scan everything.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import diskcache

from benchwork._util.redact import Redactor
from benchwork.cache._key import (
    key_for_components,
)
from benchwork.cache._why import CacheWhy, diff_components
from benchwork.errors import BenchworkError

__all__ = ["CACHE_MODES", "CallCache", "check_mode", "default_cache_dir"]

#: ``use``: read and write; ``refresh``: write only; ``off``: neither; ``replay``: read only,
#: a miss is an error (how reports re-execute offline).
CACHE_MODES = ("use", "refresh", "off", "replay")

#: Record fields that belong to one run, not to the call's answer: never stored.
_RUN_FIELDS = ("run_id", "scores", "cached")
#: diskcache settings. SQLite waits up to 60 s for another process's lock instead of failing;
#: eviction is off (a benchmark cache must not drop answers behind your back: use prune/clear).
_SETTINGS: dict[str, Any] = {"eviction_policy": "none", "size_limit": 10 * 2**30, "cull_limit": 0}
_SQLITE_TIMEOUT = 60.0
#: At most this many candidate entries are compared by ``why`` (it is interactive, not hot).
_WHY_CANDIDATES = 500


def _now() -> float:  # patched by tests to fake entry ages
    return time.time()


def check_mode(mode: str) -> str:
    """Return ``mode`` if it is one of :data:`CACHE_MODES`, else raise a clear error."""
    if mode not in CACHE_MODES:
        raise BenchworkError(f"unknown cache mode {mode!r}; use one of {', '.join(CACHE_MODES)}")
    return mode


def default_cache_dir() -> Path:
    """``$BENCHWORK_CACHE_DIR``, else the user cache dir + ``/calls``."""
    env = os.environ.get("BENCHWORK_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("benchwork")) / "calls"


def _index_key(target: str, case_id: str) -> str:
    return json.dumps([target, case_id], ensure_ascii=False)


class CallCache:
    """Finished ``ok`` calls on disk, safe for several processes (kernels) at once."""

    def __init__(
        self, directory: str | Path | None = None, *, redactor: Redactor | None = None
    ) -> None:
        self._dir = Path(directory).expanduser() if directory is not None else default_cache_dir()
        self._redactor = redactor or Redactor()
        self._calls = diskcache.Cache(str(self._dir), timeout=_SQLITE_TIMEOUT, **_SETTINGS)
        self._index = diskcache.Cache(
            str(self._dir / "index"), timeout=_SQLITE_TIMEOUT, **_SETTINGS
        )

    @property
    def directory(self) -> Path:
        """The folder holding the cache."""
        return self._dir

    # -- hot path -----------------------------------------------------------------------------

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored call record (without run_id/scores/cached), or ``None`` on a miss."""
        raw = self._calls.get(key)
        if raw is None:
            return None
        return json.loads(raw)["record"]

    def entry(self, key: str) -> dict[str, Any] | None:
        """The whole stored entry: ``record``, ``components``, ``case_id``, ``target``, ``created``."""
        raw = self._calls.get(key)
        return None if raw is None else json.loads(raw)

    def put(
        self,
        key: str,
        components: dict[str, Any],
        record: dict[str, Any],
        *,
        case_id: str,
        target: str,
    ) -> None:
        """Store a finished call; anything but ``status == "ok"`` is ignored (errors never cached)."""
        if not isinstance(record, dict):  # a CallRecord
            record = record.to_dict()
        if record.get("status") != "ok":
            return
        scrub = self._redactor
        entry = {
            "record": {k: v for k, v in record.items() if k not in _RUN_FIELDS},
            "components": components,
            "case_id": case_id,
            "target": target,
            "created": _now(),
        }
        if scrub:
            entry = scrub.scrub_obj(entry)
            case_id, target = scrub.scrub(case_id), scrub.scrub(target)
        self._calls.set(key, json.dumps(entry, ensure_ascii=False, separators=(",", ":")))
        self._index_add(_index_key(target, case_id), key)

    def _index_add(self, ikey: str, key: str) -> None:
        # Read-modify-write under one SQLite write transaction: no lost updates across processes.
        with self._index.transact():
            keys = self._index.get(ikey)
            keys = json.loads(keys) if keys else []
            if key not in keys:
                keys.append(key)
                self._index.set(ikey, json.dumps(keys))

    def __contains__(self, key: object) -> bool:
        return key in self._calls

    def __len__(self) -> int:
        """Number of stored calls (index entries not counted)."""
        return len(self._calls)

    # -- why ----------------------------------------------------------------------------------

    def index_keys(self, target: str, case_id: str) -> list[str]:
        """Keys the why-index lists for ``(target, case_id)`` (may include since-pruned keys)."""
        raw = self._index.get(
            _index_key(self._redactor.scrub(target), self._redactor.scrub(case_id))
        )
        return json.loads(raw) if raw else []

    def why(
        self,
        components: dict[str, Any],
        *,
        case_id: str | None = None,
        target: str | None = None,
        exclude: str | None = None,
    ) -> CacheWhy:
        """Explain a miss: the nearest stored entry and which components differ from it.

        Candidates come from the index for ``(target, case_id)``; failing that, the same case
        on other targets, then the same target's other cases; a full scan only when the index
        is empty. Nearest = same case and target first, then fewest differing components.
        ``exclude`` leaves one key out (e.g. the call's own entry, written after it missed).
        """
        key = key_for_components(components)
        if key != exclude and key in self._calls:
            return CacheWhy(True, key, [], case_id, target, case_id, target)
        requested = self._redactor.scrub_obj(components)
        scrub = self._redactor.scrub
        case_s = scrub(case_id) if case_id is not None else None
        target_s = scrub(target) if target is not None else None
        best: tuple[tuple[int, int, int], str, dict[str, Any]] | None = None
        for ckey, entry in self._why_candidates(case_id, target, exclude):
            diffs = diff_components(entry.get("components") or {}, requested)
            rank = (
                int(case_s is not None and entry.get("case_id") != case_s),
                int(target_s is not None and entry.get("target") != target_s),
                len(diffs),
            )
            if best is None or rank < best[0]:
                best = (rank, ckey, entry)
        if best is None:
            return CacheWhy(False, None, [], case_id, target)
        _, ckey, entry = best
        diffs = diff_components(entry.get("components") or {}, requested)
        return CacheWhy(
            False, ckey, diffs, case_id, target, entry.get("case_id"), entry.get("target")
        )

    def _why_candidates(
        self, case_id: str | None, target: str | None, exclude: str | None
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        scrub = self._redactor.scrub
        case_s = scrub(case_id) if case_id is not None else None
        target_s = scrub(target) if target is not None else None

        def live(keys: list[str]) -> list[str]:
            return [k for k in keys if k != exclude and k in self._calls]

        keys: list[str] = []
        if case_s is not None and target_s is not None:
            keys = live(self.index_keys(target, case_id))  # type: ignore[arg-type]
        if not keys:
            same_case, same_target = [], []
            for ikey in self._index.iterkeys():
                t, c = json.loads(ikey)
                if case_s is not None and c == case_s:
                    same_case.append(ikey)
                elif target_s is not None and t == target_s:
                    same_target.append(ikey)
                elif case_s is None and target_s is None:
                    same_case.append(ikey)
            for group in (same_case, same_target):
                keys = live([k for ik in group for k in json.loads(self._index.get(ik) or "[]")])
                if keys:
                    break
        if not keys and len(self._index) == 0:  # no index at all (older cache): scan the calls
            keys = [
                k
                for k, e in self._entries()
                if k != exclude
                and (
                    (case_s is None and target_s is None)
                    or e.get("case_id") == case_s
                    or e.get("target") == target_s
                )
            ]
        for k in keys[:_WHY_CANDIDATES]:
            entry = self.entry(k)
            if entry is not None:
                yield k, entry

    # -- management ---------------------------------------------------------------------------

    def _entries(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for key in self._calls.iterkeys():
            entry = self.entry(key)
            if entry is not None:
                yield key, entry

    def stats(self) -> dict[str, Any]:
        """``entries``, ``size_bytes``, ``directory``, ``oldest``/``newest`` (UTC datetimes or None)."""
        created = [e.get("created") for _, e in self._entries() if e.get("created") is not None]

        def when(t: float | None) -> datetime | None:
            return None if t is None else datetime.fromtimestamp(t, UTC)

        return {
            "entries": len(self),
            "size_bytes": self._calls.volume() + self._index.volume(),
            "directory": str(self._dir),
            "oldest": when(min(created, default=None)),
            "newest": when(max(created, default=None)),
        }

    def clear(self) -> int:
        """Remove every entry; returns how many calls were removed."""
        n = self._calls.clear()
        self._index.clear()
        return n

    def prune(self, older_than_days: float) -> int:
        """Remove calls stored more than ``older_than_days`` ago; returns how many."""
        cutoff = _now() - older_than_days * 86400.0
        removed: dict[str, set[str]] = {}
        for key, entry in list(self._entries()):
            if entry.get("created", 0.0) < cutoff and self._calls.delete(key):
                ikey = _index_key(entry.get("target") or "", entry.get("case_id") or "")
                removed.setdefault(ikey, set()).add(key)
        for ikey, gone in removed.items():
            with self._index.transact():
                keys = [k for k in json.loads(self._index.get(ikey) or "[]") if k not in gone]
                if keys:
                    self._index.set(ikey, json.dumps(keys))
                else:
                    self._index.delete(ikey)
        return sum(len(g) for g in removed.values())

    def close(self) -> None:
        """Close the SQLite connections (the cache can be reopened any time)."""
        self._calls.close()
        self._index.close()

    def __enter__(self) -> CallCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"CallCache({str(self._dir)!r}, entries={len(self)})"
