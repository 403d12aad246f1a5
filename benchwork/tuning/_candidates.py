"""What both prompt-tuner modes share: the dev/held-out split, scoring one candidate prompt on
the dev split, the held-out confirmation, the result type and the spending tally.

A tuner that reports its best dev score is overfit by construction; the confirmation is a
paired comparison (``analysis.compare_runs``) on cases the search never saw, and only a
"better" verdict there confirms the winner.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from benchwork.errors import BenchworkError
from benchwork.suite import Case, Suite
from benchwork.target import Target

__all__ = [
    "FRAME_SCHEMA",
    "META_SYSTEM",
    "Spend",
    "TuneResult",
    "confirm",
    "frame_of",
    "score_dev",
    "split",
    "with_prompt",
]

#: the meta-model's system prompt (both modes)
META_SYSTEM = (
    "You improve system prompts for a language model. Reply with the improved prompt only, "
    "no commentary."
)

#: the columns of ``TuneResult.frame``, one row per candidate prompt
FRAME_SCHEMA: dict[str, Any] = {
    "candidate": pl.String,
    "prompt": pl.String,
    "dev_mean": pl.Float64,
    "dev_lo": pl.Float64,
    "dev_hi": pl.Float64,
    "dev_n": pl.Int64,
    "generation": pl.Int64,  # 0: the original prompt; quick mode's rewrites are generation 1
    "parent": pl.String,  # the candidate it came from; "a+b" for a crossover; null for 0/quick
}


@dataclass
class TuneResult:
    """Candidates with their dev scores, the winner, and its held-out confirmation.

    ``frame``: one row per candidate (``FRAME_SCHEMA``); ``stopped``: why the search ended
    ("done" in quick mode; "generations", "patience", "budget_calls" or "budget_usd");
    ``spent``: calls made (cached ones included), how many came from the cache, and dollars.
    """

    frame: pl.DataFrame
    original: str
    winner: str
    confirmation: dict[str, Any]  # compare_runs row: diff [lo, hi], p_holm, verdict
    runs: dict[str, Any]
    mode: str = "quick"
    stopped: str = "done"
    spent: dict[str, Any] = field(default_factory=dict)

    @property
    def confirmed(self) -> bool:
        """True when the winner beats the original on held-out cases (paired test at alpha)."""
        return str(self.confirmation.get("verdict", "")).startswith("better")


@dataclass
class Spend:
    """Calls and dollars of a tuning run so far; cache hits count as if paid, so a resumed
    run reaches the same budget decisions as an uninterrupted one."""

    calls: int = 0
    cached: int = 0
    usd: float = 0.0
    usd_known: bool = True

    def add(self, run: Any) -> None:
        counts = run.counts
        self.calls += counts["calls"]
        self.cached += counts["cached"]
        costs = run.results["cost_usd"]
        self.usd += float(costs.sum() or 0.0)
        self.usd_known = self.usd_known and costs.null_count() == 0

    def as_dict(self) -> dict[str, Any]:
        return {"calls": self.calls, "cached": self.cached, "fresh": self.calls - self.cached,
                "usd": self.usd if self.usd_known else None}  # fmt: skip


def split(cases: list[Case], dev: float | list[str], seed: int) -> tuple[list[Case], list[Case]]:
    """The dev and held-out cases: named by id, or a seeded shuffle cut at the ``dev`` share."""
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


def with_prompt(suite: Suite, cases: list[Case], system: str, tag: str) -> Suite:
    """``suite`` restricted to ``cases`` with ``system`` as its system prompt."""
    return replace(suite, name=f"{suite.name}:{tag}", cases=cases, system=system or None)


async def score_dev(
    base: Suite,
    dev_cases: list[Case],
    prompt: str,
    target: Target,
    spend: Spend,
    *,
    cache_dir: str | Path | None,
    home: str | Path | None,
) -> tuple[dict[str, Any], Any]:
    """``prompt``'s dev score (mean [lo, hi], n) and its run."""
    from benchwork.analysis import leaderboard, pick_score
    from benchwork.runner import run

    r = await run(with_prompt(base, dev_cases, prompt, "dev"), target, cache_dir=cache_dir,
                  home=home, progress=False)  # fmt: skip
    spend.add(r)
    col = pick_score(r.results, None)
    b = leaderboard(r).row(0, named=True)
    row = {"prompt": prompt, "dev_mean": b[f"{col}_mean"], "dev_lo": b[f"{col}_lo"],
           "dev_hi": b[f"{col}_hi"], "dev_n": b[f"{col}_n"]}  # fmt: skip
    return row, r


async def confirm(
    base: Suite,
    held: list[Case],
    original: str,
    winner: str,
    target: Target,
    spend: Spend,
    *,
    alpha: float,
    cache_dir: str | Path | None,
    home: str | Path | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The paired held-out comparison of ``winner`` against ``original``, and both runs."""
    from benchwork.analysis import compare_runs, pick_score
    from benchwork.runner import run

    runs = {}
    for name, prompt in (("held_original", original), ("held_winner", winner)):
        runs[name] = await run(with_prompt(base, held, prompt, "held-out"), target,
                               cache_dir=cache_dir, home=home, progress=False)  # fmt: skip
        spend.add(runs[name])
    verdicts = compare_runs(runs["held_original"], runs["held_winner"], alpha=alpha)
    col = pick_score(runs["held_original"].results, None)
    found = verdicts.filter(pl.col("metric") == col)
    return (found.row(0, named=True) if found.height else {"verdict": "not compared"}), runs


def frame_of(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """The candidates' rows as a frame with ``FRAME_SCHEMA``'s columns and types."""
    return pl.DataFrame([{k: r.get(k) for k in FRAME_SCHEMA} for r in rows], schema=FRAME_SCHEMA)
