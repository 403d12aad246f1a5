"""The entry points a user types: ``await run(...)``, ``start(...)``, ``run_sync(...)``, ``resume``.

``start`` returns at once with a handle (progress, partial results, ``cancel()``, awaitable)
so a notebook cell returns while the run goes on. ``run_sync`` works in scripts and inside a
running event loop (Jupyter, papermill) by running on a worker thread with its own loop:
nest-asyncio hung ipykernel 7 here (see JUPYTER.md), so we do not use it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator, Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from benchwork._util.sync import run_blocking
from benchwork._util.views import handle_view
from benchwork.cache import CacheMode, CallCache
from benchwork.client import RetryPolicy
from benchwork.errors import BenchworkError, StoreError
from benchwork.results import records_to_frame
from benchwork.runner._events import Progress, Subscriber
from benchwork.runner._progress import attach_progress
from benchwork.runner._result import Run
from benchwork.runner._session import RunConfig, Session, coerce_suite, coerce_targets
from benchwork.scoring import ScorerSpec
from benchwork.store import RunStore
from benchwork.suite import Suite
from benchwork.target import Target

__all__ = [
    "CacheMode",
    "RunHandle",
    "TargetsArg",
    "resume",
    "resume_sync",
    "run",
    "run_sync",
    "start",
]

#: What ``targets`` may be: a Target, a model id, a mapping of Target fields, or a list of those.
TargetsArg = Target | str | Mapping[str, Any] | Sequence[Target | str | Mapping[str, Any]]
#: Cache modes: read and write, write only, neither, read only (a miss is an error).


def _session(
    suite: Suite | str | Path,
    targets: TargetsArg,
    *,
    repeats: int = 1,
    warmup: int = 0,
    scorers: Sequence[ScorerSpec] | None = None,
    cache: CacheMode = "use",
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

    def __init__(
        self,
        session: Session,
        task: asyncio.Task[Run],
        hide: Callable[[], None] | None = None,
    ) -> None:
        self._session = session
        self.task = task
        self._hide = hide  # removes the automatic progress display

    def hide_progress(self) -> None:
        """Remove the automatic progress display (``RunProgress(handle)`` calls this, so a
        run started with ``bw.start`` is not shown twice)."""
        if self._hide is not None:
            self._hide()
            self._hide = None

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

    def subscribe(self, fn: Subscriber) -> Callable[[], None]:
        """Call ``fn(event)`` on each later event; returns an unsubscribe function."""
        return self._session.bus.subscribe(fn)

    def cancel(self) -> None:
        """Stop in-flight calls; every finished row stays in the journal and in ``results``.

        Safe from any thread (a widget's click may arrive on another loop's thread): the
        cancel is handed to the run's own loop.
        """
        loop = self.task.get_loop()
        try:
            here = asyncio.get_running_loop()
        except RuntimeError:
            here = None
        if here is loop or loop.is_closed():
            self.task.cancel()
        else:
            loop.call_soon_threadsafe(self.task.cancel)

    def done(self) -> bool:
        return self.task.done()

    def result(self) -> Run:
        """The finished Run without awaiting (after ``cancel()`` the partial Run); raises the
        run's own error if it failed, and ``BenchworkError`` while it is still going."""
        if not self.task.done():
            raise BenchworkError(
                f"run {self.run_id} is still {self.status}: await the handle, or check done()"
            )
        if self.task.cancelled():
            return self._session.result()
        return self.task.result()

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

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """In a notebook, the run's one live widget (``benchwork.widgets.Dashboard.of``, once
        ``benchwork.widgets`` is imported): displaying the handle again re-attaches to it."""
        view = handle_view()
        widget = view(self) if view is not None else None
        show = getattr(widget, "_repr_mimebundle_", None)
        return show(**kwargs) if show is not None else None

    def __repr__(self) -> str:
        return f"RunHandle({self.run_id!r}, {self.status}, {self.progress})"


