"""The runner: plans a suite × targets × repeats, runs it asynchronously, keeps every row.

Order per finished call: journal (fsync) → cache → event. So a killed kernel loses nothing
that was reported, and a resume never re-pays a finished call.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from benchwork._util.gcpause import frozen_heap
from benchwork._util.pace import Pacer
from benchwork._util.redact import Redactor
from benchwork.cache import CachePolicy, CallCache, open_run_cache
from benchwork.client import CallError, CallRequest, Client
from benchwork.errors import CacheMissError, StoreError
from benchwork.results import CallRecord, parse_started_at, record_totals, records_to_frame
from benchwork.runner._config import RunConfig, coerce_suite, coerce_targets, spec_names, versions
from benchwork.runner._durable import DurableWriter
from benchwork.runner._events import Event, EventBus, Progress
from benchwork.runner._health import LoopMonitor
from benchwork.runner._plan import PlannedCall, plan_calls
from benchwork.runner._result import Run
from benchwork.store import RunStore, RunWriter, new_run_id
from benchwork.suite import Suite
from benchwork.target import ResolvedTarget, Target, prices_for

__all__ = ["RunConfig", "Session", "coerce_suite", "coerce_targets"]

_KEEP_FROM_CACHE = ("run_id", "case_id", "target", "repeat", "warmup", "cache_key", "scores")
#: fields a cache hit takes from the stored record (unknown keys from other versions dropped)
_FROM_CACHE = frozenset(f.name for f in fields(CallRecord)) - {*_KEEP_FROM_CACHE, "cached"}
#: cache hits are finished by this many workers (overlapping async scorers, e.g. LLM judges)
_HIT_WORKERS = 8
#: a worker finishing hits yields to the event loop at least this often (seconds)
_HIT_SLICE_S = 0.002


class Session:
    """One run in progress: plan, counters, rows so far, and the coroutine that executes it."""

    def __init__(
        self,
        suite: Suite,
        targets: list[Target],
        config: RunConfig,
        *,
        run_id: str | None = None,
        cache: CallCache | str | Path | None = None,
        home: str | Path | None = None,
        resume: bool = False,
        retry_errors: bool = False,
    ) -> None:
        self.suite, self.targets, self.config = suite, targets, config
        self.resolved: list[ResolvedTarget] = [t.resolve() for t in targets]
        self.redactor = Redactor.from_env_names(r.key_env for r in self.resolved if r.key_env)
        for t in targets:  # keys in api_base (userinfo, query) or in extra_headers
            for secret in t.secrets():
                self.redactor.add(secret)
        self.run_id = run_id or new_run_id()
        self.bus = EventBus()
        self.progress = Progress()
        self.records: list[CallRecord] = []
        self.status = "pending"
        # None for mode 'off', or when the cache is unusable (one warning; replay: an error)
        self.cache: CallCache | None = open_run_cache(
            cache, config.cache_mode, redactor=self.redactor
        )
        self.store = RunStore(home, redactor=self.redactor)
        self.scorers = self._scorer_specs()
        # an unknown scorer, or a case input a scorer can never use: fail before any call
        self._scorer_objs = _resolve_scorers(self.scorers, suite.cases)
        self._slow_scoring = any(_may_be_slow(s) for s in self._scorer_objs)
        self.monitor = LoopMonitor()
        self.policy = CachePolicy(self.cache, config.cache_mode)
        for s in self._scorer_objs:  # LLM judges use the run's cache policy (same mode, same cache)
            if hasattr(s, "bind_run"):
                s.bind_run(self.policy)
        self.plan = plan_calls(
            suite, self.resolved, run_id=self.run_id, repeats=config.repeats, warmup=config.warmup
        )
        self._writer: RunWriter
        self._frame: pl.DataFrame | None = None  # the results, once the run has finished
        self._resume = resume
        self._skip: set[tuple[str, str, int, bool]] = set()
        #: the journal could not be written (a full disk): no new call starts; calls in flight
        #: finish (their answers reach the cache), then the run fails with this error
        self._store_error: StoreError | None = None
        if resume:  # take the run's lock BEFORE reading its journal: one writer per run
            self._writer = self.store.open(self.run_id)
        try:
            if resume:
                self._load_previous(retry_errors)
            self.progress.total = sum(len(c) for c in self.plan.values())
            self.progress.done = len(self.records)
            self.progress.errors = sum(r.status != "ok" for r in self.records)
            self.progress.cached = sum(r.cached for r in self.records)
            if config.cache_mode == "replay":
                self._check_replay()
        except BaseException:
            if resume:
                self._writer.close()  # gives the lock back
            raise

    # -- setup ---------------------------------------------------------------------------
    def _scorer_specs(self) -> list[Any]:
        if self.config.scorers is not None:
            return self.config.scorers
        if self.suite.scorers:
            return list(self.suite.scorers)
        return ["exact"] if any(c.expected is not None for c in self.suite.cases) else []

    def _load_previous(self, retry_errors: bool) -> None:
        """Keep journaled rows (the last one per call); their calls are not made again."""
        latest: dict[tuple[str, str, int, bool], CallRecord] = {}
        for row in self.store.records(self.run_id):
            rec = CallRecord.from_dict(row)
            latest[(rec.case_id, rec.target, rec.repeat, rec.warmup)] = rec
        for ident, rec in latest.items():
            if retry_errors and rec.status != "ok":
                continue
            self._skip.add(ident)
            self.records.append(rec)

    def _check_replay(self) -> None:
        assert self.cache is not None
        missing = [
            pc
            for calls in self.plan.values()
            for pc in calls
            if not pc.request.warmup
            and pc.ident not in self._skip
            and (pc.request.cache_key or "") not in self.cache  # no value read: cheap
        ]
        if missing:
            r = missing[0].request
            raise CacheMissError(
                f"replay mode: no cached response for case {r.case_id!r} on target "
                f"{r.resolved.target.name!r} repeat {r.repeat}"
                + (f" (and {len(missing) - 1} more calls)" if len(missing) > 1 else "")
                + "; run once with cache mode 'use' to record it"
            )

    def manifest(self) -> dict[str, Any]:
        from benchwork._util.litellm import price_table_id

        return {
            "run_id": self.run_id,
            "suite": self.suite.name,
            "suite_hash": self.suite.hash,
            "targets": [t.to_dict() for t in self.targets],
            "config": self.config.to_dict(),
            "scorers": spec_names(self.scorers),
            # each scorer's full configuration: a resume or rescore rebuilds it exactly
            "scorer_configs": _scorer_configs(self._scorer_objs),
            "versions": versions(),
            "price_table": price_table_id(),
            "cache_dir": str(self.cache.directory) if self.cache else None,
            "planned_calls": self.progress.total,
            "started_at": datetime.now(UTC).isoformat(),
            "finished_at": None,
            "status": "running",
        }

    # -- execution -------------------------------------------------------------------------
    def _emit(self, kind: str, **kw: Any) -> None:
        self.bus.emit(Event(kind, self.run_id, self.progress, **kw))  # type: ignore[arg-type]

    async def execute(self) -> Run:
        """Run every planned call not already journaled; returns the Run (also on cancel)."""
        if self._resume:  # the writer (and the run's lock) was taken in __init__
            try:
                self._writer.update_manifest(
                    status="running", resumed_at=datetime.now(UTC).isoformat()
                )
            except BaseException:
                self._writer.close()
                raise
        else:
            self._writer = self.store.create(self.run_id, self.manifest(), self.suite.to_dict())
        self._durable = DurableWriter(self._writer)
        self.status = "running"
        # everything slow to load happens now, not while streams are being timed
        self._prices = {
            name: prices_for(calls[0].request.resolved.target) if calls else None
            for name, calls in self.plan.items()
        }
        self.progress.started = time.perf_counter()
        self._emit("run_started")
        client = Client(self.config.retry)
        completed = False
        self.monitor.start()
        try:
            with frozen_heap():  # no full-heap GC pause inside a timed stream
                await _all(
                    self._run_target(client, name, calls) for name, calls in self.plan.items()
                )
            if self._store_error is not None:
                raise self._store_error
            completed = True
            measured = [r for r in self.records if not r.warmup]
            # every call failed (a wrong api_base, an unknown provider, no server): not a success
            ok = not measured or any(r.status == "ok" for r in measured)
            self.status = "finished" if ok else "failed"
        except (asyncio.CancelledError, KeyboardInterrupt):
            self.status = "cancelled"  # _all has stopped every call; finished rows are kept
            raise
        except BaseException:
            self.status = "failed"
            raise
        finally:
            await self.monitor.stop()
            await client.close()
            self._durable.close()
            counts = {**self.counts(), "health": self.monitor.summary()}
            # a finished run's rows are exactly the journal's latest rows: build the frame once
            # from memory, for results.parquet and Run.results, not again from the journal
            if completed:
                self._frame = records_to_frame(self.records)
            try:
                self._writer.finish(self.status, frame=self._frame, **counts)
            finally:
                self._writer.close()  # and the run's lock, even if the status cannot be written
            self._emit("run_finished", status=self.status)
        return self.result()

    def counts(self) -> dict[str, Any]:
        totals = record_totals(self.records)
        out: dict[str, Any] = {
            "calls": totals["calls"],
            "errors": totals["errors"],
            "cached_calls": totals["cached"],
            "cost_usd": totals["cost_usd"],
        }
        cache = self.cache
        if cache is not None and (cache.bad_entries or cache.problem):
            # damaged entries read (each was a miss), and why the cache stepped aside if it did
            out["cache_faults"] = {"bad_entries": cache.bad_entries, "problem": cache.problem}
        return out

    def result(self) -> Run:
        manifest = self.store.manifest(self.run_id)
        path = self.store.home / "runs" / self.run_id
        return Run(self.run_id, manifest, list(self.records), path, frame=self._frame)

    async def _run_target(self, client: Client, name: str, calls: list[PlannedCall]) -> None:
        target = calls[0].request.resolved.target if calls else None
        if target is None:
            return
        sem = asyncio.Semaphore(target.concurrency)
        pacer = Pacer(target.rpm)
        prices = self._prices[name]
        warm = [c for c in calls if c.request.warmup and c.ident not in self._skip]
        measured = [c for c in calls if not c.request.warmup and c.ident not in self._skip]
        if warm:
            await _all(self._call(client, pc, sem, pacer, prices) for pc in warm)
        await self._measured(client, measured, sem, pacer, prices)

    async def _measured(self, client, calls: list[PlannedCall], sem, pacer, prices) -> None:
        """Finish cache hits inline and start a task per miss, in plan order.

        A task per call cost ~40 µs of creating and scheduling: a third of a 10,000-hit re-run.
        Here a few workers walk the plan; a hit is finished right away (several workers, so
        async scorers such as LLM judges still overlap), a miss becomes a task at once so its
        network call starts while hits are still being finished. Workers yield to the loop at
        least every ``_HIT_SLICE_S`` so live streams are timed, and progress drawn, on time.
        """
        todo = iter(calls)
        misses: list[asyncio.Future[None]] = []

        async def worker() -> None:
            since = time.perf_counter()
            for pc in todo:
                if self._store_error is not None:
                    return
                record = self._from_cache(pc)
                if record is None:
                    misses.append(asyncio.ensure_future(self._call(client, pc, sem, pacer, prices)))
                    continue
                await self._finish(pc, record)
                if time.perf_counter() - since > _HIT_SLICE_S:
                    await asyncio.sleep(0)
                    since = time.perf_counter()

        try:
            await _all(worker() for _ in range(min(_HIT_WORKERS, len(calls))))
        except BaseException:
            await _stop(misses)
            raise
        await _all(misses)

    async def _call(self, client, pc: PlannedCall, sem, pacer, prices) -> None:
        """Make one call over the network (no cache lookup: done by the caller) and finish it.

        Single-flight: when an identical call (same cache key) is already in flight, wait for
        its answer and take it as a cache hit instead of paying again; in mode 'use' also
        across processes sharing the cache folder (``CallCache.claim``: two kernels running
        one suite on an empty cache pay for each call once).
        """
        req = pc.request
        key = (req.cache_key or "") if pc.components is not None else ""
        shared = self.policy.join(key)
        if shared is not None:
            row = await shared
            if row is not None:
                await self._finish(pc, self._relabel(pc, row))
                return
            shared = self.policy.join(key)  # the leader failed: lead our own attempt
        record: CallRecord | None = None
        lease = None  # across processes: the right to call this key (another kernel may be)
        try:
            cache = self.cache  # (an empty CallCache is falsy: compare with None)
            if shared is None and key and cache is not None and self.policy.mode == "use":
                hit, lease = await cache.claim(key)
                if hit is not None:  # another process paid for it meanwhile
                    record = self._relabel(pc, hit)
            if record is None:
                async with sem:
                    await pacer.wait()
                    if self._store_error is not None:  # the journal failed: start nothing new
                        return
                    self._emit(
                        "call_started",
                        case_id=req.case_id,
                        target=req.resolved.target.name,
                        repeat=req.repeat,
                    )
                    mark = self.monitor.mark()
                    if pc.mock is not None:  # a tool conversation: one record for all its turns
                        record = await client.converse(
                            req, pc.mock, prices, on_retry=self._on_retry
                        )
                    else:
                        record = await client.call(req, prices, on_retry=self._on_retry)
                    if record is not None:
                        record.loop_lag_ms = self.monitor.worst_since(mark)
        finally:
            if shared is None:
                self.policy.land(key, record.to_dict() if record is not None else None)
            if record is None and lease is not None:
                lease.release()
        assert record is not None  # set unless the call raised (then the finally re-raises)
        try:
            await self._finish(pc, record)
        finally:
            if lease is not None:  # the answer is stored now (or was not storable)
                lease.release()

    def _from_cache(self, pc: PlannedCall) -> CallRecord | None:
        if pc.request.warmup:
            return None
        hit = self.policy.get(pc.request.cache_key or "")
        return None if hit is None else self._relabel(pc, hit)

    def _relabel(self, pc: PlannedCall, hit: dict[str, Any]) -> CallRecord:
        """A stored (or shared in-flight) answer relabelled as this run's call, flagged cached.

        Timings, tokens and cost are the original call's; the identity fields are set here,
        not stripped and patched later (``from_dict`` needs them).
        """
        req = pc.request
        data = {k: v for k, v in hit.items() if k in _FROM_CACHE}
        data["started_at"] = parse_started_at(data.get("started_at"))
        return CallRecord(
            run_id=self.run_id,
            case_id=req.case_id,
            target=req.resolved.target.name or req.resolved.target.model,
            repeat=req.repeat,
            warmup=False,
            cached=True,
            cache_key=req.cache_key,
            scores={},
            **data,
        )

    def _on_retry(self, req: CallRequest, attempt: int, delay: float, err: CallError) -> None:
        self.progress.retries += 1
        self._emit(
            "call_retry",
            case_id=req.case_id,
            target=req.resolved.target.name,
            repeat=req.repeat,
            attempt=attempt,
            delay_s=delay,
            error=self.redactor.scrub(err.message),
        )

    async def _finish(self, pc: PlannedCall, record: CallRecord) -> None:
        if record.error_message and self.redactor:
            record.error_message = self.redactor.scrub(record.error_message)
        put = None if record.cached else self._cache_put(pc, record)
        if put is not None and self._slow_scoring:
            # cache the answer before an LLM judge takes seconds over it: a kill meanwhile
            # must not make the resume pay for the candidate call again
            await self._durable.write(None, after=put)
            put = None
        if self._scorer_objs and not record.warmup:
            from benchwork.scoring import score_record

            await score_record(pc.case, record, self._scorer_objs)
        row = record.to_dict()
        try:
            if record.cached:  # already durable in the cache: a plain append, no fsync, no thread
                self._writer.append(row, sync=False)
            else:
                write = asyncio.ensure_future(self._durable.write(row, after=put))
                try:
                    await asyncio.shield(write)
                except asyncio.CancelledError:
                    # the write goes on regardless (a run's cancel reaches a call more than
                    # once): wait for it and count the row, so results always match the
                    # journal; then stop
                    while not write.done():
                        with contextlib.suppress(asyncio.CancelledError):
                            await asyncio.shield(write)
                    if not write.cancelled() and write.exception() is None:
                        self._count(record)
                    raise
        except StoreError as exc:  # the journal cannot be written: stop starting calls, let
            if self._store_error is None:  # those in flight finish (their answers are cached
                self._store_error = exc  # by the writer), then fail the run with this error
            return
        self._count(record)

    def _cache_put(self, pc: PlannedCall, record: CallRecord) -> Callable[[], None] | None:
        """The cache write for a live call's answer, or None when it must not be cached."""
        if record.warmup:
            return None
        row = record.to_dict()  # before scoring: the cache keeps answers, not scores
        where = {"case_id": record.case_id, "target": record.target}
        return self.policy.writer(pc.request.cache_key or "", pc.components, row, **where)

    def _count(self, record: CallRecord) -> None:
        """A journaled row joins the results, the counters and the call_finished event."""
        self.records.append(record)
        self.progress.done += 1
        self.progress.errors += record.status != "ok"
        self.progress.cached += record.cached
        self._emit(
            "call_finished",
            record=record,
            case_id=record.case_id,
            target=record.target,
            repeat=record.repeat,
            status=record.status,
        )


