"""Prompt tuner, quick mode: a meta-model proposes K rewrites of the system prompt, each is
scored on a dev split, and the winner is confirmed on held-out cases against the original.

A tuner that reports its best dev score is overfit by construction; the confirmation is a
paired comparison (``analysis.compare_runs``) on cases the search never saw, and only a
"better" verdict there confirms the winner. Every call (rewrites, dev and held-out runs) goes
through the cache, so an interrupted tuning run resumes without paying again.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import polars as pl

from benchwork.errors import BenchworkError
from benchwork.suite import Case, Suite
from benchwork.target import Target

__all__ = ["TuneResult", "tune_prompt", "tune_prompt_sync"]

META_SYSTEM = (
    "You improve system prompts for a language model. Reply with the improved prompt only, "
    "no commentary."
)
META_TEMPLATE = (
    "Rewrite this system prompt so the model answers the task's questions more accurately. "
    "Keep its intent. This is variant {i}.\n<prompt>{prompt}</prompt>"
)


@dataclass
class TuneResult:
    """Candidates with their dev scores, the winner, and its held-out confirmation."""

    frame: pl.DataFrame  # candidate, prompt, dev mean [lo, hi], n
    original: str
    winner: str
    confirmation: dict[str, Any]  # compare_runs row: diff [lo, hi], p_holm, verdict
    runs: dict[str, Any]

    @property
    def confirmed(self) -> bool:
        """True when the winner beats the original on held-out cases (paired test at alpha)."""
        return str(self.confirmation.get("verdict", "")).startswith("better")


def _split(cases: list[Case], dev: float | list[str], seed: int) -> tuple[list[Case], list[Case]]:
    if isinstance(dev, list):
        ids = set(dev)
        unknown = ids - {c.id for c in cases}
        if unknown:
            raise BenchworkError(f"dev split names unknown case id(s) {sorted(unknown)}")
        return [c for c in cases if c.id in ids], [c for c in cases if c.id not in ids]
    if not 0 < dev < 1:
        raise BenchworkError(f"dev must be a fraction in (0, 1) or a list of case ids, got {dev!r}")
    order = list(cases)
    random.Random(seed).shuffle(order)
    cut = max(1, min(len(order) - 1, round(len(order) * dev)))
    return order[:cut], order[cut:]


def _with(suite: Suite, cases: list[Case], system: str, tag: str) -> Suite:
    return replace(suite, name=f"{suite.name}:{tag}", cases=cases, system=system or None)


async def tune_prompt(
    suite: Suite | str | Path,
    target: Target,
    meta: Target,
    *,
    k: int = 4,
    dev: float | list[str] = 0.5,
    seed: int = 0,
    alpha: float = 0.05,
    cache_dir: str | Path | None = None,
    home: str | Path | None = None,
) -> TuneResult:
    """Quick mode: K rewrites by *meta*, scored on the dev split, winner confirmed held-out."""
    from benchwork.analysis import compare_runs, leaderboard, pick_score
    from benchwork.runner import coerce_suite, run

    base = coerce_suite(suite)
    if len(base) < 4:
        raise BenchworkError("tuning needs at least 4 cases (a dev split and a held-out split)")
    if k < 1:
        raise BenchworkError("k must be >= 1")
    dev_cases, held = _split(list(base.cases), dev, seed)
    original = base.system or ""

    asks = Suite(
        name=f"{base.name}:rewrites",
        system=META_SYSTEM,
        cases=[
            Case(id=f"v{i}", input=META_TEMPLATE.format(i=i, prompt=original))
            for i in range(1, k + 1)
        ],
    )
    proposals = await run(asks, meta, scorers=[], cache_dir=cache_dir, home=home, progress=False)
    texts = [
        t.strip() for t in proposals.results["output_text"].drop_nulls().to_list() if t.strip()
    ]
    candidates = list(dict.fromkeys([original, *texts]))  # the original first, duplicates dropped

    rows, dev_runs = [], {}
    for i, prompt in enumerate(candidates):
        name = "original" if i == 0 else f"rewrite {i}"
        r = await run(
            _with(base, dev_cases, prompt, "dev"),
            target,
            cache_dir=cache_dir,
            home=home,
            progress=False,
        )
        dev_runs[name] = r
        col = pick_score(r.results, None)
        b = leaderboard(r).row(0, named=True)
        rows.append(
            {
                "candidate": name,
                "prompt": prompt,
                "dev_mean": b[f"{col}_mean"],
                "dev_lo": b[f"{col}_lo"],
                "dev_hi": b[f"{col}_hi"],
                "dev_n": b[f"{col}_n"],
            }
        )
    frame = pl.DataFrame(rows)
    best = frame.sort("dev_mean", descending=True, maintain_order=True).row(0, named=True)

    held_original = await run(
        _with(base, held, original, "held-out"),
        target,
        cache_dir=cache_dir,
        home=home,
        progress=False,
    )
    held_winner = await run(
        _with(base, held, best["prompt"], "held-out"),
        target,
        cache_dir=cache_dir,
        home=home,
        progress=False,
    )
    verdicts = compare_runs(held_original, held_winner, alpha=alpha)
    col = pick_score(held_original.results, None)
    confirm = verdicts.filter(pl.col("metric") == col)
    confirmation = confirm.row(0, named=True) if confirm.height else {"verdict": "not compared"}
    return TuneResult(
        frame=frame,
        original=original,
        winner=best["prompt"],
        confirmation=confirmation,
        runs={
            "rewrites": proposals,
            "dev": dev_runs,
            "held_original": held_original,
            "held_winner": held_winner,
        },
    )


def tune_prompt_sync(
    suite: Suite | str | Path,
    target: Target,
    meta: Target,
    *,
    k: int = 4,
    dev: float | list[str] = 0.5,
    seed: int = 0,
    alpha: float = 0.05,
    cache_dir: str | Path | None = None,
    home: str | Path | None = None,
) -> TuneResult:
    """Blocking ``tune_prompt``."""
    from benchwork._util.sync import run_blocking

    return run_blocking(
        lambda: tune_prompt(
            suite,
            target,
            meta,
            k=k,
            dev=dev,
            seed=seed,
            alpha=alpha,
            cache_dir=cache_dir,
            home=home,
        )
    )