def start(
    suite: Suite | str | Path,
    targets: TargetsArg,
    *,
    repeats: int = 1,
    warmup: int = 0,
    scorers: Sequence[ScorerSpec] | None = None,
    cache: CacheMode = "use",
    cache_dir: CallCache | str | Path | None = None,
    home: str | Path | None = None,
    run_id: str | None = None,
    retry: RetryPolicy | None = None,
    progress: bool = True,
) -> RunHandle:
    """Start a run on the running event loop and return its handle at once.

    The arguments are those of ``run``. Await the handle for the Run; ``cancel()`` stops it
    and keeps every finished row.
    """
    loop = asyncio.get_running_loop()
    session = _session(
        suite,
        targets,
        repeats=repeats,
        warmup=warmup,
        scorers=scorers,
        cache=cache,
        cache_dir=cache_dir,
        home=home,
        run_id=run_id,
        retry=retry,
    )
    hide = attach_progress(session.bus) if progress else None
    task = loop.create_task(session.execute(), name=f"benchwork-run-{session.run_id}")
    return RunHandle(session, task, hide)


async def run(
    suite: Suite | str | Path,
    targets: TargetsArg,
    *,
    repeats: int = 1,
    warmup: int = 0,
    scorers: Sequence[ScorerSpec] | None = None,
    cache: CacheMode = "use",
    cache_dir: CallCache | str | Path | None = None,
    home: str | Path | None = None,
    run_id: str | None = None,
    retry: RetryPolicy | None = None,
    progress: bool = True,
) -> Run:
    """Run a suite against targets and return the Run (``await`` it in a notebook).

    ``suite``: a Suite or a path to one. ``targets``: a Target, a model id, a mapping, or a
    list of those. ``repeats`` samples per case; ``warmup`` unrecorded-in-stats calls per
    target first; ``scorers`` add to the suite's own; ``cache``: "use", "refresh", "off" or
    "replay" (a miss is an error); ``cache_dir`` and ``home`` (run store) override the
    defaults; ``retry`` sets the retry policy; ``progress`` shows a progress display.
    """
    session = _session(
        suite,
        targets,
        repeats=repeats,
        warmup=warmup,
        scorers=scorers,
        cache=cache,
        cache_dir=cache_dir,
        home=home,
        run_id=run_id,
        retry=retry,
    )
    if progress:
        attach_progress(session.bus)
    return await session.execute()


def run_sync(
    suite: Suite | str | Path,
    targets: TargetsArg,
    *,
    repeats: int = 1,
    warmup: int = 0,
    scorers: Sequence[ScorerSpec] | None = None,
    cache: CacheMode = "use",
    cache_dir: CallCache | str | Path | None = None,
    home: str | Path | None = None,
    run_id: str | None = None,
    retry: RetryPolicy | None = None,
    progress: bool = True,
) -> Run:
    """Blocking ``run`` for scripts, the CLI and papermill; safe inside a running loop."""
    return run_blocking(
        lambda: run(
            suite,
            targets,
            repeats=repeats,
            warmup=warmup,
            scorers=scorers,
            cache=cache,
            cache_dir=cache_dir,
            home=home,
            run_id=run_id,
            retry=retry,
            progress=progress,
        )
    )


