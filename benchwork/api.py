"""The entry points a user types: ``await run(...)``, ``start(...)``, ``run_sync(...)``, ``resume``.

``start`` returns at once with a handle (progress, partial results, ``cancel()``, awaitable)
so a notebook cell returns while the run goes on. ``run_sync`` works in scripts and inside a
running event loop (Jupyter, papermill) by running on a worker thread with its own loop:
nest-asyncio hung ipykernel 7 here (see JUPYTER.md), so we do not use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from benchwork.cache import CallCache
from benchwork.client import RetryPolicy
from benchwork.events import Progress, Subscriber
from benchwork.progress import attach_progress
from benchwork.run_result import Run
from benchwork.runner import RunConfig, Session, coerce_suite, coerce_targets
from benchwork.schema import records_to_frame
from benchwork.suite import Suite
from benchwork.target import Target

__all__ = ["RunHandle", "load_run", "resume", "run", "run_sync", "runs", "start"]

TargetsArg = Target | str | dict | Sequence[Target | str | dict]


def _session(
    suite: Suite | str | Path,
    targets: TargetsArg,
    *,
    repeats: int = 1,
    warmup: int = 0,
    scorers: Sequence[Any] | None = None,
    cache: str = "use",
    cache_dir: CallCache | str | Path | None = None,
    home: str | Path | None = None,
    run_id: str | None = None,
    retry: RetryPolicy | None = None,
) -> Session:
    config = RunConfig(
        repeats=repeats, warmup=warmup, cache_mode=cache, scorers=scorers, retry=retry
    )
    return Session(
        coerce_suite(suite),
        coerce_targets(targets),
        config,
        run_id=run_id,
        cache=cache_dir,
        home=home,
    )


class RunHandle:
    """A run going on in the background: ``progress``, ``results`` so far, ``cancel()``, ``await``."""

    def __init__(self, session: Session, task: asyncio.Task[Run]) -> None:
        self._session = session
        self.task = task

    @property
    def run_id(self) -> str:
        return self._session.run_id

    @property
    def progress(self) -> Progress:
        return self._session.progress

    @property
    def status(self) -> str:
        return self._session.status

    @property
    def results(self) -> pl.DataFrame:
        """Rows finished so far, as a Polars frame."""
        return records_to_frame(list(self._session.records))

    def by_target(self) -> dict[str, dict[str, int]]:
        """Counts per target so far: ``{name: {"total", "done", "errors", "cached"}}``."""
        out = {
            name: {"total": len(calls), "done": 0, "errors": 0, "cached": 0}
            for name, calls in self._session.plan.items()
        }
        for rec in list(self._session.records):
            counts = out.setdefault(rec.target, {"total": 0, "done": 0, "errors": 0, "cached": 0})
            counts["done"] += 1
            counts["errors"] += rec.status != "ok"
            counts["cached"] += bool(rec.cached)
        return out

    def subscribe(self, fn: Subscriber) -> Any:
        """Call ``fn(event)`` on each later event; returns an unsubscribe function."""
        return self._session.bus.subscribe(fn)

    def cancel(self) -> None:
        """Stop in-flight calls; every finished row stays in the journal and in ``results``."""
        self.task.cancel()

    def done(self) -> bool:
        return self.task.done()

    async def wait(self) -> Run:
        """The Run when finished; after ``cancel()`` the partial Run (status "cancelled")."""
        try:
            return await asyncio.shield(self.task)
        except asyncio.CancelledError:
            if not self.task.cancelled():
                raise
            return self._session.result()

    def __await__(self) -> Generator[Any, None, Run]:
        return self.wait().__await__()

    def __repr__(self) -> str:
        return f"RunHandle({self.run_id!r}, {self.status}, {self.progress})"


def start(
    suite: Suite | str | Path, targets: TargetsArg, *, progress: bool = True, **kw: Any
) -> RunHandle:
    """Start a run on the running event loop and return its handle at once."""
    loop = asyncio.get_running_loop()
    session = _session(suite, targets, **kw)
    if progress:
        attach_progress(session.bus)
    task = loop.create_task(session.execute(), name=f"benchwork-run-{session.run_id}")
    return RunHandle(session, task)


async def run(
    suite: Suite | str | Path, targets: TargetsArg, *, progress: bool = True, **kw: Any
) -> Run:
    """Run a suite against targets and return the Run (``await`` it in a notebook).

    Keyword arguments: ``repeats``, ``warmup``, ``scorers``, ``cache`` ("use", "refresh",
    "off", "replay"), ``cache_dir``, ``home`` (run store), ``run_id``, ``retry``.
    """
    session = _session(suite, targets, **kw)
    if progress:
        attach_progress(session.bus)
    return await session.execute()


def _run_blocking(coro_factory: Any) -> Run:
    """Run a coroutine to completion from sync code, even inside a running loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro_factory())
    box: dict[str, Any] = {}
    ready = threading.Event()
    done = threading.Event()  # not Thread.join: an interrupted join() can return early later

    def worker() -> None:
        loop = asyncio.new_event_loop()
        box["loop"] = loop
        try:
            box["task"] = loop.create_task(coro_factory())
            ready.set()
            box["result"] = loop.run_until_complete(box["task"])
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc
        finally:
            ready.set()
            loop.close()
            done.set()

    thread = threading.Thread(target=worker, name="benchwork-run-sync", daemon=True)
    thread.start()
    ready.wait()
    try:
        while not done.wait(0.1):
            pass
    except KeyboardInterrupt:
        # stop the run in its own loop and wait until it has kept every finished row
        loop, task = box.get("loop"), box.get("task")
        if loop is not None and task is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nothing to stop
                loop.call_soon_threadsafe(task.cancel)
        while not done.wait(0.1):
            pass
        raise
    if "error" in box:
        raise box["error"]
    return box["result"]


