"""Running scorers over records: ``score_record`` and ``score_records``.

Each result is stored as ``record.scores[name] = score.to_dict()``; failed calls and scorers
that raise give error scores instead of stopping the run.
"""

from __future__ import annotations

import asyncio
import inspect
from collections import deque
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from typing import Any

from benchwork.scoring._registry import resolve_scorers
from benchwork.scoring._score import Score, Scorer, ScorerSpec, _failed_call, case_field

__all__ = ["DEFAULT_CONCURRENCY", "score_record", "score_records"]

#: Default number of async scorers (LLM judges, embeddings) in flight at once.
DEFAULT_CONCURRENCY = 8


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


async def _score_pairs(
    pairs: Iterable[tuple[Any, Any]], scorers: list[Scorer], concurrency: int
) -> None:
    # Sync scorers run inline (cheap); awaitables are queued and drained by ``concurrency``
    # workers, so at most that many async scorers (judges, embeddings) are in flight.
    pending: deque[tuple[Any, str, Awaitable[Any]]] = deque()
    for case, record in pairs:
        for s in scorers:
            if case is _NO_CASE:
                score = Score.error(f"no case with id {record.case_id!r} among the given cases")
            elif getattr(record, "status", "ok") != "ok":
                score = _failed_call(record)
            else:
                try:
                    result = s(case, record)
                    if inspect.isawaitable(result):
                        pending.append((record, s.name, result))
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


_NO_CASE = object()


async def score_record(
    case: Any,
    record: Any,
    scorers: ScorerSpec | Sequence[ScorerSpec],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> Any:
    """Score one record against its case; sets ``record.scores[name]`` and returns the record."""
    await _score_pairs([(case, record)], resolve_scorers(scorers), concurrency)
    return record


async def score_records(
    cases: Mapping[str, Any] | Iterable[Any],
    records: list[Any],
    scorers: ScorerSpec | Sequence[ScorerSpec],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> list[Any]:
    """Score every record (warm-ups too) with every scorer; returns the same, mutated records.

    Failed calls get ``Score(None, "error", ...)`` without running the scorer; a scorer that
    raises gives an error score instead of stopping the run; at most ``concurrency`` async
    scorers run at once.
    """
    resolved = resolve_scorers(scorers)
    if isinstance(cases, Mapping):
        by_id = dict(cases)
    else:
        by_id = {str(case_field(c, "id")): c for c in cases}
    pairs = ((by_id.get(r.case_id, _NO_CASE), r) for r in records)
    await _score_pairs(pairs, resolved, concurrency)
    return records
