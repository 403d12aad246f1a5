"""Per-target summary of a results frame: calls, errors, speed percentiles, tokens, cost, score.

Speed figures use live calls by default (cache hits replay old timings); the ``speed_from``
column says which calls they came from. Every score carries its interval and the rows behind
it, so a mean is never quietly taken over fewer rows than the calls: ``score_<name>_mean``,
``_lo``, ``_hi`` (Wilson / CLT / cluster-robust by case with repeats, 95 %; see
``_scores``), ``_n`` (scored rows), ``_unscored`` (rows with no score: failed calls, or a scorer
that gave none) and ``_method``. The p50s of TTFT, latency and tok/s carry exact
percentile-bootstrap bounds (``ttft_p50_lo_s``, ``ttft_p50_hi_s``, ...; see ``_intervals``).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import polars as pl

from benchwork.analysis._intervals import quantile_ci
from benchwork.analysis._scores import score_stats
from benchwork.results import (
    cost_total_expr,
    score_column,
    score_names,
    score_value_columns,
    totals_exprs,
)

__all__ = ["summarize"]


def _judged(cost_col: str) -> pl.Expr:
    """Rows where the judge ran: it gave a score or reported a cost (an unscored failed call
    was never judged, so its null judge cost is not an unknown price)."""
    return pl.col(cost_col[: -len("_cost_usd")]).is_not_null() | pl.col(cost_col).is_not_null()


_SPEED_CI = (("ttft_s", 0.5, "ttft_p50"), ("latency_s", 0.5, "latency_p50"))
_SPEED_CI += (("output_tps", 0.5, "output_tps_p50"),)


def _speed_bounds(src: pl.DataFrame, confidence: float = 0.95) -> list[pl.Expr]:
    """Exact percentile-bootstrap bounds of the p50s shown in tables (as the leaderboard's)."""
    out = []
    for col, q, stem in _SPEED_CI:
        x = src.get_column(col).drop_nulls().drop_nans().sort().to_numpy().astype(float)
        _, lo, hi = quantile_ci(x, np.array([0]), np.array([x.size]), q, confidence)
        u = "_s" if col.endswith("_s") else ""
        for side, v in (("lo", lo[0]), ("hi", hi[0])):
            out.append(
                pl.lit(None if np.isnan(v) else float(v), pl.Float64).alias(f"{stem}_{side}{u}")
            )
    return out


def summarize(results: pl.DataFrame, *, speed: Literal["live", "all"] = "live") -> pl.DataFrame:
    """One row per target, sorted by mean score (desc) then median latency."""
    measured = results.filter(~pl.col("warmup"))
    score_cols = score_value_columns(measured.columns)
    # an LLM judge's own cost (score_<name>_cost_usd): summed apart from the candidate's cost
    judge_cost_cols = [
        c for n in score_names(measured.columns) if (c := score_column(n, "cost_usd")) in measured
    ]
    if measured.is_empty():
        return pl.DataFrame(schema={"target": pl.String, "calls": pl.UInt32})
    ok = pl.col("status") == "ok"
    live_ok = ok & ~pl.col("cached")
    base = measured.group_by("target", maintain_order=True).agg(
        *totals_exprs(),
        live_ok.sum().alias("live_ok"),
        *[cost_total_expr(pl.col(c).filter(_judged(c))).alias(c) for c in judge_cost_cols],
    )
    # speed stats over live ok calls, or over all ok calls when a target has none live
    frames = []
    for (target,), group in measured.group_by("target", maintain_order=True):
        live = group.filter(live_ok)
        use_all = speed == "all" or live.is_empty()
        src = group.filter(ok) if use_all else live
        label = (
            "live" if not use_all else ("all" if speed == "all" else "cached (original timings)")
        )
        if src.is_empty():
            label = "none"
        frames.append(
            src.select(
                pl.lit(target).alias("target"),
                pl.col("ttft_s").quantile(0.5, "linear").alias("ttft_p50_s"),
                pl.col("ttft_s").quantile(0.95, "linear").alias("ttft_p95_s"),
                pl.col("latency_s").quantile(0.5, "linear").alias("latency_p50_s"),
                pl.col("latency_s").quantile(0.95, "linear").alias("latency_p95_s"),
                pl.col("output_tps").quantile(0.5, "linear").alias("output_tps_p50"),
            ).with_columns(pl.lit(label).alias("speed_from"), *_speed_bounds(src))
        )
    speed_df = pl.concat(frames, how="vertical_relaxed")
    out = base.join(speed_df, on="target", how="left").drop("live_ok")
    if score_cols:
        out = out.join(score_stats(measured, ["target"], score_cols), on="target", how="left")
    order = [
        "target",
        "calls",
        "errors",
        "error_rate",
        "cached",
        "ttft_p50_s",
        "ttft_p50_lo_s",
        "ttft_p50_hi_s",
        "ttft_p95_s",
        "latency_p50_s",
        "latency_p50_lo_s",
        "latency_p50_hi_s",
        "latency_p95_s",
        "output_tps_p50",
        "output_tps_p50_lo",
        "output_tps_p50_hi",
        "input_tokens",
        "output_tokens",
        "cost_usd",
        *judge_cost_cols,
        *[f"{c}_{s}" for c in score_cols for s in ("mean", "lo", "hi", "n", "unscored", "method")],
        "speed_from",
    ]
    out = out.select(order)
    sort_cols, desc = ["latency_p50_s"], [False]
    if score_cols:
        sort_cols, desc = [f"{score_cols[0]}_mean", "latency_p50_s"], [True, False]
    return out.sort(sort_cols, descending=desc, nulls_last=True)
