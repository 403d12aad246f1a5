"""Input coercion and column helpers shared by every analysis function.

Every public function accepts a results frame (one row per model call), an object with a
``.results`` frame (a ``Run``), or a list of either; lists are stacked with
``how="diagonal_relaxed"`` so runs with different scorers still line up (missing = null).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, TypeAlias, runtime_checkable

import polars as pl

from benchwork.errors import BenchworkError
from benchwork.results import score_value_columns

__all__ = [
    "HasResults",
    "Results",
    "as_frame",
    "group_keys",
    "is_binary",
    "measured",
    "pick_score",
    "score_columns",
]


@runtime_checkable
class HasResults(Protocol):
    """Anything with a results frame, such as a ``Run``."""

    @property
    def results(self) -> pl.DataFrame: ...


#: What every analysis function and chart accepts: a results frame (eager or lazy), a ``Run``
#: (or anything with ``.results``), or a list of those, stacked.
Results: TypeAlias = pl.DataFrame | pl.LazyFrame | HasResults | Sequence[Any]


def as_frame(data: Results) -> pl.DataFrame:
    """A results frame from a frame, a Run (``.results``), or a list of either (stacked)."""
    if isinstance(data, pl.DataFrame):
        return data
    if isinstance(data, pl.LazyFrame):
        return data.collect()
    results = getattr(data, "results", None)
    if isinstance(results, pl.DataFrame):
        return results
    if isinstance(data, Sequence) and not isinstance(data, str | bytes):
        frames = [as_frame(d) for d in data]
        if not frames:
            raise BenchworkError("no results: got an empty list of runs/frames")
        return frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed")
    raise BenchworkError(
        f"expected a results frame, a Run or a list of them; got {type(data).__name__}"
    )


def measured(frame: pl.DataFrame) -> pl.DataFrame:
    """The rows that count: warm-up calls removed (when the frame says which they are)."""
    if "warmup" in frame.columns:
        return frame.filter(~pl.col("warmup").fill_null(False))
    return frame


def score_columns(frame: pl.DataFrame) -> list[str]:
    """``score_<name>`` columns, not their ``_explanation``/``_cost_usd``/``_agreement``."""
    return score_value_columns(frame.columns)


def pick_score(frame: pl.DataFrame, score: str | None) -> str:
    """The score column named ``score`` (``"exact"`` or ``"score_exact"``), or the first one."""
    cols = score_columns(frame)
    if score is None:
        if not cols:
            raise BenchworkError("the results have no score columns (score_<name>)")
        return cols[0]
    name = score if score.startswith("score_") else f"score_{score}"
    if name not in cols:
        raise BenchworkError(f"no score column {name!r}; score columns: {cols}")
    return name


def group_keys(frame: pl.DataFrame, by: str | Sequence[str] | None) -> list[str]:
    """``[*by, "target"]`` after checking that every named column exists."""
    extra = [by] if isinstance(by, str) else list(by or [])
    keys = [*[c for c in extra if c != "target"], "target"]
    missing = [c for c in keys if c not in frame.columns]
    if missing:
        raise BenchworkError(f"no column(s) {missing} to group by; columns: {frame.columns}")
    return keys


def is_binary(frame: pl.DataFrame, col: str) -> bool:
    """True when every non-null value of ``col`` is 0 or 1 (a pass/fail score)."""
    s = frame.get_column(col).drop_nulls()
    return s.len() > 0 and bool(s.is_in([0.0, 1.0]).all())
