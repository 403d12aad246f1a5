"""``heatmap``: case x target scores, with the answer and the scorer's explanation on hover.

Cells are case means over repeats. Large suites show the ``max_cases`` cases where targets
disagree most, and say so in the subtitle.
"""

from __future__ import annotations

import altair as alt
import polars as pl

from benchwork.analysis import Results
from benchwork.charts._data import AnyChart, is_rate, measured, results_of, score_column
from benchwork.errors import BenchworkError
from benchwork.results import score_column as result_column

__all__ = ["heatmap", "heatmap_data"]


def heatmap_data(
    data: Results, score: str | None = None, *, max_cases: int = 60, max_chars: int = 300
) -> tuple[pl.DataFrame, int]:
    """(cells ``case_id, target, score, n, output, explanation``, number of cases in all)."""
    frame = measured(results_of(data))
    name = score_column(frame, score)
    expl = result_column(name[len("score_") :], "explanation")
    text = pl.col("output_text") if "output_text" in frame.columns else pl.lit(None, pl.String)
    why = pl.col(expl) if expl in frame.columns else pl.lit(None, pl.String)
    cells = (
        frame.group_by("case_id", "target")
        .agg(
            pl.col(name).mean().alias("score"),
            pl.col(name).count().alias("n"),
            text.drop_nulls().first().str.slice(0, max_chars).alias("output"),
            why.drop_nulls().first().str.slice(0, max_chars).alias("explanation"),
        )
        .with_columns(pl.col("case_id").cast(pl.String))
    )
    spread = cells.group_by("case_id").agg(
        pl.col("score").std().fill_null(0).alias("_spread"), pl.col("score").mean().alias("_m")
    )
    total = spread.height
    keep = spread.sort(["_spread", "_m", "case_id"], descending=[True, False, False]).head(
        max_cases
    )
    cells = cells.join(keep.select("case_id"), on="case_id", how="semi")
    return cells.sort("case_id", "target"), total


def heatmap(
    data: Results,
    score: str | None = None,
    *,
    max_cases: int = 60,
    title: str | None = None,
) -> AnyChart:
    """One cell per case and target: the case's mean score (grey: no score, e.g. failed calls)."""
    cells, total = heatmap_data(data, score, max_cases=max_cases)
    if cells.is_empty():
        raise BenchworkError("nothing to draw: no case has a row")
    name = score_column(measured(results_of(data)), score).removeprefix("score_")
    pct = is_rate(cells["score"])
    order = cells.group_by("case_id").agg(pl.col("score").mean()).sort("score", "case_id")
    sub = "hover a cell for the answer and the scorer's explanation"
    if total > cells["case_id"].n_unique():
        sub += f"; {cells['case_id'].n_unique()} of {total} cases: where targets disagree most"
    x = alt.X("target:N", title=None, axis=alt.Axis(labelAngle=-30))
    y = alt.Y("case_id:N", title="case", sort=order["case_id"].to_list())
    tip = [
        "case_id:N",
        "target:N",
        alt.Tooltip("score:Q", format=".3g"),
        "n:Q",
        "output:N",
        "explanation:N",
    ]
    cell = alt.Chart(cells).mark_rect(stroke="white", strokeWidth=0.5).encode(x=x, y=y)
    scored = cell.transform_filter("isValid(datum.score)").encode(
        color=alt.Color(
            "score:Q",
            title=f"{name}" + (" (mean over repeats)" if cells["n"].max() != 1 else ""),
            scale=alt.Scale(scheme="viridis", domain=[0, 1] if pct else alt.Undefined),
            legend=alt.Legend(format=".0%" if pct else ".3g"),
        ),
        tooltip=tip,
    )
    return alt.layer(cell.encode(color=alt.value("#d9d9d9"), tooltip=tip), scored).properties(
        title=alt.TitleParams(title or f"Scores per case: {name}", subtitle=sub),
        height=alt.Step(12),
        width=alt.Step(60),
    )
