"""The call cache: finished calls on disk, keyed by what changes the answer.

This is the only module that touches diskcache. Entries are JSON text (not pickles), so a
shared cache folder cannot run code and its contents stay readable. Layout under ``directory``:
``cache.db`` holds one entry per call; ``index/`` holds a small "why" index, one entry per
(target, case_id) listing that pair's keys, so :meth:`CallCache.why` need not scan everything.

Faults never cost a run or a paid answer: a damaged entry (bad JSON, wrong types, a pickle)
is a counted miss; a cache that cannot be opened, read or written (garbage ``cache.db``, a
file where the folder should be, read-only, full) gives ONE warning naming the path and the
fix, and the cache then steps aside (lookups miss, writes are skipped) so the run goes on.
``strict`` (replay mode) raises :class:`~benchwork.errors.CacheError` instead. Management
calls (stats, clear, prune, why) raise ``CacheError`` too.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import warnings
from collections.abc import Callable, Iterator, Sized
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

import diskcache
import diskcache.core

from benchwork._util.redact import Redactor
from benchwork.cache._flight import Lease, claim_key
from benchwork.cache._key import (
    key_for_components,
)
from benchwork.cache._why import CacheWhy, diff_components
from benchwork.errors import BenchworkError, CacheError
from benchwork.results import record_problem

__all__ = ["CACHE_MODES", "CallCache", "check_mode", "default_cache_dir", "open_run_cache"]

#: ``use``: read and write; ``refresh``: write only; ``off``: neither; ``replay``: read only,
#: a miss is an error (how reports re-execute offline).
CACHE_MODES = ("use", "refresh", "off", "replay")

#: Record fields that belong to one run, not to the call's answer: never stored.
_RUN_FIELDS = ("run_id", "scores", "cached")
#: diskcache settings. SQLite waits up to 60 s for another process's lock instead of failing;
#: eviction is off (a benchmark cache must not drop answers behind your back: use prune/clear).
_SETTINGS: dict[str, Any] = {"eviction_policy": "none", "size_limit": 10 * 2**30, "cull_limit": 0}
_SQLITE_TIMEOUT = 60
#: At most this many candidate entries are compared by ``why`` (it is interactive, not hot).
_WHY_CANDIDATES = 500


#: What the storage layer raises when the cache is damaged, read-only, full or locked.
_STORAGE_ERRORS = (sqlite3.Error, OSError, diskcache.Timeout)

_T = TypeVar("_T")


def _size(cache: diskcache.Cache) -> int:
    return len(cast(Sized, cache))


def _now() -> float:  # patched by tests to fake entry ages
    return time.time()


class _BadEntry(ValueError):
    """A stored value that is not ours (e.g. a pickle): read as a miss, never unpickled."""


class _JsonDisk(diskcache.Disk):
    """diskcache's Disk, refusing pickled keys and values: a shared cache folder must not be
    able to run code in whoever reads it (our entries are always JSON text)."""

    def fetch(self, mode: int, filename: str | None, value: Any, read: bool) -> Any:
        if mode == diskcache.core.MODE_PICKLE:
            raise _BadEntry("a pickled value (benchwork stores JSON text only)")
        return super().fetch(mode, filename, value, read)

    def get(self, key: Any, raw: bool) -> Any:
        if not raw:
            raise _BadEntry("a pickled key (benchwork stores text keys only)")
        return super().get(key, raw)


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


def _decode_entry(raw: Any) -> dict[str, Any]:
    """A stored entry, checked: JSON object with a ``record`` of the right field types."""
    if not isinstance(raw, str | bytes):
        raise _BadEntry(f"a {type(raw).__name__} value, not JSON text")
    entry = json.loads(raw)
    if not isinstance(entry, dict) or not isinstance(entry.get("record"), dict):
        raise _BadEntry("no 'record' object")
    created = entry.get("created")
    if created is not None and (isinstance(created, bool) or not isinstance(created, int | float)):
        raise _BadEntry(f"'created' is {created!r}, not a time")
    if not isinstance(entry.get("components", {}), dict):
        raise _BadEntry("'components' is not an object")
    for name in ("case_id", "target"):
        if not isinstance(entry.get(name, ""), str):
            raise _BadEntry(f"{name!r} is not text")
    record = entry["record"]
    problem = record_problem(record)
    if problem:
        raise _BadEntry(problem)
    if record.get("status") != "ok":
        raise _BadEntry(f"status {record.get('status')!r}, not 'ok'")
    return entry


def _key_list(raw: Any) -> list[str]:
    """A why-index value as a list of keys; a damaged one reads as empty (it is rebuilt)."""
    try:
        keys = json.loads(raw) if raw else []
    except (TypeError, ValueError):
        return []
    return [k for k in keys if isinstance(k, str)] if isinstance(keys, list) else []


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def _fix(directory: Path) -> str:
    return (
        f"move or delete {directory} (it is only a cache: answers are re-fetched), or point "
        "--cache-dir / BENCHWORK_CACHE_DIR at a writable folder, or run with cache='off'"
    )


def open_run_cache(
    cache: CallCache | str | Path | None, mode: str, *, redactor: Redactor | None = None
) -> CallCache | None:
    """The cache a run uses, or None: mode 'off', or a cache that cannot be opened.

    An unusable cache is one warning naming the path and the fix, and the run goes on
    without it; in mode 'replay' (which needs the cache) it is a :class:`CacheError`, and the
    cache is ``strict``: a read that fails later raises too, instead of a silent miss.
    """
    if check_mode(mode) == "off":
        return None
    try:
        opened = cache if isinstance(cache, CallCache) else CallCache(cache, redactor=redactor)
    except CacheError as exc:
        if mode == "replay":
            raise CacheError(f"replay mode needs the cache, and {exc}") from exc
        warnings.warn(f"{exc}; this run goes on without the cache", RuntimeWarning, stacklevel=2)
        return None
    opened.strict = mode == "replay"
    return opened


class CallCache:
    """Finished ``ok`` calls on disk, safe for several processes (kernels) at once."""

    def __init__(
        self, directory: str | Path | None = None, *, redactor: Redactor | None = None
    ) -> None:
        self._dir = Path(directory).expanduser() if directory is not None else default_cache_dir()
        self._redactor = redactor or Redactor()
        #: raise CacheError when the cache fails mid-run, instead of stepping aside (replay)
        self.strict = False
        #: why the cache stepped aside (it then misses and skips writes), or None
        self.problem: str | None = None
        self.bad_entries = 0  #: damaged entries read (each was a miss)
        self.skipped_puts = 0  #: answers not stored (cache unusable, or not storable)
        self._warned_bad = False
        self._managing = False  # inside stats/clear/prune/why: storage faults raise
        self._calls: diskcache.Cache
        self._index: diskcache.Cache
        try:
            self._calls = self._open(self._dir)
            try:
                self._index = self._open(self._dir / "index")
            except BaseException:
                self._calls.close()
                raise
        except (*_STORAGE_ERRORS, ValueError) as exc:
            raise CacheError(
                f"cannot use the cache at {self._dir} ({_reason(exc)}): {_fix(self._dir)}"
            ) from exc

    @staticmethod
    def _open(path: Path) -> diskcache.Cache:
        if path.exists() and not path.is_dir():
            raise NotADirectoryError(f"{path} is a file, not a folder")
        return diskcache.Cache(str(path), timeout=_SQLITE_TIMEOUT, disk=_JsonDisk, **_SETTINGS)

    @property
    def usable(self) -> bool:
        """False once the cache has stepped aside after a storage fault (see ``problem``)."""
        return self.problem is None

    def _step_aside(self, exc: BaseException, doing: str) -> None:
        """A storage fault mid-run: one warning, then no more reads or writes (or raise)."""
        message = (
            f"the cache at {self._dir} failed while {doing} ({_reason(exc)}): {_fix(self._dir)}"
        )
        if self.strict or self._managing:
            raise CacheError(message) from exc
        if self.problem is None:
            self.problem = message
            warnings.warn(
                f"{message}; the run goes on without the cache (answers stay in the run's journal)",
                RuntimeWarning,
                stacklevel=3,
            )

    def _bad_entry(self, key: str, exc: Exception) -> None:
        self.bad_entries += 1
        if self.strict and not self._managing:
            raise CacheError(
                f"{self._dir / 'cache.db'}: the cache entry {key[:16]}... is damaged "
                f"({_reason(exc)}); replay needs it: run once with cache mode 'use' to record "
                "the call again"
            ) from exc
        if not self._warned_bad:
            self._warned_bad = True
            warnings.warn(
                f"{self._dir / 'cache.db'}: damaged cache entry {key[:16]}... ({_reason(exc)}) "
                "read as a miss; the call is made again and its entry rewritten",
                RuntimeWarning,
                stacklevel=3,
            )

    def _manage(self, fn: Callable[[], _T], doing: str) -> _T:
        """Run a management operation; a storage fault is a CacheError naming the path."""
        managing, self._managing = self._managing, True
        try:
            return fn()
        except (*_STORAGE_ERRORS, _BadEntry) as exc:
            raise CacheError(
                f"the cache at {self._dir} failed while {doing} ({_reason(exc)}): {_fix(self._dir)}"
            ) from exc
        finally:
            self._managing = managing

    @property
    def directory(self) -> Path:
        """The folder holding the cache."""
        return self._dir

    # -- hot path -----------------------------------------------------------------------------

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored call record (without run_id/scores/cached), or ``None`` on a miss.

        A damaged entry is a miss (counted in ``bad_entries``); a storage fault makes the
        cache step aside (``problem``), or raises :class:`CacheError` when ``strict``.
        """
        entry = self._read(key)
        return None if entry is None else entry["record"]

    def entry(self, key: str) -> dict[str, Any] | None:
        """The whole stored entry: ``record``, ``components``, ``case_id``, ``target``, ``created``."""
        return self._read(key)

    def _read(self, key: str, *, count_bad: bool = True) -> dict[str, Any] | None:
        if self.problem is not None:
            return None
        try:
            raw = self._calls.get(key)
            if raw is None:
                return None
            return _decode_entry(raw)
        except _STORAGE_ERRORS as exc:
            self._step_aside(exc, "reading")
        except ValueError as exc:  # bad JSON, wrong types, a pickle, bad UTF-8 in a value file
            if count_bad:
                self._bad_entry(key, exc)
        return None

    def _recheck(self, key: str) -> dict[str, Any] | None:
        """``get`` for a key that already missed: a damaged entry is not counted again."""
        entry = self._read(key, count_bad=False)
        return None if entry is None else entry["record"]

    def put(
        self,
        key: str,
        components: dict[str, Any],
        record: dict[str, Any],
        *,
        case_id: str,
        target: str,
    ) -> None:
        """Store a finished call; anything but ``status == "ok"`` is ignored (errors never cached).

        Never raises for a cache fault: the answer is already (or about to be) in the run's
        journal, so a full or read-only cache only means it is not stored here.
        """
        if not isinstance(record, dict):  # a CallRecord
            record = record.to_dict()
        if record.get("status") != "ok":
            return
        if self.problem is not None:
            self.skipped_puts += 1
            return
        try:
            self._put(key, components, record, case_id, target)
        except _STORAGE_ERRORS as exc:
            self.skipped_puts += 1
            self._step_aside(exc, "writing")
        except (ValueError, TypeError) as exc:  # e.g. a lone surrogate SQLite cannot encode
            self.skipped_puts += 1
            warnings.warn(
                f"the cache at {self._dir} cannot store the answer for case {case_id!r} on "
                f"{target!r} ({_reason(exc)}); it is kept in the run's journal only",
                RuntimeWarning,
                stacklevel=2,
            )

    def _put(
        self,
        key: str,
        components: dict[str, Any],
        record: dict[str, Any],
        case_id: str,
        target: str,
    ) -> None:
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
            keys = _key_list(self._index.get(ikey))
            if key not in keys:
                keys.append(key)
                self._index.set(ikey, json.dumps(keys))

    async def claim(self, key: str) -> tuple[dict[str, Any] | None, Lease | None]:
        """Single-flight across processes, for a call that missed.

        ``(record, None)``: another process stored ``key`` meanwhile (this waited for it, off
        the event loop's back): use it as a hit. ``(None, lease)``: make the call, store it,
        then ``lease.release()`` (also when it failed; a dead process's lease frees itself).
        ``(None, None)``: no coordination possible (the cache stepped aside): just call.
        """
        if self.problem is not None or not key.isalnum():
            return None, None
        return await claim_key(self._dir / "flight", key, self._recheck, self.__contains__)

    def __contains__(self, key: object) -> bool:
        """Whether ``key`` is stored (no value read: a damaged entry still counts as present)."""
        if self.problem is not None:
            return False
        try:
            return key in self._calls
        except _STORAGE_ERRORS as exc:
            self._step_aside(exc, "looking up a key")
            return False

    def __len__(self) -> int:
        """Number of stored calls (index entries not counted)."""
        return self._manage(lambda: _size(self._calls), "counting entries")

    # -- why ----------------------------------------------------------------------------------

    def index_keys(self, target: str, case_id: str) -> list[str]:
        """Keys the why-index lists for ``(target, case_id)`` (may include since-pruned keys)."""
        return self._manage(lambda: self._index_keys(target, case_id), "reading the why-index")

    def _index_keys(self, target: str, case_id: str) -> list[str]:
        raw = self._index.get(
            _index_key(self._redactor.scrub(target), self._redactor.scrub(case_id))
        )
        return _key_list(raw)

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
        return self._manage(
            lambda: self._why(components, case_id, target, exclude), "explaining a miss"
        )

    def _why(
        self,
        components: dict[str, Any],
        case_id: str | None,
        target: str | None,
        exclude: str | None,
    ) -> CacheWhy:
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
                try:
                    t, c = json.loads(ikey)
                except (TypeError, ValueError):
                    continue
                if case_s is not None and c == case_s:
                    same_case.append(ikey)
                elif target_s is not None and t == target_s:
                    same_target.append(ikey)
                elif case_s is None and target_s is None:
                    same_case.append(ikey)
            for group in (same_case, same_target):
                keys = live([k for ik in group for k in _key_list(self._index.get(ik))])
                if keys:
                    break
        if not keys and _size(self._index) == 0:  # no index at all (older cache): scan the calls
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
            if not isinstance(key, str):
                continue
            entry = self.entry(key)
            if entry is not None:
                yield key, entry

    def stats(self) -> dict[str, Any]:
        """``entries``, ``size_bytes``, ``directory``, ``oldest``/``newest`` (UTC datetimes or None)."""
        return self._manage(self._stats, "reading its statistics")

    def _stats(self) -> dict[str, Any]:
        created: list[float] = [
            e["created"] for _, e in self._entries() if e.get("created") is not None
        ]

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

        def clear() -> int:
            n = self._calls.clear()
            self._index.clear()
            return n

        return self._manage(clear, "clearing it")

    def prune(self, older_than_days: float) -> int:
        """Remove calls stored more than ``older_than_days`` ago; returns how many."""
        return self._manage(lambda: self._prune(older_than_days), "pruning it")

    def _prune(self, older_than_days: float) -> int:
        cutoff = _now() - older_than_days * 86400.0
        removed: dict[str, set[str]] = {}
        for key, entry in list(self._entries()):
            if (entry.get("created") or 0.0) < cutoff and self._calls.delete(key):
                ikey = _index_key(entry.get("target") or "", entry.get("case_id") or "")
                removed.setdefault(ikey, set()).add(key)
        for ikey, gone in removed.items():
            with self._index.transact():
                keys = [k for k in _key_list(self._index.get(ikey)) if k not in gone]
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
        try:
            entries: object = len(self)
        except CacheError:
            entries = "?"
        state = "" if self.problem is None else ", stepped aside"
        return f"CallCache({str(self._dir)!r}, entries={entries}{state})"
