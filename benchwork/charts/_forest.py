"""``forest``: paired differences, one row per pair of targets (or per target between runs).

Points are ``compare_targets``' (or ``compare_runs``') mean paired difference, lines their
interval; filled marks are significant after Holm's adjustment.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import polars as pl

from benchwork import analysis
from benchwork.analysis import Results
from benchwork.charts._data import AnyChart, results_of, score_columns
from benchwork.errors import BenchworkError

__all__ = ["forest", "forest_data"]


_KEYS = ("target", "case_id", "repeat", "warmup", "cached", "status")


def _needed(frame: pl.DataFrame, metric: str | None, compare: dict[str, Any]) -> pl.DataFrame:
    """The columns ``compare_targets`` reads (fewer columns: half the time on a big run)."""
    by = compare.get("by")
    extra = [by] if isinstance(by, str) else list(by or [])
    extra += [compare["cluster"]] if compare.get("cluster") else []
    if metric is None:
        scores = score_columns(frame)
        wanted = scores[:1] if scores else list(frame.columns)
    else:
        name = metric if metric in frame.columns else f"score_{metric}"
        wanted = [name, f"score_{metric}"]
    keep = [c for c in dict.fromkeys([*_KEYS, *extra, *wanted]) if c in frame.columns]
    return frame.select(keep)


def forest_data(data: Results, metric: str | None = None, **compare: Any) -> pl.DataFrame:
    """Rows ``pair, metric, diff, diff_lo, diff_hi, p_holm, significant, verdict``.

    ``data``: a Run/results (``analysis.compare_targets(data, metric, **compare)`` is
    computed) or a frame ``compare_targets`` or ``compare_runs`` returned.
    """
    frame = results_of(data) if not isinstance(data, pl.DataFrame) else data
    if "diff" not in frame.columns:
        frame = analysis.compare_targets(_needed(frame, metric, compare), metric, **compare)
    if frame.is_empty() or "diff" not in frame.columns:
        raise BenchworkError("nothing to draw: no pair of targets to compare (need two targets)")
    if "target_a" in frame.columns:
        pair = pl.concat_str(pl.col("target_a"), pl.lit(" − "), pl.col("target_b"))
    else:  # compare_runs: candidate − baseline per target
        pair = pl.concat_str(pl.col("target"), pl.lit(": candidate − baseline"))
    out = frame.select(
        pair.alias("pair"),
        pl.col("metric"),
        "diff",
        "diff_lo",
        "diff_hi",
        "p_holm",
        (
            pl.col("significant")
            if "significant" in frame.columns
            else pl.col("p_holm") < compare.get("alpha", 0.05)
        )
        .fill_null(False)
        .alias("significant"),
        "verdict",
    )
    if metric is not None and out["metric"].n_unique() > 1:
        want = metric if metric in out["metric"] else f"score_{metric}"
        out = out.filter(pl.col("metric") == want)
    return out.filter(pl.col("diff").is_not_null())


def _unit(metric: str) -> str:
    if metric.startswith("score_"):
        return "score, 0–1"
    if metric.endswith("_usd"):
        return "USD"
    if metric.endswith("_s"):
        return "s"
    if metric.endswith("_tps"):
        return "tok/s"
    return "its unit"


def forest(
    data: Results, metric: str | None = None, *, title: str | None = None, **compare: Any
) -> AnyChart:
    """A forest plot: each pair's paired difference and interval, zero marked.

    Filled points: significant after Holm's adjustment; hollow: not told apart.
    ``compare`` goes to ``analysis.compare_targets`` (``alpha``, ``baseline``, ``test`` ...).
    """
    rows = forest_data(data, metric, **compare)
    y = alt.Y("pair:N", title=None, sort=None)
    metrics = rows["metric"].unique(maintain_order=True).to_list()
    if len(metrics) == 1:
        x_title = f"paired difference in {metrics[0]} ({_unit(metrics[0])}), first − second"
    else:
        x_title = "paired difference, first − second (unit: the panel's metric)"
    x = alt.X("diff:Q", title=x_title)
    base = alt.Chart().encode(y=y)
    tip = [
        "pair:N",
        "metric:N",
        alt.Tooltip("diff:Q", format=".3g"),
        alt.Tooltip("diff_lo:Q", format=".3g"),
        alt.Tooltip("diff_hi:Q", format=".3g"),
        alt.Tooltip("p_holm:Q", format=".3g"),
        "verdict:N",
    ]
    sig = alt.Color(
        "significant:N",
        title="Holm-significant",
        scale=alt.Scale(domain=[True, False], range=["#D55E00", "#777777"]),
    )
    layer = alt.layer(
        alt.Chart().mark_rule(color="#999", strokeDash=[3, 3]).encode(x=alt.datum(0)),
        base.mark_rule(strokeWidth=2).encode(x="diff_lo:Q", x2="diff_hi:Q", color=sig),
        base.mark_point(size=90, strokeWidth=2, opacity=1).encode(
            x=x,
            color=sig,
            fill=alt.condition("datum.significant", alt.value("#D55E00"), alt.value("white")),
            tooltip=tip,
        ),
        data=rows,
    )
    head = alt.TitleParams(
        title or "Paired differences",
        subtitle="interval per pair; filled: significant after Holm's adjustment",
    )
    if rows["metric"].n_unique() > 1:
        return layer.facet(row=alt.Row("metric:N", title=None), title=head).resolve_scale(
            x="independent", y="independent"
        )
    return layer.properties(title=head, height=alt.Step(30))
