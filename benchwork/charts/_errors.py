"""``errors``: each target's error rate (Wilson interval) split by HTTP status.

The stacked segments are the share of calls that failed with each status (or error type
when there is no status, e.g. a timeout); they add up to ``analysis.leaderboard``'s
``error_rate``, whose interval is the whisker.
"""

from __future__ import annotations

import altair as alt
import polars as pl

from benchwork import analysis
from benchwork.analysis import Results
from benchwork.charts._data import AnyChart, measured, results_of, targets_of
from benchwork.charts._theme import OKABE_ITO

__all__ = ["errors", "errors_data"]


def errors_data(data: Results) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(per target ``error_rate, error_rate_lo, error_rate_hi, calls, errors``,
    per target and status ``status, count, rate``)."""
    frame = measured(results_of(data))
    keep = [c for c in ("target", "warmup", "cached", "status") if c in frame.columns]
    lb = analysis.leaderboard(frame.select(keep), sort=None).select(
        "target", "calls", "errors", "error_rate", "error_rate_lo", "error_rate_hi"
    )
    http = (
        pl.col("http_status").cast(pl.String)
        if "http_status" in frame.columns
        else pl.lit(None, pl.String)
    )
    kind = pl.col("error_type") if "error_type" in frame.columns else pl.lit(None, pl.String)
    label = pl.coalesce(
        pl.when(http.is_not_null() & (http != "200")).then(pl.lit("HTTP ") + http),
        kind,
        pl.lit("error"),
    )
    calls = frame.group_by("target").agg(pl.len().alias("_calls"))
    by_status = (
        frame.filter(pl.col("status") != "ok")
        .group_by("target", label.alias("status"))
        .agg(pl.len().alias("count"))
        .join(calls, on="target")
        .with_columns((pl.col("count") / pl.col("_calls")).alias("rate"))
        .drop("_calls")
        .sort("target", "status")
    )
    return lb.sort("target"), by_status


def errors(data: Results, *, title: str | None = None) -> AnyChart:
    """Bars: the share of calls that failed, by status; whiskers: the rate's 95 % interval."""
    totals, by_status = errors_data(data)
    failed = int(totals["errors"].sum())
    targets = targets_of(results_of(data))
    statuses = sorted(by_status["status"].unique().to_list())
    y = alt.Y("target:N", title=None, sort=targets)
    bars = (
        alt.Chart(by_status)
        .mark_bar(height={"band": 0.6})
        .encode(
            y=y,
            x=alt.X(
                "rate:Q",
                stack="zero",
                title="calls that failed (% of calls)",
                axis=alt.Axis(format=".1~%"),
            ),
            color=alt.Color(
                "status:N",
                title="status",
                scale=alt.Scale(domain=statuses, range=list(OKABE_ITO[: max(1, len(statuses))])),
            ),
            tooltip=["target:N", "status:N", "count:Q", alt.Tooltip("rate:Q", format=".1%")],
        )
    )
    base = alt.Chart(totals).encode(y=y)
    tip = [
        "target:N",
        "calls:Q",
        "errors:Q",
        alt.Tooltip("error_rate:Q", format=".1%"),
        alt.Tooltip("error_rate_lo:Q", format=".1%"),
        alt.Tooltip("error_rate_hi:Q", format=".1%"),
    ]
    whisker = base.mark_rule(color="#222", strokeWidth=1.5).encode(
        x="error_rate_lo:Q", x2="error_rate_hi:Q", tooltip=tip
    )
    total = base.mark_tick(color="#222", thickness=2, size=18).encode(x="error_rate:Q", tooltip=tip)
    return alt.layer(bars, whisker, total).properties(
        title=alt.TitleParams(
            title or "Errors by target and status",
            subtitle=(
                "bars: failed calls by status; tick: error rate; whisker: 95% Wilson interval"
                + ("" if failed else "; no call failed")
            ),
        ),
        height=alt.Step(30),
    )
