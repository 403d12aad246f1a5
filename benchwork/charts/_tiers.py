"""``tiers``: how TTFT and prefill rate change with prompt size (``client.context_tiers`` rows).

Per target and tier: TTFT p50 with its interval and prefill tok/s p50 with its interval, both
from ``analysis.leaderboard(rows, by="tier")`` (exact bootstrap of the median), against the
prompt's input tokens on a log axis.
"""

from __future__ import annotations

import altair as alt
import polars as pl

from benchwork.charts._data import AnyChart
from benchwork.charts._theme import color

__all__ = ["tiers", "tiers_data"]


def tiers_data(rows: pl.DataFrame, *, confidence: float = 0.95) -> pl.DataFrame:
    """One row per target and tier: input tokens, TTFT p50 [lo, hi], prefill tok/s p50 [lo, hi]."""
    from benchwork.analysis import leaderboard

    ok = rows.filter(pl.col("status") == "ok")
    if ok.is_empty():
        return pl.DataFrame(schema={"target": pl.String, "tier": pl.Int64})
    board = leaderboard(ok, by="tier", confidence=confidence)
    tokens = ok.group_by("target", "tier").agg(
        pl.col("input_tokens").median().alias("input_tokens")
    )
    prefill = ok.group_by("target", "tier").agg(
        pl.col("prefill_tps").median().alias("prefill_tps_p50"),
        pl.col("prefill_tps").quantile(0.25).alias("prefill_tps_q1"),
        pl.col("prefill_tps").quantile(0.75).alias("prefill_tps_q3"),
    )
    keep = ["target", "tier", "ttft_p50_s", "ttft_p50_lo_s", "ttft_p50_hi_s", "speed_n"]
    return (
        board.select([c for c in keep if c in board.columns])
        .join(tokens, on=["target", "tier"], how="left")
        .join(prefill, on=["target", "tier"], how="left")
        .sort("target", "tier")
    )


def tiers(rows: pl.DataFrame, *, confidence: float = 0.95, title: str | None = None) -> AnyChart:
    """TTFT p50 (whiskers: its interval) and prefill tok/s p50 (whiskers: quartiles) per tier."""
    from benchwork.errors import BenchworkError

    data = tiers_data(rows, confidence=confidence)
    if data.is_empty():
        raise BenchworkError("nothing to draw: no tier has an ok call")
    targets = data["target"].unique(maintain_order=True).to_list()
    x = alt.X("input_tokens:Q", title="prompt size (input tokens)", scale=alt.Scale(type="log"))
    base = alt.Chart(data).encode(x=x, color=color(targets))
    tip = ["target:N", "tier:Q", "input_tokens:Q",
           alt.Tooltip("ttft_p50_s:Q", format=".3f"), alt.Tooltip("prefill_tps_p50:Q", format=".1f")]  # fmt: skip
    ttft = alt.layer(
        base.mark_line(point=True).encode(
            y=alt.Y("ttft_p50_s:Q", title="TTFT p50 (s)"), tooltip=tip
        ),
        base.mark_rule().encode(y="ttft_p50_lo_s:Q", y2="ttft_p50_hi_s:Q"),
    ).properties(title="Time to first token", width=320, height=220)
    prefill = alt.layer(
        base.mark_line(point=True).encode(
            y=alt.Y("prefill_tps_p50:Q", title="prefill rate (input tok/s)"), tooltip=tip
        ),
        base.mark_rule().encode(y="prefill_tps_q1:Q", y2="prefill_tps_q3:Q"),
    ).properties(title="Prefill rate", width=320, height=220)
    level = f"{confidence:.0%}"
    return alt.hconcat(ttft, prefill).properties(
        title=alt.TitleParams(
            title or "Context tiers",
            subtitle=f"TTFT whiskers: {level} interval of the median; prefill whiskers: quartiles",
        )
    )
