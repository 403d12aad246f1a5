"""``cost_quality``: cost per call against mean score, error bars both ways, Pareto frontier.

A target is on the frontier when no other target is at least as cheap and at least as good,
and strictly better on one of the two; those targets are labelled.
"""

from __future__ import annotations

from statistics import NormalDist

import altair as alt
import polars as pl

from benchwork.analysis import Results
from benchwork.charts._data import AnyChart, measured, results_of, score_column
from benchwork.charts._leaderboard import leaderboard_data
from benchwork.charts._theme import color
from benchwork.errors import BenchworkError

__all__ = ["cost_quality", "cost_quality_data", "pareto"]


def pareto(cost: list[float], quality: list[float]) -> list[bool]:
    """True where no other point is at least as cheap and as good and better on one."""
    out = []
    for i, (c, q) in enumerate(zip(cost, quality, strict=True)):
        dominated = any(
            c2 <= c and q2 >= q and (c2 < c or q2 > q)
            for j, (c2, q2) in enumerate(zip(cost, quality, strict=True))
            if j != i
        )
        out.append(not dominated)
    return out


def cost_quality_data(
    data: Results, score: str | None = None, *, confidence: float = 0.95
) -> pl.DataFrame:
    """Per target: cost per call (mean, CLT interval), score mean and interval, ``pareto``.

    Targets whose cost is unknown for any call are left out (a partial cost would flatter them).
    """
    frame = measured(results_of(data))
    name = score_column(frame, score)
    quality = leaderboard_data(frame, name, confidence=confidence)
    z = _z(confidence)
    ok = frame.filter(pl.col("status") == "ok") if "status" in frame.columns else frame
    cost = ok.group_by("target").agg(
        pl.col("cost_usd").mean().alias("cost"),
        (z * pl.col("cost_usd").std() / pl.col("cost_usd").count().sqrt()).alias("half"),
        pl.col("cost_usd").null_count().alias("cost_unknown"),
    )
    rows = (
        quality.join(cost, on="target", how="left")
        .filter(pl.col("cost").is_not_null() & (pl.col("cost_unknown") == 0))
        .with_columns(
            (pl.col("cost") - pl.col("half").fill_null(0)).clip(lower_bound=0).alias("cost_lo"),
            (pl.col("cost") + pl.col("half").fill_null(0)).alias("cost_hi"),
        )
        .drop("half", "cost_unknown")
        .sort("cost")
    )
    front = pareto(rows["cost"].to_list(), rows["mean"].to_list())
    return rows.with_columns(pl.Series("pareto", front, dtype=pl.Boolean))


def _z(confidence: float) -> float:
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def cost_quality(
    data: Results,
    score: str | None = None,
    *,
    confidence: float = 0.95,
    log_cost: bool | None = None,
    title: str | None = None,
) -> AnyChart:
    """Cost per call (x) against mean score (y), both with intervals; frontier drawn.

    The frontier is a step line through the non-dominated targets, which are labelled.
    ``log_cost``: a log x axis (default: when costs span more than 20x).
    """
    rows = cost_quality_data(data, score, confidence=confidence)
    if rows.is_empty():
        raise BenchworkError("nothing to draw: no target has both a known cost and a score")
    all_targets = results_of(data).get_column("target").unique().to_list()
    left_out = sorted(set(map(str, all_targets)) - set(rows["target"].to_list()))
    if log_cost is None:
        costs = [float(c) for c in rows["cost"].to_list()]
        log_cost = min(costs) > 0 and max(costs) / min(costs) > 20
    pct = bool(((rows["lo"] >= 0) & (rows["hi"] <= 1)).all())
    scale = alt.Scale(type="log") if log_cost else alt.Scale(zero=False)
    x = alt.X("cost:Q", title="cost per call (USD)", scale=scale, axis=alt.Axis(format="$.2~g"))
    y = alt.Y(
        "mean:Q",
        title=f"{rows['score'][0]}: "
        + ("cases passed (%)" if pct and (rows["method"] == "wilson").all() else "mean score"),
        scale=alt.Scale(zero=False),
        axis=alt.Axis(format=".1~%" if pct else ".3g"),
    )
    base = alt.Chart(rows).encode(x=x, y=y)
    targets = sorted(rows["target"].to_list())
    tip = [
        "target:N",
        alt.Tooltip("cost:Q", format="$.3g"),
        alt.Tooltip("cost_lo:Q", format="$.3g"),
        alt.Tooltip("cost_hi:Q", format="$.3g"),
        alt.Tooltip("mean:Q", format=".3g"),
        alt.Tooltip("lo:Q", format=".3g"),
        alt.Tooltip("hi:Q", format=".3g"),
        "n:Q",
        "pareto:N",
    ]
    frontier = (
        alt.Chart(rows.filter(pl.col("pareto")))
        .mark_line(interpolate="step-after", color="#444", strokeDash=[4, 3])
        .encode(x=x, y=y, order="cost:Q")
    )
    ybars = base.mark_rule(color="#666").encode(y="lo:Q", y2="hi:Q")
    xbars = base.mark_rule(color="#666").encode(x="cost_lo:Q", x2="cost_hi:Q")
    points = base.mark_point(filled=True, size=90, opacity=1).encode(
        color=color(targets),
        shape=alt.Shape(
            "pareto:N",
            scale=alt.Scale(domain=[True, False], range=["circle", "triangle-down"]),
            legend=alt.Legend(title="on the frontier"),
        ),
        tooltip=tip,
    )
    labels = (
        base.transform_filter("datum.pareto")
        .mark_text(align="left", dx=8, dy=-8, fontSize=11)
        .encode(text="target:N")
    )
    subtitle = [f"whiskers: {confidence:.0%} intervals; dashed: Pareto frontier (labelled)"]
    if left_out:
        subtitle.append("not drawn (cost unknown or no scored call): " + ", ".join(left_out))
    return alt.layer(frontier, ybars, xbars, points, labels).properties(
        title=alt.TitleParams(title or "Cost vs quality", subtitle=subtitle)
    )
