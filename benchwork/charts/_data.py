"""Inputs for charts: a results frame from a Run, a frame or a list of them; column names.

Charts aggregate in Polars before plotting: nothing here hands raw rows to Altair.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import polars as pl

from benchwork.errors import BenchworkError

__all__ = [
    "SCORE_KEYS",
    "AnyChart",
    "is_rate",
    "measured",
    "results_of",
    "score_column",
    "score_columns",
    "speed_rows",
    "targets_of",
]

#: what chart functions return
AnyChart = alt.Chart | alt.LayerChart | alt.FacetChart | alt.HConcatChart | alt.VConcatChart

_NOT_SCORES = ("_explanation", "_cost_usd", "_agreement")
#: the columns that leaderboard score intervals depend on
SCORE_KEYS = ("target", "case_id", "repeat", "warmup", "cached", "status")


def results_of(data: Any) -> pl.DataFrame:
    """A results frame from a frame, a Run (``.results``), or a list of either (stacked)."""
    if isinstance(data, pl.DataFrame):
        return data
    if isinstance(data, pl.LazyFrame):
        return data.collect()
    results = getattr(data, "results", None)
    if isinstance(results, pl.DataFrame):
        return results
    if isinstance(data, Sequence) and not isinstance(data, str | bytes):
        frames = [results_of(d) for d in data]
        if not frames:
            raise BenchworkError("no results: got an empty list of runs/frames")
        return frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed")
    raise BenchworkError(
        f"expected a results frame, a Run or a list of them; got {type(data).__name__}"
    )


def measured(frame: pl.DataFrame) -> pl.DataFrame:
    """Warm-up calls removed."""
    if "warmup" in frame.columns:
        return frame.filter(~pl.col("warmup").fill_null(False))
    return frame


def score_columns(frame: pl.DataFrame) -> list[str]:
    """``score_<name>`` columns of a results frame (not explanations, costs, agreements)."""
    return [c for c in frame.columns if c.startswith("score_") and not c.endswith(_NOT_SCORES)]


def score_column(frame: pl.DataFrame, score: str | None) -> str:
    """``score_<name>`` for ``score`` (``"exact"`` or ``"score_exact"``), default the first."""
    cols = score_columns(frame)
    if score is None:
        if not cols:
            raise BenchworkError("the results have no score columns (score_<name>)")
        return cols[0]
    name = score if score.startswith("score_") else f"score_{score}"
    if name not in cols:
        raise BenchworkError(f"no score column {name!r}; score columns: {cols}")
    return name


def is_rate(values: pl.Series) -> bool:
    """True when every value is within [0, 1] (shown as a percentage)."""
    s = values.drop_nulls()
    return s.len() > 0 and bool(((s >= 0) & (s <= 1)).all())


def speed_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """The rows speed figures come from, as in ``analysis.leaderboard(speed="live")``:
    live ok calls, or every ok call for a target that has no live one."""
    ok = pl.col("status") == "ok" if "status" in frame.columns else pl.lit(True)
    live = ok & ~pl.col("cached").fill_null(False) if "cached" in frame.columns else ok
    return measured(frame).filter(live | (ok & ~live.any().over("target")))


def targets_of(frame: pl.DataFrame) -> list[str]:
    """Every target of a frame (the colour domain: the same in every chart of a run)."""
    return sorted(str(t) for t in frame.get_column("target").drop_nulls().unique())
