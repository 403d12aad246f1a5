"""Prompt tuner: a meta-model proposes system prompts, each is scored on a dev split, and the
winner is confirmed on held-out cases against the original.

``mode="quick"``: K rewrites of the original, one generation. ``mode="evolve"``: a population
bred over generations by mutation and crossover, guided by failing dev cases, within a budget
(see ``_evolve``). Both confirm the winner with a paired test on held-out cases, and both go
through the cache for every call, so an interrupted tuning run resumes without paying again.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

import polars as pl

from benchwork.errors import BenchworkError
from benchwork.suite import Case, Suite
from benchwork.target import Target
from benchwork.tuning._candidates import (
    META_SYSTEM,
    Spend,
    TuneResult,
    confirm,
    frame_of,
    score_dev,
    split,
)

__all__ = ["META_SYSTEM", "META_TEMPLATE", "TuneResult", "tune_prompt", "tune_prompt_sync"]

META_TEMPLATE = (
    "Rewrite this system prompt so the model answers the task's questions more accurately. "
    "Keep its intent. This is variant {i}.\n<prompt>{prompt}</prompt>"
)

OnGeneration = Callable[[pl.DataFrame], None]


async def tune_prompt(
    suite: Suite | str | Path,
    target: Target,
    meta: Target,
    *,
    mode: Literal["quick", "evolve"] = "quick",
    k: int = 4,
    population: int | None = None,
    generations: int | None = None,
    budget_calls: int | None = None,
    budget_usd: float | None = None,
    patience: int | None = None,
    show_failures: int = 3,
    dev: float | list[str] = 0.5,
    seed: int = 0,
    alpha: float = 0.05,
    cache_dir: str | Path | None = None,
    home: str | Path | None = None,
    on_generation: OnGeneration | None = None,
) -> TuneResult:
    """Tune ``suite``'s system prompt for *target* with proposals by *meta*.

    Quick mode: ``k`` rewrites scored on the dev split. Evolve mode: ``population`` children
    per generation (mutations of the best prompts so far, shown ``show_failures`` dev cases
    each got wrong, and crossovers of two), for up to ``generations`` generations, stopping
    early after ``patience`` generations without a better dev score, and before a next step
    would exceed ``budget_calls`` or ``budget_usd`` (estimated with ``estimate_cost``; the
    held-out confirmation is reserved from the start). ``dev``: a share of the cases or
    their ids. ``on_generation`` gets the candidates frame after each generation.
    """
    from benchwork.runner import coerce_suite

    base = coerce_suite(suite)
    if len(base) < 4:
        raise BenchworkError("tuning needs at least 4 cases (a dev split and a held-out split)")
    if mode not in ("quick", "evolve"):
        raise BenchworkError(f"mode must be 'quick' or 'evolve', got {mode!r}")
    dev_cases, held = split(list(base.cases), dev, seed)
    evolve_only = {"population": population, "generations": generations, "patience": patience,
                   "budget_calls": budget_calls, "budget_usd": budget_usd}  # fmt: skip
    if mode == "evolve":
        from benchwork.tuning._evolve import Evolution

        evolution = Evolution(
            base, dev_cases, held, target, meta, population=population or 4,
            generations=generations or 5, patience=patience or 2, budget_calls=budget_calls,
            budget_usd=budget_usd, show_failures=show_failures, alpha=alpha,
            cache_dir=cache_dir, home=home, on_generation=on_generation,
        )  # fmt: skip
        return await evolution.run()
    given = sorted(name for name, value in evolve_only.items() if value is not None)
    if given:
        raise BenchworkError(f"{', '.join(given)} apply to mode='evolve' only; quick mode takes k")
    if k < 1:
        raise BenchworkError("k must be >= 1")
    return await _quick(base, dev_cases, held, target, meta, k=k, alpha=alpha,
                        cache_dir=cache_dir, home=home, on_generation=on_generation)  # fmt: skip


async def _quick(
    base: Suite,
    dev_cases: list[Case],
    held: list[Case],
    target: Target,
    meta: Target,
    *,
    k: int,
    alpha: float,
    cache_dir: str | Path | None,
    home: str | Path | None,
    on_generation: OnGeneration | None,
) -> TuneResult:
    from benchwork.runner import run

    spend = Spend()
    original = base.system or ""
    row, first = await score_dev(base, dev_cases, original, target, spend,
                                 cache_dir=cache_dir, home=home)  # fmt: skip
    rows = [{**row, "candidate": "original", "generation": 0, "parent": None}]
    dev_runs = {"original": first}
    if on_generation is not None:
        on_generation(frame_of(rows))
    asks = Suite(
        name=f"{base.name}:rewrites",
        system=META_SYSTEM,
        cases=[
            Case(id=f"v{i}", input=META_TEMPLATE.format(i=i, prompt=original))
            for i in range(1, k + 1)
        ],
    )
    proposals = await run(asks, meta, scorers=[], cache_dir=cache_dir, home=home, progress=False)
    spend.add(proposals)
    texts = [
        t.strip() for t in proposals.results["output_text"].drop_nulls().to_list() if t.strip()
    ]
    candidates = list(dict.fromkeys([original, *texts]))[
        1:
    ]  # duplicates (and the original) dropped
    for i, prompt in enumerate(candidates, 1):
        name = f"rewrite {i}"
        row, dev_runs[name] = await score_dev(base, dev_cases, prompt, target, spend,
                                              cache_dir=cache_dir, home=home)  # fmt: skip
        rows.append({**row, "candidate": name, "generation": 1, "parent": None})
    frame = frame_of(rows)
    if on_generation is not None:
        on_generation(frame)
    best = frame.sort("dev_mean", descending=True, maintain_order=True).row(0, named=True)
    confirmation, held_runs = await confirm(base, held, original, best["prompt"], target, spend,
                                            alpha=alpha, cache_dir=cache_dir, home=home)  # fmt: skip
    return TuneResult(frame=frame, original=original, winner=best["prompt"],
                      confirmation=confirmation, runs={"rewrites": proposals, "dev": dev_runs,
                      **held_runs}, mode="quick", stopped="done", spent=spend.as_dict())  # fmt: skip


def tune_prompt_sync(
    suite: Suite | str | Path,
    target: Target,
    meta: Target,
    *,
    mode: Literal["quick", "evolve"] = "quick",
    k: int = 4,
    population: int | None = None,
    generations: int | None = None,
    budget_calls: int | None = None,
    budget_usd: float | None = None,
    patience: int | None = None,
    show_failures: int = 3,
    dev: float | list[str] = 0.5,
    seed: int = 0,
    alpha: float = 0.05,
    cache_dir: str | Path | None = None,
    home: str | Path | None = None,
    on_generation: OnGeneration | None = None,
) -> TuneResult:
    """Blocking ``tune_prompt`` (scripts, the CLI, or inside a notebook's running loop)."""
    from benchwork._util.sync import run_blocking

    return run_blocking(
        lambda: tune_prompt(
            suite,
            target,
            meta,
            mode=mode,
            k=k,
            population=population,
            generations=generations,
            budget_calls=budget_calls,
            budget_usd=budget_usd,
            patience=patience,
            show_failures=show_failures,
            dev=dev,
            seed=seed,
            alpha=alpha,
            cache_dir=cache_dir,
            home=home,
            on_generation=on_generation,
        )
    )
