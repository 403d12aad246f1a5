"""``ecdf``: the whole speed distribution per target as a cumulative curve, p50/p95 marked.

The curve is 101 quantiles per target (computed in Polars, so a million calls draw as a few
hundred points); the p50 and p95 points and their intervals are ``analysis.leaderboard``'s.
"""

from __future__ import annotations

import altair as alt
import polars as pl

from benchwork.analysis import Results
from benchwork.charts._data import AnyChart, results_of, speed_rows, targets_of
from benchwork.charts._speed import SPEED_METRICS, metric_name, speed_board, speed_data
from benchwork.charts._theme import color
from benchwork.errors import BenchworkError

__all__ = ["ecdf", "ecdf_data"]


def ecdf_data(data: Results, metric: str = "ttft_s", *, points: int = 101) -> pl.DataFrame:
    """Per target: ``share`` (0..1) and ``value`` (display units) at ``points`` quantiles."""
    name = metric_name(metric)
    k = SPEED_METRICS[name][3]
    rows = speed_rows(results_of(data))
    x = pl.col(name).filter(pl.col(name).is_not_null() & pl.col(name).is_finite())
    shares = [i / (points - 1) for i in range(points)]
    curve = rows.group_by("target").agg(
        [x.quantile(q, "linear").alias(f"q{i}") for i, q in enumerate(shares)]
    )
    long = curve.unpivot(index="target", variable_name="q", value_name="value")
    index = pl.col("q").str.slice(1).cast(pl.Int64)
    return (
        long.with_columns((index / (points - 1)).alias("share"), pl.col("value") * k)
        .drop("q")
        .filter(pl.col("value").is_not_null())
        .sort("target", "share")
    )


def ecdf(data: Results, metric: str = "ttft_s", *, title: str | None = None) -> AnyChart:
    """Cumulative share of calls (y) under each value (x), one line per target.

    Dots mark p50 and p95 with their bootstrap intervals as horizontal bars.
    """
    name = metric_name(metric)
    frame = results_of(data)
    curve = ecdf_data(frame, name)
    if curve.is_empty():
        raise BenchworkError(f"nothing to draw: no live ok call has {name}")
    marks = speed_data(frame, name, board=speed_board(frame, [name]))
    pts = pl.concat(
        [
            marks.select(
                "target",
                pl.lit(label).alias("mark"),
                pl.lit(share).alias("share"),
                pl.col(label).alias("value"),
                pl.col(f"{label}_lo").alias("lo"),
                pl.col(f"{label}_hi").alias("hi"),
            )
            for label, share in (("p50", 0.5), ("p95", 0.95))
        ]
    )
    targets = targets_of(frame)
    x_title = SPEED_METRICS[name][2]
    x = alt.X("value:Q", title=x_title, scale=alt.Scale(zero=False))
    y = alt.Y("share:Q", title="share of calls at or below", axis=alt.Axis(format=".0%"))
    tip = [
        "target:N",
        "mark:N",
        alt.Tooltip("value:Q", format=".4g"),
        alt.Tooltip("lo:Q", format=".4g"),
        alt.Tooltip("hi:Q", format=".4g"),
    ]
    line = (
        alt.Chart(curve)
        .mark_line(interpolate="step-after")
        .encode(x=x, y=y, color=color(targets), tooltip=["target:N", "share:Q", "value:Q"])
    )
    ci = (
        alt.Chart(pts)
        .mark_rule(strokeWidth=3)
        .encode(x="lo:Q", x2="hi:Q", y="share:Q", color=color(targets, legend=False))
    )
    dots = (
        alt.Chart(pts)
        .mark_point(filled=True, size=60, opacity=1)
        .encode(
            x="value:Q",
            y="share:Q",
            color=color(targets, legend=False),
            shape=alt.Shape(
                "mark:N", scale=alt.Scale(domain=["p50", "p95"], range=["circle", "diamond"])
            ),
            tooltip=tip,
        )
    )
    return alt.layer(line, ci, dots).properties(
        title=alt.TitleParams(
            title or f"Distribution of {x_title}",
            subtitle="cumulative share of live calls; dots: p50 and p95, bars: 95% intervals",
        )
    )
