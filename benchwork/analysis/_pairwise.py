"""Pairwise judge results (``bw.compare``): the frame's schema and a one-row summary.

Rates carry Wilson intervals (``_lo``/``_hi``, 95 % by default) over the judged pairs.
"""

from __future__ import annotations

import polars as pl

from benchwork.analysis._intervals import wilson
from benchwork.results import total_cost

__all__ = ["PAIRWISE_SCHEMA", "pairwise_summary"]

PAIRWISE_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.String(),
    "repeat": pl.Int64(),
    "winner": pl.String(),  # "a" | "b" | "tie"; null when not judged
    "winner_a_first": pl.String(),  # the verdict with A's output shown first
    "winner_b_first": pl.String(),  # the verdict with B's output shown first
    "position_bias": pl.Boolean(),  # the two orders disagree
    "reasoning_a_first": pl.String(),
    "reasoning_b_first": pl.String(),
    "judge": pl.String(),
    "judge_cost_usd": pl.Float64(),
    "judge_calls": pl.Int64(),
    "error": pl.String(),
}


def pairwise_summary(frame: pl.DataFrame, *, confidence: float = 0.95) -> pl.DataFrame:
    """One row: pairs, judged, wins, ties, win rates, ``position_bias_rate`` (the share of
    judged pairs whose two orders disagreed), errors and the judge's total cost; then a Wilson
    interval for each rate (``win_rate_a_lo``, ``win_rate_a_hi``, ...)."""
    judged = frame.filter(pl.col("winner").is_not_null())
    n = judged.height

    def rate(count: int) -> float | None:
        return count / n if n else None

    a = judged.filter(pl.col("winner") == "a").height
    b = judged.filter(pl.col("winner") == "b").height
    ties = judged.filter(pl.col("winner") == "tie").height
    biased = judged.filter(pl.col("position_bias")).height
    costs = frame["judge_cost_usd"]
    return pl.DataFrame(
        {
            "pairs": [frame.height],
            "judged": [n],
            "a_wins": [a],
            "b_wins": [b],
            "ties": [ties],
            "win_rate_a": [rate(a)],
            "win_rate_b": [rate(b)],
            "tie_rate": [rate(ties)],
            "position_bias_rate": [rate(biased)],
            "errors": [frame.height - n],
            "judge_cost_usd": [total_cost(costs)],
        },
        schema_overrides={
            "win_rate_a": pl.Float64,
            "win_rate_b": pl.Float64,
            "tie_rate": pl.Float64,
            "position_bias_rate": pl.Float64,
            "judge_cost_usd": pl.Float64,
        },
    ).with_columns(
        pl.Series(f"{name}_{side}", [bound], dtype=pl.Float64)
        for name, k in (
            ("win_rate_a", a),
            ("win_rate_b", b),
            ("tie_rate", ties),
            ("position_bias_rate", biased),
        )
        for side, bound in zip(("lo", "hi"), _bounds(k, n, confidence), strict=True)
    )


def _bounds(k: int, n: int, confidence: float) -> tuple[float | None, float | None]:
    """Wilson bounds for k of n (None, None when nothing was judged)."""
    if n == 0:
        return None, None
    lo, hi = wilson(k, n, confidence)
    return float(lo), float(hi)
