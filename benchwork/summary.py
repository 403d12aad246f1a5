"""Per-target summary of a results frame: calls, errors, speed percentiles, tokens, cost, score.

Speed figures use live calls by default (cache hits replay old timings); the ``speed_from``
column says which calls they came from.
"""

from __future__ import annotations

from typing import Literal

import polars as pl

__all__ = ["summarize"]


def summarize(results: pl.DataFrame, *, speed: Literal["live", "all"] = "live") -> pl.DataFrame:
    """One row per target, sorted by mean score (desc) then median latency."""
    measured = results.filter(~pl.col("warmup"))
    score_cols = [
        c
        for c in measured.columns
        if c.startswith("score_") and not c.endswith(("_explanation", "_cost_usd"))
    ]
    # an LLM judge's own cost (score_<name>_cost_usd): summed apart from the candidate's cost
    judge_cost_cols = [
        c for c in measured.columns if c.startswith("score_") and c.endswith("_cost_usd")
    ]
    if measured.is_empty():
        return pl.DataFrame(schema={"target": pl.String, "calls": pl.UInt32})
    ok = pl.col("status") == "ok"
    live_ok = ok & ~pl.col("cached")
    base = measured.group_by("target", maintain_order=True).agg(
        pl.len().alias("calls"),
        (~ok).sum().alias("errors"),
        (~ok).mean().alias("error_rate"),
        pl.col("cached").sum().alias("cached"),
        live_ok.sum().alias("live_ok"),
        pl.col("input_tokens").filter(ok).sum().alias("input_tokens"),
        pl.col("output_tokens").filter(ok).sum().alias("output_tokens"),
        pl.when(pl.col("cost_usd").filter(ok).null_count() == 0)
        .then(pl.col("cost_usd").filter(ok).sum())
        .otherwise(None)
        .alias("cost_usd"),
        *[pl.col(c).mean().alias(c.replace("score_", "score_") + "_mean") for c in score_cols],
        *[
            pl.when(pl.col(c).is_not_null().any()).then(pl.col(c).sum()).otherwise(None).alias(c)
            for c in judge_cost_cols
        ],
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
            ).with_columns(pl.lit(label).alias("speed_from"))
        )
    speed_df = pl.concat(frames, how="vertical_relaxed")
    out = base.join(speed_df, on="target", how="left").drop("live_ok")
    order = [
        "target",
        "calls",
        "errors",
        "error_rate",
        "cached",
        "ttft_p50_s",
        "ttft_p95_s",
        "latency_p50_s",
        "latency_p95_s",
        "output_tps_p50",
        "input_tokens",
        "output_tokens",
        "cost_usd",
        *judge_cost_cols,
        *[f"{c}_mean" for c in score_cols],
        "speed_from",
    ]
    out = out.select(order)
    sort_cols, desc = ["latency_p50_s"], [False]
    if score_cols:
        sort_cols, desc = [f"{score_cols[0]}_mean", "latency_p50_s"], [True, False]
    return out.sort(sort_cols, descending=desc, nulls_last=True)
