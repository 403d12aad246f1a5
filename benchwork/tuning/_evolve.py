"""The prompt tuner's evolutionary mode: a population bred by a meta-model over generations.

Generation 0 is the original prompt. Each later generation asks the meta-model for
``population`` children of the best prompts so far (the survivors): mutations, whose request
shows a few dev cases the parent got wrong, and crossovers of two survivors. Every child is
scored on the dev split. The search stops after ``generations``, after ``patience`` generations
without a better dev score, or before a step whose estimated calls or dollars would go over
the budget (the held-out confirmation is reserved from the start). Cache hits count against
the budget as if paid, so a run resumed after a kill makes the same choices, from the cache.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from benchwork.errors import BenchworkError
from benchwork.suite import Case, Suite
from benchwork.target import Target, prices_for
from benchwork.tuning._candidates import (
    META_SYSTEM,
    Spend,
    TuneResult,
    confirm,
    frame_of,
    score_dev,
    with_prompt,
)
from benchwork.tuning._estimate import estimate_cost
from benchwork.tuning._variations import normalize_text

__all__ = ["CROSS_TEMPLATE", "MUTATE_TEMPLATE", "Evolution"]

MUTATE_TEMPLATE = (
    "Improve this system prompt so the model answers the task's questions more accurately. "
    "Keep its intent. {failures}This is variant {i} of generation {g}.\n<prompt>{prompt}</prompt>"
)
CROSS_TEMPLATE = (
    "Combine these two system prompts into one that keeps what makes each of them work. "
    "This is variant {i} of generation {g}.\n<prompt>{a}</prompt>\n<prompt>{b}</prompt>"
)


#: how many times a child that repeats a scored prompt is asked for again
RETRIES = 2


class _OverBudget(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


def check_budget_usd(budget_usd: float | None, target: Target, meta: Target) -> None:
    """A dollar budget (None: no limit) is > 0 and both models have prices to spend it by."""
    if budget_usd is None:
        return
    if budget_usd <= 0:
        raise BenchworkError(f"budget_usd must be > 0, got {budget_usd!r}")
    unpriced = [t.name for t in (target, meta) if prices_for(t) is None]
    if unpriced:
        raise BenchworkError(
            f"budget_usd needs prices, and none are known for {unpriced}: set "
            "Target(input_per_mtok=..., output_per_mtok=...) or use budget_calls"
        )


class Evolution:
    """One evolutionary tuning run (``tune_prompt(mode="evolve")`` builds and runs it)."""

    def __init__(
        self,
        base: Suite,
        dev_cases: list[Case],
        held: list[Case],
        target: Target,
        meta: Target,
        *,
        population: int,
        generations: int,
        patience: int,
        budget_calls: int | None,
        budget_usd: float | None,
        show_failures: int,
        alpha: float,
        cache_dir: str | Path | None,
        home: str | Path | None,
        on_generation: Callable[[pl.DataFrame], None] | None,
    ) -> None:
        for name, value in (("population", population), ("generations", generations),
                            ("patience", patience)):  # fmt: skip
            if not isinstance(value, int) or value < 1:
                raise BenchworkError(f"{name} must be a whole number >= 1, got {value!r}")
        if budget_calls is not None and budget_calls < 1:
            raise BenchworkError(f"budget_calls must be >= 1, got {budget_calls!r}")
        check_budget_usd(budget_usd, target, meta)
        self.base, self.dev_cases, self.held = base, dev_cases, held
        self.target, self.meta = target, meta
        self.population, self.generations, self.patience = population, generations, patience
        self.budget_calls, self.budget_usd = budget_calls, budget_usd
        self.show_failures, self.alpha = show_failures, alpha
        self.cache_dir, self.home, self.on_generation = cache_dir, home, on_generation
        self.spend = Spend()
        self.original = base.system or ""
        self.rows: list[dict[str, Any]] = []
        self.dev_runs: dict[str, Any] = {}
        self.meta_runs: list[Any] = []
        self.seen: set[str] = set()

    # -- budget ------------------------------------------------------------------------------
    def _estimate(self, suite: Suite, target: Target) -> tuple[int, float]:
        """Calls (exact: one per case) and dollars (``estimate_cost``, only under a USD budget:
        it counts tokens with litellm, slow to import)."""
        if self.budget_usd is None:
            return len(suite), 0.0
        row = estimate_cost(suite, [target]).row(0, named=True)
        return int(row["calls"]), float(row["cost_usd"] or 0.0)

    def _reserve(self, longest: str) -> tuple[int, float]:
        """The held-out confirmation: the original and (at most) the longest prompt's run."""
        a = self._estimate(
            with_prompt(self.base, self.held, self.original, "held-out"), self.target
        )
        b = self._estimate(with_prompt(self.base, self.held, longest, "held-out"), self.target)
        return a[0] + b[0], a[1] + b[1]

    def _afford(self, calls: int, usd: float, longest: str) -> None:
        """Raise ``_OverBudget`` when the next step plus the confirmation would go over."""
        reserve_calls, reserve_usd = self._reserve(longest)
        if self.budget_calls is not None:
            if self.spend.calls + calls + reserve_calls > self.budget_calls:
                raise _OverBudget("budget_calls")
        if self.budget_usd is not None:
            if self.spend.usd + usd + reserve_usd > self.budget_usd:
                raise _OverBudget("budget_usd")

    def _longest(self, *more: str) -> str:
        return max([r["prompt"] for r in self.rows] + list(more) + [self.original], key=len)

    # -- candidates --------------------------------------------------------------------------
    async def _add(self, name: str, prompt: str, generation: int, parent: str | None) -> None:
        dev_suite = with_prompt(self.base, self.dev_cases, prompt, "dev")
        calls, usd = self._estimate(dev_suite, self.target)
        self._afford(calls, usd, self._longest(prompt))
        row, r = await score_dev(self.base, self.dev_cases, prompt, self.target, self.spend,
                                 cache_dir=self.cache_dir, home=self.home)  # fmt: skip
        self.rows.append({**row, "candidate": name, "generation": generation, "parent": parent})
        self.dev_runs[name] = r
        self.seen.add(normalize_text(prompt))

    def _ranked(self, *, newest_first: bool = False) -> list[dict[str, Any]]:
        """Candidates best dev score first; ties go to the earlier one (the winner: no change
        without a gain) or, for breeding, to the newer one (a plateau is explored, not stuck)."""
        order = {id(r): i for i, r in enumerate(self.rows)}
        sign = -1 if newest_first else 1
        return sorted(self.rows, key=lambda r: (-(r["dev_mean"] or 0.0), sign * order[id(r)]))

    def _ancestors(self, name: str) -> set[str]:
        parents = {r["candidate"]: r["parent"] for r in self.rows}
        out, todo = set(), [name]
        while todo:
            label = parents.get(todo.pop())
            for p in (label or "").split("+") if label else []:
                if p not in out:
                    out.add(p)
                    todo.append(p)
        return out

    def _related(self, a: str, b: str) -> bool:
        """Whether one descends from the other (crossing them would mostly give the child)."""
        return a in self._ancestors(b) or b in self._ancestors(a)

    def _failures(self, name: str) -> str:
        """Up to ``show_failures`` dev cases the candidate got wrong, for a mutation request."""
        from benchwork.analysis import pick_score

        if self.show_failures < 1:
            return ""
        results = self.dev_runs[name].results
        col = pick_score(results, None)
        wrong = {r["case_id"]: r for r in results.iter_rows(named=True)
                 if r["status"] != "ok" or (r[col] is not None and r[col] < 1)}  # fmt: skip
        shown = []
        for case in self.dev_cases:
            if case.id in wrong and len(shown) < self.show_failures:
                question = self.base.messages(case)[-1].get("content")
                shown.append(f"<failure>\nQuestion: {question}\nExpected: {case.expected}\n"
                             f"Answered: {wrong[case.id]['output_text']}\n</failure>\n")  # fmt: skip
        if not shown:
            return "With it, the model got every dev question right; make it more robust. "
        return "With it, the model got these questions wrong:\n" + "".join(shown)

    def _plan(self, g: int) -> list[tuple[str, str, str]]:
        """(name, parent label, request) for each child of generation ``g``."""
        survivors = self._ranked(newest_first=True)[: self.population]
        pairs = [(a, b) for i, a in enumerate(survivors) for b in survivors[i + 1 :]
                 if not self._related(a["candidate"], b["candidate"])]  # fmt: skip
        n_cross = min(len(pairs), self.population // 2) if g > 1 else 0
        out = []
        for i in range(1, self.population + 1):
            name = f"g{g}.{i}"
            if i <= n_cross:
                a, b = pairs[i - 1]
                text = CROSS_TEMPLATE.format(i=i, g=g, a=a["prompt"], b=b["prompt"])
                out.append((name, f"{a['candidate']}+{b['candidate']}", text))
            else:
                p = survivors[(i - 1 - n_cross) % len(survivors)]
                text = MUTATE_TEMPLATE.format(i=i, g=g, prompt=p["prompt"],
                                              failures=self._failures(p["candidate"]))  # fmt: skip
                out.append((name, p["candidate"], text))
        return out

    async def _generation(self, g: int) -> None:
        """Ask for the generation's children and score the new ones; a child that repeats a
        prompt already scored (or came back empty) is asked for again, up to ``RETRIES`` times."""
        from benchwork.runner import run

        pending = self._plan(g)
        for attempt in range(RETRIES + 1):
            if not pending:
                break
            again = f" Attempt {attempt + 1}: propose something not tried yet." if attempt else ""
            asks = Suite(name=f"{self.base.name}:generation {g}", system=META_SYSTEM,
                         cases=[Case(id=name, input=text.replace("\n<prompt>", again + "\n<prompt>", 1))
                                for name, _, text in pending])  # fmt: skip
            calls, usd = self._estimate(asks, self.meta)
            self._afford(calls, usd, self._longest())
            proposals = await run(asks, self.meta, scorers=[], cache_dir=self.cache_dir,
                                  home=self.home, progress=False)  # fmt: skip
            self.spend.add(proposals)
            self.meta_runs.append(proposals)
            texts = {r["case_id"]: (r["output_text"] or "").strip()
                     for r in proposals.results.iter_rows(named=True) if r["status"] == "ok"}  # fmt: skip
            retry = []
            for name, parent, text in pending:
                prompt = texts.get(name, "")
                if not prompt or normalize_text(prompt) in self.seen:
                    retry.append((name, parent, text))  # nothing new: ask again
                    continue
                await self._add(name, prompt, g, parent)
            pending = retry

    # -- the run -----------------------------------------------------------------------------
    async def run(self) -> TuneResult:
        try:
            await self._add("original", self.original, 0, None)
        except _OverBudget as e:
            raise BenchworkError(
                f"{e.reason} is too small to score the original prompt on the dev split and "
                "confirm a winner on the held-out split; raise it (see estimate_cost)"
            ) from None
        self._report()
        best, stale, stopped = self._ranked()[0]["dev_mean"] or 0.0, 0, "generations"
        for g in range(1, self.generations + 1):
            try:
                await self._generation(g)
            except _OverBudget as e:
                self._report()
                stopped = e.reason
                break
            self._report()
            top = self._ranked()[0]["dev_mean"] or 0.0
            if top > best:
                best, stale = top, 0
            else:
                stale += 1
            if stale >= self.patience:
                stopped = "patience"
                break
        winner = self._ranked()[0]["prompt"]
        confirmation, held_runs = await confirm(
            self.base, self.held, self.original, winner, self.target, self.spend,
            alpha=self.alpha, cache_dir=self.cache_dir, home=self.home,
        )  # fmt: skip
        return TuneResult(frame=frame_of(self.rows), original=self.original, winner=winner,
                          confirmation=confirmation, runs={"meta": self.meta_runs,
                          "dev": self.dev_runs, **held_runs}, mode="evolve", stopped=stopped,
                          spent=self.spend.as_dict())  # fmt: skip

    def _report(self) -> None:
        if self.on_generation is not None:
            self.on_generation(frame_of(self.rows))