async def _all(coros: Iterable[Awaitable[None]]) -> None:
    """Run coroutines together in a ``TaskGroup``: on the first failure or a cancel, the rest
    are cancelled and awaited until every one has stopped (``gather`` returned as soon as one
    child was cancelled, which let calls outlive their run). The first failure is re-raised
    as itself, not wrapped in an ``ExceptionGroup``, so callers catch what they always caught.
    """
    try:
        async with asyncio.TaskGroup() as group:
            for aw in coros:  # coroutines, or tasks already started (a cancel reaches them too)
                group.create_task(aw if asyncio.iscoroutine(aw) else _wait(aw))
    except BaseExceptionGroup as eg:
        raise eg.exceptions[0] from None


async def _wait(aw: Awaitable[None]) -> None:
    await aw


async def _stop(tasks: list[asyncio.Future[None]]) -> None:
    """Cancel the unfinished tasks and wait for all of them, even if cancelled again meanwhile."""
    for task in tasks:
        task.cancel()
    while not all(task.done() for task in tasks):
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait(tasks)


def _may_be_slow(scorer: Any) -> bool:
    """True unless the scorer is a cheap built-in synchronous one (judges and custom ones may
    wait; regexes may run up to their time limit)."""
    from benchwork.scoring import AsyncBaseScorer, BaseScorer

    return (
        not isinstance(scorer, BaseScorer)
        or isinstance(scorer, AsyncBaseScorer)
        or scorer.offload == "always"
    )


def _resolve_scorers(specs: list[Any], cases: list[Any]) -> list[Any]:
    if not specs:
        return []
    from benchwork.scoring import check_cases, resolve_scorers

    scorers = resolve_scorers(specs)
    check_cases(scorers, cases)
    return scorers


def _scorer_configs(scorers: list[Any]) -> list[dict[str, Any]]:
    from benchwork.scoring import scorer_configs

    return scorer_configs(scorers)