def run_sync(
    suite: Suite | str | Path, targets: TargetsArg, *, progress: bool = True, **kw: Any
) -> Run:
    """Blocking ``run`` for scripts, the CLI and papermill; safe inside a running loop."""
    return _run_blocking(lambda: run(suite, targets, progress=progress, **kw))


def _resume_session(
    run_id: str,
    home: str | Path | None,
    cache_dir: Any,
    retry_errors: bool,
    scorers: Sequence[Any] | None,
) -> Session:
    from benchwork.store import RunStore

    store = RunStore(home)
    manifest = store.manifest(run_id)
    suite = Suite.from_dict(store.suite(run_id), source=f"run {run_id}")
    targets = [Target.from_dict(t) for t in manifest["targets"]]
    cfg = manifest.get("config", {})
    config = RunConfig(
        repeats=cfg.get("repeats", 1),
        warmup=cfg.get("warmup", 0),
        cache_mode=cfg.get("cache_mode", "use"),
        scorers=scorers if scorers is not None else (cfg.get("scorers") or None),
        retry=RetryPolicy(**cfg["retry"]) if cfg.get("retry") else None,
    )
    return Session(
        suite,
        targets,
        config,
        run_id=run_id,
        cache=cache_dir,
        home=home,
        resume=True,
        retry_errors=retry_errors,
    )


async def aresume(
    run_id: str,
    *,
    home: str | Path | None = None,
    cache_dir: Any = None,
    retry_errors: bool = False,
    scorers: Sequence[Any] | None = None,
    progress: bool = True,
) -> Run:
    """Re-plan a run and make only the calls missing from its journal."""
    session = _resume_session(run_id, home, cache_dir, retry_errors, scorers)
    if progress:
        attach_progress(session.bus)
    return await session.execute()


def resume(run_id: str, **kw: Any) -> Run:
    """Blocking ``aresume``: finish an interrupted run without re-paying finished calls."""
    return _run_blocking(lambda: aresume(run_id, **kw))


def runs(home: str | Path | None = None) -> pl.DataFrame:
    """All runs in the store, newest first (id, suite, targets, started, status, calls, ...)."""
    from benchwork.store import RunStore

    return RunStore(home).runs()


def load_run(run_id: str, home: str | Path | None = None) -> Run:
    """A stored run as a Run object (rows rebuilt from the journal if needed)."""
    from benchwork.schema import CallRecord
    from benchwork.store import RunStore

    store = RunStore(home)
    manifest = store.manifest(run_id)
    records = [CallRecord.from_dict(r) for r in store.records(run_id)]
    return Run(run_id, manifest, records, store.home / "runs" / run_id)
