"""Rescore: apply new or changed scorers to a finished run without calling its models again.

Only the scorers run: deterministic ones locally, LLM judges through the client and the
run's cache (so a second rescore with the same judge costs nothing). The new scores are
merged into the run's records (same-named scores replaced, others kept) and written back
through the run store: journal rewritten atomically, results.parquet rebuilt, and the
manifest notes the rescore.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchwork.cache import CachePolicy, check_mode, open_run_cache
from benchwork.errors import BenchworkError
from benchwork.results import CallRecord
from benchwork.scoring import resolve_scorers, score_records, scorer_configs
from benchwork.store import RunStore
from benchwork.suite import Suite

if TYPE_CHECKING:
    from benchwork.runner._result import Run

__all__ = ["run_cases", "score_run"]


def run_cases(run: Run) -> dict[str, Any]:
    """The run's cases by id, from the suite saved in its folder."""
    if run.path is None:
        raise BenchworkError(f"run {run.id!r} has no folder, so its suite is unknown")
    path = Path(run.path) / "suite.json"
    if not path.exists():
        raise BenchworkError(
            f"run {run.id!r} has no suite.json (imported?): its cases cannot be rescored"
        )
    # read through the store: a damaged suite.json is a StoreError naming it
    suite = Suite.from_dict(
        RunStore(path.parent.parent.parent).suite(run.id), source=f"run {run.id}"
    )
    return {c.id: c for c in suite.cases}


def _describe(scorer: Any) -> Any:
    judge = getattr(scorer, "judge", None)
    if judge is not None and hasattr(judge, "model"):
        return {"name": scorer.name, "judge": judge.model}
    members = getattr(scorer, "members", None)
    if members:
        return {"name": scorer.name, "judges": [m.judge.model for m in members]}
    return scorer.name


async def score_run(
    run: Run,
    scorers: Any,
    *,
    cache_dir: str | Path | None = None,
    cache: str = "use",
    concurrency: int = 8,
) -> Path:
    """Score ``run``'s calls (warm-ups excepted) with ``scorers`` and save them in its folder;
    returns the run store's home. Judges use ``cache_dir``, else the run's cache folder, else
    the default."""
    check_mode(cache)
    if run.path is None:
        raise BenchworkError(f"run {run.id!r} has no folder to write scores to")
    if run.status == "running":
        raise BenchworkError(
            f"run {run.id!r} is still running (or was killed mid-run): wait for it to finish, "
            f"or 'benchwork resume {run.id}' first"
        )
    resolved = resolve_scorers(scorers)
    if not resolved:
        raise BenchworkError("no scorers given: pass at least one, e.g. ['exact']")
    cases = run_cases(run)
    call_cache = None
    if cache != "off" and any(hasattr(s, "bind_run") for s in resolved):
        # an unusable cache: one warning and the judges go on without it (replay: an error)
        call_cache = open_run_cache(cache_dir or run.manifest.get("cache_dir") or None, cache)
    policy = CachePolicy(call_cache, cache)
    for s in resolved:
        bind = getattr(s, "bind_run", None)
        if bind is not None:
            bind(policy)
    records = [CallRecord.from_dict(r.to_dict()) for r in run.records]
    todo = [r for r in records if not r.warmup]
    try:
        await score_records(cases, todo, resolved, concurrency=concurrency)
    finally:
        if call_cache is not None:
            call_cache.close()
    path = Path(run.path)
    store = RunStore(path.parent.parent)
    now = datetime.now(UTC).isoformat()
    names = [s.name for s in resolved]
    old = list(run.manifest.get("scorers") or [])
    old_names = {o if isinstance(o, str) else o.get("name") for o in old if o}
    configs: dict[str, Any] = {}
    if isinstance(run.manifest.get("scorer_configs"), list):
        # full configurations, so a later resume rebuilds them; a rescored name replaces its own
        kept = [c for c in run.manifest["scorer_configs"] if isinstance(c, dict)]
        kept = [c for c in kept if c.get("name", c.get("type")) not in names]
        configs["scorer_configs"] = kept + scorer_configs(resolved)
    store.rewrite(
        run.id,
        [r.to_dict() for r in records],
        scorers=old + [n for n in names if n not in old_names],
        **configs,
        rescores=[
            *run.manifest.get("rescores", []),
            {"at": now, "scorers": [_describe(s) for s in resolved]},
        ],
    )
    return store.home