def _resume_session(
    run_id: str,
    home: str | Path | None,
    cache_dir: Any,
    retry_errors: bool,
    scorers: Sequence[Any] | None,
    targets: TargetsArg | None = None,
) -> Session:
    store = RunStore(home)
    manifest = store.manifest(run_id)
    suite = Suite.from_dict(store.suite(run_id), source=f"run {run_id}")
    where = store.path(run_id) / "manifest.json"
    stored = [  # checked by the store (StoreError), then each target by its own rules
        Target.from_dict(t, source=f"{where}: targets[{i}]")
        for i, t in enumerate(store.targets(run_id))
    ]
    if targets is not None:
        targets = coerce_targets(targets)
        if sorted(str(t.name) for t in targets) != sorted(str(t.name) for t in stored):
            raise BenchworkError(
                f"run {run_id!r}: resume's targets must have the run's target names "
                f"{sorted(str(t.name) for t in stored)}"
            )
    else:
        masked = [str(t.name) for t in stored if t.holds_masked_secret]
        if masked:
            raise BenchworkError(
                f"run {run_id!r}: target(s) {masked} had a key in api_base or extra_headers, "
                "which is never stored: pass the targets again (resume(..., targets=[...])), "
                "or keep keys in api_key_env / a .env file"
            )
        targets = stored
    cfg = manifest.get("config") or {}
    fix = "so the run cannot be re-planned; restore it from a backup, or start a new run"
    if not isinstance(cfg, dict):
        raise StoreError(f"{where}: 'config' is not an object, {fix}")
    if not isinstance(cfg.get("retry") or {}, dict):
        raise StoreError(f"{where}: 'config.retry' is not an object, {fix}")
    if not isinstance(cfg.get("scorers") or [], list):
        raise StoreError(f"{where}: 'config.scorers' is not a list, {fix}")
    try:
        retry = RetryPolicy(**cfg["retry"]) if cfg.get("retry") else None
    except (TypeError, ValueError, BenchworkError) as exc:  # unknown, missing, invalid fields
        given = ", ".join(sorted(map(str, cfg["retry"])))
        why = f" ({exc})" if isinstance(exc, BenchworkError) else ""
        raise StoreError(
            f"{where}: 'config.retry' ({given}) is not a valid retry policy{why}, {fix}"
        ) from None
    config = RunConfig(
        repeats=cfg.get("repeats", 1),
        warmup=cfg.get("warmup", 0),
        cache_mode=cfg.get("cache_mode", "use"),
        scorers=scorers if scorers is not None else _stored_scorers(manifest, cfg, where),
        retry=retry,
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


def _stored_scorers(manifest: dict[str, Any], cfg: dict[str, Any], where: Path) -> list[Any] | None:
    """The run's scorers, rebuilt exactly from their stored configurations. A run stored
    before those were kept has only scorer names and spec dicts, used as they are."""
    from benchwork.scoring import build_scorer

    configs = manifest.get("scorer_configs")
    if configs is None:
        return cfg.get("scorers") or None
    if not isinstance(configs, list):
        raise StoreError(
            f"{where}: 'scorer_configs' is not a list; pass the scorers again (scorers=[...])"
        )
    try:
        return [build_scorer(c) for c in configs]
    except BenchworkError as exc:
        raise BenchworkError(f"{where}: {exc}") from None


async def resume(
    run_id: str,
    *,
    home: str | Path | None = None,
    cache_dir: CallCache | str | Path | None = None,
    retry_errors: bool = False,
    scorers: Sequence[ScorerSpec] | None = None,
    targets: TargetsArg | None = None,
    progress: bool = True,
) -> Run:
    """Re-plan a run and make only the calls missing from its journal (``retry_errors``:
    also redo the calls that failed). ``scorers`` replace the stored ones; ``targets`` (same
    names) replace the stored ones, e.g. when a key lived in api_base and was not stored."""
    session = _resume_session(run_id, home, cache_dir, retry_errors, scorers, targets)
    if progress:
        attach_progress(session.bus)
    return await session.execute()


def resume_sync(
    run_id: str,
    *,
    home: str | Path | None = None,
    cache_dir: CallCache | str | Path | None = None,
    retry_errors: bool = False,
    scorers: Sequence[ScorerSpec] | None = None,
    targets: TargetsArg | None = None,
    progress: bool = True,
) -> Run:
    """Blocking ``resume``: finish an interrupted run without re-paying finished calls."""
    return run_blocking(
        lambda: resume(
            run_id,
            home=home,
            cache_dir=cache_dir,
            retry_errors=retry_errors,
            scorers=scorers,
            targets=targets,
            progress=progress,
        )
    )
