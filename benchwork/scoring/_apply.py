"""Running scorers over records: ``score_record`` and ``score_records``.

Each result is stored as ``record.scores[name] = score.to_dict()``; failed calls and scorers
that raise give error scores instead of stopping the run.

Scoring never blocks the event loop for long: a built-in scorer that can be slow (``regex``,
``json_schema``; any built-in on an output over ``OFFLOAD_CHARS``) runs in a worker thread,
and one that takes longer than ``time_limit_s`` gives that row an error score saying so.
Async scorers (judges) are awaited, at most ``concurrency`` at once; custom synchronous
scorers run as they are (make a slow one async, or use ``asyncio.to_thread`` in it).
"""

from __future__ import annotations

import asyncio
import inspect
from collections import deque
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from typing import Any

from benchwork.scoring._check import check_cases
from benchwork.scoring._registry import resolve_scorers
from benchwork.scoring._score import (
    OFFLOAD_CHARS,
    Score,
    Scorer,
    ScorerSpec,
    _failed_call,
    case_field,
)

__all__ = ["DEFAULT_CONCURRENCY", "TIME_LIMIT_S", "score_record", "score_records"]

#: Default number of async scorers (LLM judges, embeddings) in flight at once.
DEFAULT_CONCURRENCY = 8
#: A scorer running in a worker thread is given up after this many seconds (an error score).
TIME_LIMIT_S = 30.0


def _to_score(result: Any) -> Score:
    if isinstance(result, Score):
        return result
    if isinstance(result, bool):
        return Score.passed(result)
    if isinstance(result, int | float):
        return Score(float(result))
    if result is None:
        return Score.skipped("scorer returned None")
    if isinstance(result, Mapping) and "value" in result:
        return Score(result["value"], result.get("label"), result.get("explanation"))
    raise TypeError(f"scorer returned {type(result).__name__}; return a Score, float or bool")


def _exc_score(e: BaseException) -> Score:
    return Score.error(f"{type(e).__name__}: {e}"[:500])


def _store(record: Any, name: str, score: Score) -> None:
    if record.scores is None:
        record.scores = {}
    record.scores[name] = score.to_dict()


def _size(record: Any) -> int:
    return sum(
        len(v)
        for v in (getattr(record, "output_text", None), getattr(record, "tool_calls", None))
        if isinstance(v, str | bytes)
    )


def _in_thread(s: Scorer, record: Any) -> bool:
    offload = getattr(s, "offload", None)
    return offload == "always" or (offload == "large" and _size(record) > OFFLOAD_CHARS)


async def _threaded(s: Scorer, case: Any, record: Any, limit: float) -> Score:
    def call() -> Score:  # exceptions become scores here: a TimeoutError below is the limit's
        try:
            return _to_score(s(case, record))
        except Exception as e:
            return _exc_score(e)

    try:
        return await asyncio.wait_for(asyncio.to_thread(call), limit)
    except TimeoutError:
        return Score.error(
            f"{s.name}: gave up after {limit:g} s on this output (time limit of a scorer)"
        )


async def _score_pairs(
    pairs: Iterable[tuple[Any, Any]],
    scorers: list[Scorer],
    concurrency: int,
    time_limit_s: float = TIME_LIMIT_S,
) -> None:
    # Cheap sync scorers run inline; slow ones (see ``_in_thread``) and async ones are queued
    # and drained by ``concurrency`` workers, so at most that many are in flight.
    pending: deque[tuple[Any, str, Awaitable[Any]]] = deque()
    queued: dict[int, Any] = {}  # records with a score still to come, by id
    for case, record in pairs:
        for s in scorers:
            if case is _NO_CASE:
                score = Score.error(f"no case with id {record.case_id!r} among the given cases")
            elif getattr(record, "status", "ok") != "ok":
                score = _failed_call(record)
            elif _in_thread(s, record):
                pending.append((record, s.name, _threaded(s, case, record, time_limit_s)))
                queued[id(record)] = record
                continue
            else:
                try:
                    result = s(case, record)
                    if inspect.isawaitable(result):
                        pending.append((record, s.name, result))
                        queued[id(record)] = record
                        continue
                    score = _to_score(result)
                except Exception as e:
                    score = _exc_score(e)
            _store(record, s.name, score)

    async def worker() -> None:
        while pending:
            record, name, awaitable = pending.popleft()
            try:
                score = _to_score(await awaitable)
            except Exception as e:
                score = _exc_score(e)
            _store(record, name, score)

    try:
        if pending:
            await asyncio.gather(*(worker() for _ in range(min(max(1, concurrency), len(pending)))))
    finally:  # cancelled: close what never started, without "never awaited" warnings
        for _, _, awaitable in pending:
            if inspect.iscoroutine(awaitable):
                awaitable.close()
        names = [s.name for s in scorers]
        for record in queued.values():  # scores in the scorers' order, however they finished
            if record.scores:
                first = {n: record.scores[n] for n in names if n in record.scores}
                record.scores = {**first, **record.scores}


_NO_CASE = object()


async def score_record(
    case: Any,
    record: Any,
    scorers: ScorerSpec | Sequence[ScorerSpec],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    time_limit_s: float = TIME_LIMIT_S,
) -> Any:
    """Score one record against its case; sets ``record.scores[name]`` and returns the record."""
    await _score_pairs([(case, record)], resolve_scorers(scorers), concurrency, time_limit_s)
    return record


async def score_records(
    cases: Mapping[str, Any] | Iterable[Any],
    records: list[Any],
    scorers: ScorerSpec | Sequence[ScorerSpec],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    time_limit_s: float = TIME_LIMIT_S,
) -> list[Any]:
    """Score every record (warm-ups too) with every scorer; returns the same, mutated records.

    Failed calls get ``Score(None, "error", ...)`` without running the scorer; a scorer that
    raises gives an error score instead of stopping the run; at most ``concurrency`` async
    or threaded scorers run at once, and a threaded one is given up after ``time_limit_s``.
    A case whose input a scorer can never use raises a ``SuiteError`` first (``check_cases``).
    """
    resolved = resolve_scorers(scorers)
    if isinstance(cases, Mapping):
        by_id = dict(cases)
    else:
        by_id = {str(case_field(c, "id")): c for c in cases}
    check_cases(resolved, by_id.values())
    pairs = ((by_id.get(r.case_id, _NO_CASE), r) for r in records)
    await _score_pairs(pairs, resolved, concurrency, time_limit_s)
    return records
