"""``leaderboard``: each target's mean score as a bar, with the analysis interval as whiskers.

Every score of the run gets its own panel, so targets scored by a second suite never vanish.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import polars as pl

from benchwork import analysis
from benchwork.analysis import Results
from benchwork.charts._data import (
    SCORE_KEYS,
    AnyChart,
    is_rate,
    measured,
    results_of,
    score_columns,
)
from benchwork.charts._theme import color
from benchwork.errors import BenchworkError

__all__ = ["leaderboard", "leaderboard_data"]


def _is_leaderboard(frame: pl.DataFrame) -> bool:
    return "case_id" not in frame.columns and any(c.endswith("_mean") for c in frame.columns)


def leaderboard_data(
    data: Results, score: str | Sequence[str] | None = None, *, confidence: float = 0.95
) -> pl.DataFrame:
    """Long frame ``score, target, mean, lo, hi, n, rank, method`` drawn by ``leaderboard``.

    ``data``: a Run, results frame or list of them (the analysis leaderboard is computed on
    the columns score intervals need), or a frame ``analysis.leaderboard`` returned.
    ``score``: one score name, several, or None for every score.
    """
    frame = results_of(data)
    if _is_leaderboard(frame):
        lb = frame
        names = [c.removesuffix("_mean") for c in lb.columns if c.endswith("_mean")]
    else:
        frame = measured(frame)
        names = score_columns(frame)
        keys = [c for c in SCORE_KEYS if c in frame.columns]
        lb = analysis.leaderboard(frame.select(*keys, *names), confidence=confidence)
    if score is not None:
        wanted = [score] if isinstance(score, str) else list(score)
        wanted = [w if w.startswith("score_") else f"score_{w}" for w in wanted]
        missing = [w for w in wanted if w not in names]
        if missing:
            raise BenchworkError(f"no score {missing}; scores: {names}")
        names = wanted
    parts = [
        lb.select(
            pl.lit(name.removeprefix("score_")).alias("score"),
            pl.col("target"),
            pl.col(f"{name}_mean").alias("mean"),
            pl.col(f"{name}_lo").alias("lo"),
            pl.col(f"{name}_hi").alias("hi"),
            pl.col(f"{name}_n").alias("n") if f"{name}_n" in lb.columns else pl.lit(None),
            pl.col("rank") if "rank" in lb.columns else pl.lit(None).alias("rank"),
            pl.col(f"{name}_method").alias("method")
            if f"{name}_method" in lb.columns
            else pl.lit(None, pl.String).alias("method"),
        ).filter(pl.col("mean").is_not_null())
        for name in names
    ]
    return pl.concat(parts, how="vertical_relaxed") if parts else pl.DataFrame()


def leaderboard(
    data: Results,
    score: str | Sequence[str] | None = None,
    *,
    confidence: float = 0.95,
    title: str | None = None,
) -> AnyChart:
    """Bars of each target's mean score, whiskers at the analysis leaderboard's interval.

    ``score``: ``"exact"``, a list, or None for one panel per score. Scores within [0, 1]
    are shown as percentages. Whiskers are ``analysis.leaderboard``'s ``_lo``/``_hi``
    (Wilson, CLT or cluster-robust by case) at ``confidence``.
    """
    rows = leaderboard_data(data, score, confidence=confidence)
    if rows.is_empty():
        raise BenchworkError("nothing to draw: no target has a score")
    targets = sorted(rows["target"].unique().to_list())
    pct = is_rate(pl.concat([rows["lo"], rows["hi"]]))
    fmt = ".0%" if pct else ".3g"
    passed = pct and bool((rows["method"] == "wilson").all())  # 0/1 scores: a pass rate
    what = "cases passed (%)" if passed else "mean score" + (" (0–1, as %)" if pct else "")
    x_title = f"{what}, {confidence:.0%} interval"
    tooltip = [
        alt.Tooltip("target:N"),
        alt.Tooltip("score:N"),
        alt.Tooltip("mean:Q", format=".3g" if not pct else ".1%"),
        alt.Tooltip("lo:Q", format=".3g" if not pct else ".1%"),
        alt.Tooltip("hi:Q", format=".3g" if not pct else ".1%"),
        alt.Tooltip("n:Q"),
        alt.Tooltip("rank:N"),
    ]
    y = alt.Y("target:N", sort=alt.EncodingSortField("mean", order="descending"), title=None)
    base = alt.Chart().encode(y=y)
    bars = base.mark_bar(height={"band": 0.6}).encode(
        x=alt.X(
            "mean:Q",
            title=x_title,
            axis=alt.Axis(format=fmt),
            scale=alt.Scale(domain=[0, 1]) if pct else alt.Undefined,
        ),
        color=color(targets),
        tooltip=tooltip,
    )
    whiskers = base.mark_rule(strokeWidth=1.5, color="#222").encode(x="lo:Q", x2="hi:Q")
    caps_lo = base.mark_tick(thickness=1.5, size=10, color="#222").encode(x="lo:Q")
    caps_hi = base.mark_tick(thickness=1.5, size=10, color="#222").encode(x="hi:Q")
    layer = alt.layer(bars, whiskers, caps_lo, caps_hi, data=rows)
    text = title or "Leaderboard"
    subtitle = f"bars: mean; whiskers: {confidence:.0%} interval (benchwork.analysis.leaderboard)"
    head = alt.TitleParams(text, subtitle=subtitle)
    if rows["score"].n_unique() > 1:
        return layer.facet(row=alt.Row("score:N", title=None), title=head).resolve_scale(
            y="independent"
        )
    return layer.properties(title=head)
