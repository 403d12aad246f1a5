"""``trends``: each run's figure over time, its interval as a band, regressions marked.

Values, intervals and flags are ``analysis.trends``' (a run is flagged when it leaves the
prediction interval of the runs before it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import polars as pl

from benchwork import analysis
from benchwork.charts._data import AnyChart, results_of, targets_of
from benchwork.charts._theme import OKABE_ITO, color

__all__ = ["trends"]


def trends(
    runs: Any,
    metrics: str | Sequence[str] | None = None,
    *,
    baseline_days: float = 30.0,
    title: str | None = None,
    **options: Any,
) -> AnyChart:
    """Line per target through its runs, band = interval, red cross = flagged regression.

    ``runs``: a list of Runs, their stacked results, or a frame ``analysis.trends`` returned.
    One panel per metric (independent y axes).
    """
    if isinstance(runs, pl.DataFrame) and "run_time" in runs.columns:
        rows = runs
    else:
        wanted = [metrics] if isinstance(metrics, str) else metrics
        rows = analysis.trends(runs, wanted, baseline_days=baseline_days, **options)
    targets = sorted(rows["target"].unique().to_list())
    if not isinstance(runs, pl.DataFrame) or "run_time" not in runs.columns:
        targets = targets_of(results_of(runs))
    epoch_us = rows["run_time"].drop_nulls().dt.epoch("us")
    span_s = (float(epoch_us.max()) - float(epoch_us.min())) / 1e6 if epoch_us.len() else 0.0  # type: ignore[arg-type]
    short = span_s < 86_400  # runs within a day: show clock times
    x = alt.X(
        "run_time:T",
        title="run started (UTC)",
        axis=alt.Axis(format="%H:%M:%S", labelAngle=-30) if short else alt.Axis(labelAngle=-30),
    )
    y = alt.Y("value:Q", title="value (interval band)", scale=alt.Scale(zero=False))
    tip = [
        "target:N",
        "run_id:N",
        alt.Tooltip("run_time:T", format="%Y-%m-%d %H:%M"),
        alt.Tooltip("value:Q", format=".4g"),
        alt.Tooltip("lo:Q", format=".4g"),
        alt.Tooltip("hi:Q", format=".4g"),
        alt.Tooltip("baseline:Q", format=".4g"),
        "baseline_runs:Q",
        alt.Tooltip("p_value:Q", format=".3g"),
        "flag:N",
    ]
    c = color(targets)
    base = alt.Chart().encode(x=x)
    layer = alt.layer(
        base.mark_line(point=True).encode(y=y, color=c, tooltip=tip),
        base.mark_area(opacity=0.18).encode(y="lo:Q", y2="hi:Q", color=c),
        base.transform_filter("datum.flag === 'regression'")
        .mark_point(shape="cross", size=220, filled=True, color=OKABE_ITO[3])
        .encode(y="value:Q", tooltip=tip),
        data=rows,
    )
    head = alt.TitleParams(
        title or "Trends",
        subtitle=f"band: interval; red cross: regression vs the prior {baseline_days:g} days",
    )
    if rows["metric"].n_unique() > 1:
        return layer.facet(row=alt.Row("metric:N", title=None), title=head).resolve_scale(
            y="independent"
        )
    return layer.properties(title=head)
