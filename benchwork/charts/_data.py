"""Inputs for charts: a results frame from a Run, a frame or a list of them; column names.

Charts aggregate in Polars before plotting: nothing here hands raw rows to Altair.
"""

from __future__ import annotations

import altair as alt
import polars as pl

from benchwork.analysis import as_frame, measured, pick_score, score_columns

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

#: the columns that leaderboard score intervals depend on
SCORE_KEYS = ("target", "case_id", "repeat", "warmup", "cached", "status")


# one input coercion and one notion of "score column" for analysis and charts alike
results_of = as_frame
score_column = pick_score


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
