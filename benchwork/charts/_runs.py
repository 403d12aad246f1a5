"""``flips``: what changed between a baseline and a candidate run.

Left: per target, the cases that regressed (left of zero) and improved (right), from
``analysis.flips``. Right: ``analysis.compare_runs``' paired change per metric with its
interval (filled: significant after Holm's adjustment).
"""

from __future__ import annotations

from typing import Any

import altair as alt
import polars as pl

from benchwork import analysis
from benchwork.charts._data import AnyChart
from benchwork.charts._forest import forest
from benchwork.charts._theme import OKABE_ITO

__all__ = ["flips", "flips_data"]


def flips_data(baseline: Any, candidate: Any, score: str | None = None) -> pl.DataFrame:
    """Per target and change (``regression`` | ``improvement``): ``cases`` (signed: regressions
    negative) and ``case_ids`` (the first 20, for the tooltip)."""
    f = analysis.flips(baseline, candidate, score)
    counts = f.group_by("target", "change").agg(
        pl.len().cast(pl.Int64).alias("count"),
        pl.col("case_id").sort().head(20).str.join(", ").alias("case_ids"),
    )
    return counts.with_columns(
        pl.when(pl.col("change") == "regression")
        .then(-pl.col("count"))
        .otherwise(pl.col("count"))
        .alias("cases")
    ).sort("target", "change")


def flips(
    baseline: Any,
    candidate: Any,
    score: str | None = None,
    *,
    metrics: list[str] | None = None,
    title: str | None = None,
) -> AnyChart:
    """Flipped cases per target, next to each metric's paired change (candidate − baseline)."""
    rows = flips_data(baseline, candidate, score)
    changes = analysis.compare_runs(baseline, candidate, metrics=metrics)
    counts = (
        alt.Chart(rows)
        .mark_bar(height={"band": 0.6})
        .encode(
            y=alt.Y("target:N", title=None),
            x=alt.X("cases:Q", title="cases: ← regressed | improved →"),
            color=alt.Color(
                "change:N",
                scale=alt.Scale(
                    domain=["regression", "improvement"], range=[OKABE_ITO[3], OKABE_ITO[0]]
                ),
                title="change",
            ),
            tooltip=["target:N", "change:N", "count:Q", "case_ids:N"],
        )
        .properties(title="Flipped cases", height=alt.Step(30))
    )
    deltas = forest(changes, title="Paired change per metric")
    return (
        alt.hconcat(counts, deltas)
        .properties(
            title=alt.TitleParams(
                title or "Baseline vs candidate",
                subtitle=f"run match: {analysis.run_match(baseline, candidate)}",
            )
        )
        .resolve_scale(color="independent")
    )
