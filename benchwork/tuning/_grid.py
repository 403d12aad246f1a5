"""Parameter grid: every setting of a grid (or a seeded random sample of it) as one run.

Each setting becomes a variant of the target (``temperature=0, top_p=0.9``), all variants run
together (one run, one cache: a rerun costs nothing), and the result is the analysis
leaderboard with one column per parameter, so each setting's score carries its interval. The
provider is asked first which parameters it accepts, and the cost is estimated before any call.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import polars as pl

from benchwork.errors import BenchworkError
from benchwork.suite import Suite
from benchwork.target import Target
from benchwork.tuning._estimate import estimate_cost
from benchwork.tuning._params import check_params

__all__ = ["GridResult", "grid", "grid_sync"]


@dataclass
class GridResult:
    """The settings tried, their leaderboard (with parameter columns), and the run itself."""

    frame: pl.DataFrame
    estimate: pl.DataFrame
    run: Any
    params: list[str]
    score: str | None

    @property
    def best(self) -> dict[str, Any]:
        """The setting with the highest mean score (ties: the first), with its interval."""
        if self.score is None:
            raise BenchworkError(
                "no score to pick the best setting by: give the suite an expected answer or a scorer"
            )
        ranked = self.frame.sort(f"{self.score}_mean", descending=True, nulls_last=True)
        return ranked.row(0, named=True)

    def chart(self) -> Any:
        """A heatmap of mean score over two parameters (one parameter: bars), with intervals."""
        import altair as alt

        if self.score is None:
            raise BenchworkError("no score to chart")
        m, lo, hi = f"{self.score}_mean", f"{self.score}_lo", f"{self.score}_hi"
        data = self.frame.with_columns(
            pl.format(
                "{}% [{}, {}]", *(pl.col(c).mul(100).round(0).cast(pl.Int64) for c in (m, lo, hi))
            ).alias("label")
        ).with_columns(pl.col(p).cast(pl.String) for p in self.params)
        tip = [*self.params, alt.Tooltip(f"{m}:Q", format=".1%"), "label:N", "calls:Q"]
        if len(self.params) >= 2:
            x, y = self.params[0], self.params[1]
            base = alt.Chart(data).encode(x=alt.X(f"{x}:O", title=x), y=alt.Y(f"{y}:O", title=y))
            cells = base.mark_rect().encode(
                color=alt.Color(f"{m}:Q", title="mean score", scale=alt.Scale(domain=[0, 1])),
                tooltip=tip,
            )
            return (cells + base.mark_text(fontSize=11).encode(text="label:N")).properties(
                title=f"{self.score} by {x} and {y} (95% intervals)"
            )
        p = self.params[0]
        base = alt.Chart(data).encode(x=alt.X(f"{p}:O", title=p))
        bars = base.mark_bar().encode(
            y=alt.Y(f"{m}:Q", title="mean score", scale=alt.Scale(domain=[0, 1])), tooltip=tip
        )
        return (bars + base.mark_rule().encode(y=f"{lo}:Q", y2=f"{hi}:Q")).properties(
            title=f"{self.score} by {p}"
        )


def _settings(
    space: Mapping[str, Sequence[Any]], search: str, n: int | None, seed: int
) -> list[dict[str, Any]]:
    if not space:
        raise BenchworkError(
            "the search space is empty: give at least one parameter and its values"
        )
    for name, values in space.items():
        if isinstance(values, str | bytes) or not isinstance(values, Sequence) or not values:
            raise BenchworkError(
                f"parameter {name!r}: give a non-empty list of values, got {values!r}"
            )
    names = list(space)
    combos = [
        dict(zip(names, vals, strict=True))
        for vals in itertools.product(*(space[k] for k in names))
    ]
    if search == "grid":
        return combos
    if search != "random":
        raise BenchworkError(f"search must be 'grid' or 'random', not {search!r}")
    if n is None or n < 1:
        raise BenchworkError("random search needs n >= 1 settings")
    return random.Random(seed).sample(combos, min(n, len(combos)))


def _label(setting: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in setting.items())


async def grid(
    suite: Suite | str | Path,
    target: Target,
    space: Mapping[str, Sequence[Any]],
    *,
    search: str = "grid",
    n: int | None = None,
    seed: int = 0,
    repeats: int = 1,
    max_cost_usd: float | None = None,
    cache_dir: str | Path | None = None,
    home: str | Path | None = None,
) -> GridResult:
    """Try every setting of *space* (or ``n`` seeded random ones) on *target*; see module doc.

    Raises before any call when a parameter is not supported by the provider, or when the
    estimated cost exceeds ``max_cost_usd`` (unknown prices: the estimate says so).
    """
    from benchwork.analysis import leaderboard, score_columns
    from benchwork.runner import coerce_suite, run

    the_suite = coerce_suite(suite)
    check_params(target, space)
    settings = _settings(space, search, n, seed)
    variants = [
        replace(target, name=f"{target.name} [{_label(s)}]", params={**target.params, **s})
        for s in settings
    ]
    estimate = estimate_cost(the_suite, variants, repeats=repeats)
    total = estimate["cost_usd"]
    if max_cost_usd is not None:
        if total.null_count():
            raise BenchworkError(
                f"max_cost_usd is set but {target.model!r} has no known price: set input_per_mtok "
                "and output_per_mtok on the target, or drop the budget"
            )
        if float(total.sum()) > max_cost_usd:
            raise BenchworkError(
                f"estimated cost ${float(total.sum()):.4f} for {len(variants)} settings exceeds "
                f"max_cost_usd ${max_cost_usd:.4f}; narrow the grid or use search='random'"
            )
    result = await run(
        the_suite, variants, repeats=repeats, cache_dir=cache_dir, home=home, progress=False
    )
    board = leaderboard(result)
    params = pl.DataFrame(
        [
            {"target": v.name, **{k: str(s[k]) for k in space}}
            for v, s in zip(variants, settings, strict=True)
        ]
    )
    frame = params.join(board, on="target", how="left")
    scores = score_columns(result.results)
    return GridResult(
        frame=frame,
        estimate=estimate,
        run=result,
        params=list(space),
        score=scores[0] if scores else None,
    )


def grid_sync(
    suite: Suite | str | Path,
    target: Target,
    space: Mapping[str, Sequence[Any]],
    *,
    search: str = "grid",
    n: int | None = None,
    seed: int = 0,
    repeats: int = 1,
    max_cost_usd: float | None = None,
    cache_dir: str | Path | None = None,
    home: str | Path | None = None,
) -> GridResult:
    """Blocking ``grid`` (scripts, or a notebook cell)."""
    from benchwork._util.sync import run_blocking

    return run_blocking(
        lambda: grid(
            suite,
            target,
            space,
            search=search,
            n=n,
            seed=seed,
            repeats=repeats,
            max_cost_usd=max_cost_usd,
            cache_dir=cache_dir,
            home=home,
        )
    )
