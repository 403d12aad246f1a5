"""Parameter grid: every setting of a grid (or a seeded random sample of it) as one run.

Each setting becomes a variant of each target (``temperature=0, top_p=0.9``), all variants of
all targets run together (one run, one cache: a rerun costs nothing), and the result is the
analysis leaderboard with a ``target`` column and one column per parameter, so each setting's
score carries its interval, and the best setting can be read per target. Every target's
provider is asked first which parameters it accepts, and the cost of the whole grid is
estimated before any call.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
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
    """The settings tried, their leaderboard (with parameter columns), and the run itself.

    ``frame`` has one row per target and setting: ``target`` (the target's name), one column
    per parameter (values as text), ``setting`` (``"temperature=0, top_p=0.9"``), ``variant``
    (the run's name for that target and setting), then the leaderboard's columns. ``estimate``
    has the same ``target``, ``setting`` and ``variant`` columns.
    """

    frame: pl.DataFrame
    estimate: pl.DataFrame
    run: Any
    params: list[str]
    score: str | None
    targets: list[str] = field(default_factory=list)

    def _score_mean(self, what: str) -> str:
        if self.score is None:
            raise BenchworkError(
                f"no score to {what}: give the suite an expected answer or a scorer"
            )
        return f"{self.score}_mean"

    def _best_of(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The first row with the highest mean score (nulls last; ties keep the grid's order)."""
        mean = self._score_mean("pick the best setting by")
        return frame.sort(mean, descending=True, nulls_last=True, maintain_order=True).head(1)

    @property
    def best(self) -> dict[str, Any]:
        """The setting with the highest mean score (ties: the first), with its interval.

        One target only; with several use ``best_per_target`` (a frame) or ``best_for(name)``.
        """
        names = self.targets or self.frame["target"].unique(maintain_order=True).to_list()
        if len(names) > 1:
            raise BenchworkError(
                f"this grid ran {len(names)} targets ({', '.join(map(repr, names))}), so there "
                "is a best setting per target: use .best_per_target (one row per target) or "
                ".best_for(target_name)"
            )
        return self._best_of(self.frame).row(0, named=True)

    @property
    def best_per_target(self) -> pl.DataFrame:
        """One row per target (in the order given): its best setting, with the interval."""
        names = self.targets or self.frame["target"].unique(maintain_order=True).to_list()
        return pl.concat([self._best_of(self.frame.filter(pl.col("target") == n)) for n in names])

    def best_for(self, target: str) -> dict[str, Any]:
        """The best setting of one target (by name), with its interval."""
        rows = self.frame.filter(pl.col("target") == target)
        if rows.is_empty():
            names = self.frame["target"].unique(maintain_order=True).to_list()
            raise BenchworkError(
                f"no target {target!r} in this grid; its targets: {', '.join(map(repr, names))}"
            )
        return self._best_of(rows).row(0, named=True)

    def chart(self) -> Any:
        """A heatmap of mean score over two parameters (one parameter: bars), with intervals;
        with several targets, one panel per target side by side (the same colour scale)."""
        import altair as alt

        m = self._score_mean("chart")
        lo, hi = f"{self.score}_lo", f"{self.score}_hi"
        data = self.frame.with_columns(
            pl.format(
                "{}% [{}, {}]", *(pl.col(c).mul(100).round(0).cast(pl.Int64) for c in (m, lo, hi))
            ).alias("label")
        ).with_columns(pl.col(p).cast(pl.String) for p in self.params)
        many = data["target"].n_unique() > 1
        tip = ["target", *self.params, alt.Tooltip(f"{m}:Q", format=".1%"), "label:N", "calls:Q"]
        if len(self.params) >= 2:
            x, y = self.params[0], self.params[1]
            base = alt.Chart(data).encode(x=alt.X(f"{x}:O", title=x), y=alt.Y(f"{y}:O", title=y))
            cells = base.mark_rect().encode(
                color=alt.Color(f"{m}:Q", title="mean score", scale=alt.Scale(domain=[0, 1])),
                tooltip=tip,
            )
            chart = cells + base.mark_text(fontSize=11).encode(text="label:N")
            title = f"{self.score} by {x} and {y} (95% intervals)"
        else:
            p = self.params[0]
            base = alt.Chart(data).encode(x=alt.X(f"{p}:O", title=p))
            bars = base.mark_bar().encode(
                y=alt.Y(f"{m}:Q", title="mean score", scale=alt.Scale(domain=[0, 1])),
                tooltip=tip,
            )
            chart = bars + base.mark_rule().encode(y=f"{lo}:Q", y2=f"{hi}:Q")
            title = f"{self.score} by {p}"
        if many:
            return chart.facet(column=alt.Column("target:N", title=None)).properties(
                title=f"{title}, per target"
            )
        return chart.properties(title=title)


def _targets(target: Target | Sequence[Target]) -> list[Target]:
    """One target or a list of them, checked: non-empty, all Targets, distinct names."""
    targets = [target] if isinstance(target, Target) else target
    if isinstance(targets, str | bytes) or not isinstance(targets, Sequence) or not targets:
        raise BenchworkError(f"grid needs a Target or a non-empty list of Targets, got {target!r}")
    bad = [t for t in targets if not isinstance(t, Target)]
    if bad:
        raise BenchworkError(
            f"grid targets must be benchwork Targets; got {', '.join(repr(b) for b in bad)}"
        )
    names = [str(t.name) for t in targets]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise BenchworkError(
            f"two grid targets share the name {', '.join(map(repr, dupes))}: give each "
            "Target its own name= so their settings can be told apart"
        )
    return list(targets)


def _check_all(targets: Sequence[Target], names: Sequence[str]) -> None:
    """Every parameter against every target's provider; one error listing every refusal."""
    problems = []
    for t in targets:
        try:
            check_params(t, names)
        except BenchworkError as e:
            problems.append(str(e))
    if problems:
        raise BenchworkError(
            "unsupported parameter(s), nothing was sent:\n  " + "\n  ".join(problems)
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
    target: Target | Sequence[Target],
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
    """Try every setting of *space* (or ``n`` seeded random ones) on each target; see module doc.

    *target* is one ``Target`` or a list of them (distinct names): every setting runs on
    every target, all in one run. Raises before any call when a parameter is not supported by
    a target's provider (naming each target and parameter), or when the estimated cost of all
    targets exceeds ``max_cost_usd`` (an unknown price cannot be checked against a budget).
    """
    from benchwork.analysis import leaderboard, score_columns
    from benchwork.runner import coerce_suite, run

    the_suite = coerce_suite(suite)
    targets = _targets(target)
    settings = _settings(space, search, n, seed)
    _check_all(targets, list(space))
    cells = [(t, s) for t in targets for s in settings]
    variants = [
        replace(t, name=f"{t.name} [{_label(s)}]", params={**t.params, **s}) for t, s in cells
    ]
    keys = pl.DataFrame(
        [
            {"target": t.name, **{k: str(s[k]) for k in space}, "setting": _label(s),
             "variant": v.name}
            for (t, s), v in zip(cells, variants, strict=True)
        ],
        schema={"target": pl.String, **{k: pl.String for k in space}, "setting": pl.String,
                "variant": pl.String},
    )  # fmt: skip
    estimate = estimate_cost(the_suite, variants, repeats=repeats).rename({"target": "variant"})
    estimate = keys.select("target", "setting", "variant").join(estimate, on="variant", how="left")
    total = estimate["cost_usd"]
    if max_cost_usd is not None:
        unknown = estimate.filter(pl.col("cost_usd").is_null())["target"].unique(
            maintain_order=True
        )
        if unknown.len():
            models = {str(t.name): t.model for t in targets}
            named = ", ".join(f"{n!r} ({models[n]!r})" for n in unknown)
            raise BenchworkError(
                f"max_cost_usd is set but {named} has no known price: set input_per_mtok "
                "and output_per_mtok on the target, or drop the budget"
            )
        if float(total.sum()) > max_cost_usd:
            raise BenchworkError(
                f"estimated cost ${float(total.sum()):.4f} for {len(settings)} settings x "
                f"{len(targets)} target(s) exceeds max_cost_usd ${max_cost_usd:.4f}; narrow the "
                "grid, drop a target or use search='random'"
            )
    result = await run(
        the_suite, variants, repeats=repeats, cache_dir=cache_dir, home=home, progress=False
    )
    board = leaderboard(result).rename({"target": "variant"})
    frame = keys.join(board, on="variant", how="left", maintain_order="left")
    scores = score_columns(result.results)
    return GridResult(
        frame=frame,
        estimate=estimate,
        run=result,
        params=list(space),
        score=scores[0] if scores else None,
        targets=[str(t.name) for t in targets],
    )


def grid_sync(
    suite: Suite | str | Path,
    target: Target | Sequence[Target],
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
