"""Pairwise comparison: an LLM judge picks the better of two targets' outputs, in BOTH orders.

Each case is judged with target A's output shown first, then with B's first. When the two
verdicts agree, that is the winner; when they disagree the judge followed the position, not
the content: the case counts as a tie and is flagged ``position_bias``. Judge calls go
through the client and the cache like any other (a rerun costs nothing).
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from benchwork._util.sync import run_blocking
from benchwork.analysis import PAIRWISE_SCHEMA
from benchwork.errors import BenchworkError
from benchwork.runner._rescore import run_cases
from benchwork.runner._result import Run
from benchwork.scoring.judging import (
    DEFAULT_CRITERIA,
    JUDGE_SYSTEM,
    PAIRWISE_TEMPLATE,
    JudgeModel,
    JudgeSpec,
    SelfGradingWarning,
    case_input_text,
    check_template,
    correction,
    expected_text,
    judge_target,
    read_winner,
    render_prompt,
    same_model,
)

__all__ = ["compare", "compare_sync"]

_SLOTS = ("input", "output_a", "output_b", "expected", "criteria")


def _records(runs: Sequence[Run], target: str) -> dict[tuple[str, int], Any]:
    out = {}
    for run in runs:
        for r in run.records:
            if r.target == target and not r.warmup:
                out[(r.case_id, r.repeat)] = r
    if not out:
        known = sorted({r.target for run in runs for r in run.records})
        raise BenchworkError(f"no calls of target {target!r} in the run(s); targets: {known}")
    return out


def _cases(runs: Sequence[Run]) -> dict[str, Any]:
    cases: dict[str, Any] = {}
    for run in runs:
        for cid, case in run_cases(run).items():
            cases.setdefault(cid, case)
    return cases


def _side(winner: str, a_first: bool) -> str:
    if winner == "tie":
        return "tie"
    return ("a" if winner == "A" else "b") if a_first else ("b" if winner == "A" else "a")


async def compare(
    runs: Run | Sequence[Run],
    target_a: str,
    target_b: str,
    *,
    judge: JudgeSpec = None,
    model: str | None = None,
    api_base: str | None = None,
    api_key_env: str | None = None,
    criteria: str = DEFAULT_CRITERIA,
    template: str | None = None,
    system: str | None = JUDGE_SYSTEM,
    cache_dir: str | Path | None = None,
    cache: str = "use",
    concurrency: int = 8,
) -> pl.DataFrame:
    """One row per (case, repeat) of ``target_a`` vs ``target_b`` (see ``PAIRWISE_SCHEMA``).

    ``runs``: a Run or several (the targets may come from different runs). The template may
    use ``{{ input }}``, ``{{ output_a }}``, ``{{ output_b }}``, ``{{ expected }}``,
    ``{{ criteria }}``. Summarize with ``pairwise_summary``.
    """
    runs = [runs] if isinstance(runs, Run) else list(runs)
    if not runs:
        raise BenchworkError("compare needs at least one run")
    if isinstance(judge, JudgeModel):
        jm = judge
    else:
        target = judge_target(judge, model=model, api_base=api_base, api_key_env=api_key_env)
        jm = JudgeModel(
            target, cache_dir=cache_dir or runs[0].manifest.get("cache_dir"), cache=cache
        )
    template = check_template(template or PAIRWISE_TEMPLATE, _SLOTS, what="pairwise")
    recs_a, recs_b = _records(runs, target_a), _records(runs, target_b)
    for rec in (*recs_a.values(), *recs_b.values()):
        if same_model(jm.model, rec.model):
            warnings.warn(
                f"compare: judge {jm.model!r} is judging its own model's outputs ({rec.target!r})",
                SelfGradingWarning,
                stacklevel=2,
            )
            break
    cases = _cases(runs)
    sem = asyncio.Semaphore(max(1, concurrency))

    async def judge_one(key: tuple[str, int]) -> dict[str, Any]:
        row: dict[str, Any] = dict.fromkeys(PAIRWISE_SCHEMA)
        row.update(case_id=key[0], repeat=key[1], judge=jm.model, judge_calls=0)
        a, b, case = recs_a.get(key), recs_b.get(key), cases.get(key[0])
        missing = [n for n, r in ((target_a, a), (target_b, b)) if r is None or r.status != "ok"]
        if missing or case is None:
            row["error"] = (
                f"no ok output from {', '.join(map(repr, missing))}"
                if missing
                else "case not in suite"
            )
            return row
        base = {
            "input": case_input_text(case),
            "expected": expected_text(getattr(case, "expected", None)),
            "criteria": criteria,
        }
        head = [{"role": "system", "content": system}] if system else []

        async def ask(first: Any, second: Any) -> Any:
            prompt = render_prompt(
                template,
                {**base, "output_a": first.output_text or "", "output_b": second.output_text or ""},
                what="pairwise",
            )
            async with sem:
                return await jm.ask(
                    [*head, {"role": "user", "content": prompt}],
                    read_winner,
                    lambda p: correction(p, "winner"),
                    case_id=key[0],
                )

        ab, ba = await asyncio.gather(ask(a, b), ask(b, a))
        costs = [ab.cost_usd, ba.cost_usd]
        row["judge_cost_usd"] = None if None in costs else sum(costs)  # type: ignore[arg-type]
        row["judge_calls"] = ab.asks + ba.asks
        row["reasoning_a_first"], row["reasoning_b_first"] = ab.reasoning, ba.reasoning
        if ab.value is None or ba.value is None:
            row["error"] = "; ".join(r.error or "no verdict" for r in (ab, ba) if r.value is None)
            return row
        first, second = _side(ab.value, True), _side(ba.value, False)
        row.update(winner_a_first=first, winner_b_first=second, position_bias=first != second)
        row["winner"] = first if first == second else "tie"
        return row

    keys = sorted(set(recs_a) | set(recs_b))
    rows = await asyncio.gather(*(judge_one(k) for k in keys))
    return pl.DataFrame(rows, schema=PAIRWISE_SCHEMA, orient="row")


def compare_sync(
    runs: Run | Sequence[Run],
    target_a: str,
    target_b: str,
    *,
    judge: JudgeSpec = None,
    model: str | None = None,
    api_base: str | None = None,
    api_key_env: str | None = None,
    criteria: str = DEFAULT_CRITERIA,
    template: str | None = None,
    system: str | None = JUDGE_SYSTEM,
    cache_dir: str | Path | None = None,
    cache: str = "use",
    concurrency: int = 8,
) -> pl.DataFrame:
    """Blocking ``compare`` (scripts, or inside a running event loop such as a notebook)."""
    return run_blocking(
        lambda: compare(
            runs,
            target_a,
            target_b,
            judge=judge,
            model=model,
            api_base=api_base,
            api_key_env=api_key_env,
            criteria=criteria,
            template=template,
            system=system,
            cache_dir=cache_dir,
            cache=cache,
            concurrency=concurrency,
        )
    )
