"""``speed`` and ``ttft_vs_tps``: speed per target, summarised before drawing.

Boxes are quartiles with Tukey whiskers (1.5 x IQR) computed in Polars; p50 and p95 are
``analysis.leaderboard``'s, with their bootstrap intervals. Rows are live ok calls, as there.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import polars as pl

from benchwork import analysis
from benchwork.analysis import Results
from benchwork.charts._data import AnyChart, results_of, speed_rows, targets_of
from benchwork.charts._theme import color
from benchwork.errors import BenchworkError

__all__ = [
    "SPEED_METRICS",
    "metric_name",
    "speed",
    "speed_board",
    "speed_data",
    "ttft_vs_tps",
    "ttft_vs_tps_data",
]

#: metric -> (leaderboard stem, unit suffix, axis title, scale to display unit)
SPEED_METRICS: dict[str, tuple[str, str, str, float]] = {
    "ttft_s": ("ttft", "_s", "time to first token (ms)", 1000.0),
    "latency_s": ("latency", "_s", "latency (ms)", 1000.0),
    "output_tps": ("output_tps", "", "output tokens per second (tok/s)", 1.0),
    "itl_mean_s": ("itl_mean", "_s", "mean inter-token latency (ms)", 1000.0),
}


def metric_name(metric: str) -> str:
    aliases = {"ttft": "ttft_s", "latency": "latency_s", "tps": "output_tps", "tok/s": "output_tps"}
    name = aliases.get(metric, metric)
    if name not in SPEED_METRICS:
        raise BenchworkError(f"speed metric must be one of {list(SPEED_METRICS)}, not {metric!r}")
    return name


def speed_board(frame: pl.DataFrame, metrics: Sequence[str]) -> pl.DataFrame:
    """``analysis.leaderboard`` on the columns speed figures need (faster on big runs)."""
    keep = [c for c in ("target", "warmup", "cached", "status", *metrics) if c in frame.columns]
    return analysis.leaderboard(frame.select(keep), sort=None)


def _boxes(frame: pl.DataFrame, names: Sequence[str]) -> dict[str, pl.DataFrame]:
    """Quartiles and Tukey whiskers per target for each metric, in one pass over the rows."""
    rows = speed_rows(frame)
    aggs = []
    for name in names:
        x = pl.col(name).filter(pl.col(name).is_not_null() & pl.col(name).is_finite())
        q1, q3 = x.quantile(0.25, "linear"), x.quantile(0.75, "linear")
        aggs += [
            q1.alias(f"{name}|q1"),
            q3.alias(f"{name}|q3"),
            x.filter(x >= q1 - 1.5 * (q3 - q1)).min().alias(f"{name}|whisker_lo"),
            x.filter(x <= q3 + 1.5 * (q3 - q1)).max().alias(f"{name}|whisker_hi"),
            x.count().alias(f"{name}|n"),
        ]
    stats = rows.group_by("target").agg(aggs)
    return {
        name: stats.select(
            "target",
            *[
                pl.col(f"{name}|{k}").alias(k)
                for k in ("q1", "q3", "whisker_lo", "whisker_hi", "n")
            ],
        )
        for name in names
    }


def speed_data(
    data: Results,
    metric: str = "ttft_s",
    *,
    board: pl.DataFrame | None = None,
    box: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Per target: quartiles, Tukey whiskers, p50/p95 with intervals, n (display units)."""
    name = metric_name(metric)
    stem, u, _, k = SPEED_METRICS[name]
    frame = results_of(data)
    box = box if box is not None else _boxes(frame, [name])[name]
    lb = board if board is not None else speed_board(frame, [name])
    cols = {
        "p50": f"{stem}_p50{u}",
        "p50_lo": f"{stem}_p50_lo{u}",
        "p50_hi": f"{stem}_p50_hi{u}",
        "p95": f"{stem}_p95{u}",
        "p95_lo": f"{stem}_p95_lo{u}",
        "p95_hi": f"{stem}_p95_hi{u}",
    }
    marks = lb.select("target", *[pl.col(c).alias(a) for a, c in cols.items()])
    out = box.join(marks, on="target", how="inner").filter(pl.col("p50").is_not_null())
    scaled = ["q1", "q3", "whisker_lo", "whisker_hi", *cols]
    return out.with_columns(pl.col(scaled) * k, pl.lit(name).alias("metric")).sort("p50")


def _layers(targets: list[str], x_title: str) -> list[alt.Chart]:
    y = alt.Y("target:N", title=None, sort=alt.EncodingSortField("p50", order="ascending"))
    x = alt.X("whisker_lo:Q", title=x_title, scale=alt.Scale(zero=False))
    base = alt.Chart().encode(y=y)
    tip = [
        alt.Tooltip("target:N"),
        alt.Tooltip("n:Q"),
        *[alt.Tooltip(f"{c}:Q", format=".4g") for c in ("p50", "p50_lo", "p50_hi", "p95")],
        *[alt.Tooltip(f"{c}:Q", format=".4g") for c in ("p95_lo", "p95_hi", "q1", "q3")],
    ]
    return [
        base.mark_rule(color="#666").encode(x=x, x2=alt.X2("whisker_hi:Q")),
        base.mark_bar(height={"band": 0.55}, opacity=0.45).encode(
            x=alt.X("q1:Q"), x2=alt.X2("q3:Q"), color=color(targets), tooltip=tip
        ),
        base.mark_tick(thickness=3, size=22, color="#000").encode(x=alt.X("p50:Q"), tooltip=tip),
        base.mark_rule(strokeWidth=3, color="#000", yOffset=13).encode(
            x=alt.X("p50_lo:Q"), x2=alt.X2("p50_hi:Q")
        ),
        base.mark_point(shape="diamond", filled=True, size=70, color="#D55E00").encode(
            x=alt.X("p95:Q"), tooltip=tip
        ),
        base.mark_rule(strokeWidth=2, color="#D55E00", yOffset=13).encode(
            x=alt.X("p95_lo:Q"), x2=alt.X2("p95_hi:Q")
        ),
        base.mark_text(dy=-13, fontSize=10, color="#D55E00").encode(
            x=alt.X("p95:Q"), text=alt.value("p95")
        ),
    ]


def speed(
    data: Results,
    metrics: str | Sequence[str] = ("ttft_s", "latency_s", "output_tps"),
    *,
    title: str | None = None,
) -> AnyChart:
    """Per target: box (quartiles, 1.5 x IQR whiskers), p50 (black tick) and p95 (diamond).

    Under each mark, a bar shows its bootstrap interval from ``analysis.leaderboard``.
    ``metrics``: any of ``ttft_s``, ``latency_s``, ``output_tps``, ``itl_mean_s``; one panel
    each (one row of a facet, its unit in the row label).
    """
    names = [metric_name(m) for m in ([metrics] if isinstance(metrics, str) else metrics)]
    frame = results_of(data)
    lb = speed_board(frame, names)
    boxes = _boxes(frame, names)
    parts = [speed_data(frame, name, board=lb, box=boxes[name]) for name in names]
    rows = (
        pl.concat([p for p in parts if not p.is_empty()], how="vertical_relaxed")
        if any(not p.is_empty() for p in parts)
        else pl.DataFrame()
    )
    if rows.is_empty():
        raise BenchworkError(f"nothing to draw: no live ok call has {names}")
    labels = {n: SPEED_METRICS[n][2] for n in names}
    rows = rows.with_columns(pl.col("metric").replace_strict(labels).alias("metric"))
    sub = (
        "box: quartiles, whiskers 1.5 x IQR; black tick p50, diamond p95; bars below: 95% intervals"
    )
    head = alt.TitleParams(title or "Speed per target", subtitle=sub)
    drawn = [labels[n] for n in names if labels[n] in set(rows["metric"])]
    if len(drawn) == 1:
        layer = alt.layer(*_layers(targets_of(frame), drawn[0]), data=rows)
        return layer.properties(title=head, height=alt.Step(34))
    layer = alt.layer(*_layers(targets_of(frame), "value (unit in the panel label)"))
    return (
        layer.properties(height=alt.Step(34))
        .facet(
            data=rows,
            row=alt.Row(
                "metric:N",
                title=None,
                sort=drawn,
                header=alt.Header(
                    labelAngle=0,
                    labelAlign="left",
                    labelAnchor="start",
                    labelOrient="top",
                    labelFontWeight="bold",
                ),
            ),
            title=head,
        )
        .resolve_scale(x="independent", y="independent")
    )


def ttft_vs_tps_data(data: Results) -> pl.DataFrame:
    """Per target: TTFT p50 (ms) and output tok/s p50 with their intervals."""
    frame = results_of(data)
    lb = speed_board(frame, ["ttft_s", "output_tps"])
    return (
        lb.select(
            "target",
            (pl.col("ttft_p50_s") * 1000).alias("ttft_ms"),
            (pl.col("ttft_p50_lo_s") * 1000).alias("ttft_lo"),
            (pl.col("ttft_p50_hi_s") * 1000).alias("ttft_hi"),
            pl.col("output_tps_p50").alias("tps"),
            pl.col("output_tps_p50_lo").alias("tps_lo"),
            pl.col("output_tps_p50_hi").alias("tps_hi"),
            pl.col("speed_n").alias("n"),
        )
        .filter(pl.col("ttft_ms").is_not_null() & pl.col("tps").is_not_null())
        .sort("target")
    )


def ttft_vs_tps(data: Results, *, title: str | None = None) -> AnyChart:
    """Median TTFT (x, lower is better) against median output tok/s (y), both with intervals.

    Targets whose answers are too short for a rate (one token) have no tok/s and are noted.
    """
    frame = results_of(data)
    rows = ttft_vs_tps_data(frame)
    if rows.is_empty():
        raise BenchworkError("nothing to draw: no target has both TTFT and tok/s")
    missing = sorted(set(targets_of(frame)) - set(rows["target"].to_list()))
    x = alt.X("ttft_ms:Q", title="time to first token, p50 (ms)", scale=alt.Scale(zero=False))
    y = alt.Y("tps:Q", title="output tokens per second, p50 (tok/s)", scale=alt.Scale(zero=False))
    base = alt.Chart(rows).encode(x=x, y=y)
    tip = ["target:N", "n:Q", *[alt.Tooltip(f"{c}:Q", format=".4g") for c in rows.columns[1:7]]]
    layers = [
        base.mark_rule(color="#666").encode(x="ttft_lo:Q", x2="ttft_hi:Q"),
        base.mark_rule(color="#666").encode(y="tps_lo:Q", y2="tps_hi:Q"),
        base.mark_point(filled=True, size=90, opacity=1).encode(
            color=color(targets_of(frame)), tooltip=tip
        ),
        base.mark_text(align="left", dx=8, dy=-8, fontSize=11).encode(text="target:N"),
    ]
    sub = ["whiskers: 95% bootstrap intervals of the medians; up and left is better"]
    if missing:
        sub.append("no tok/s (answers under 2 tokens): " + ", ".join(missing))
    return alt.layer(*layers).properties(
        title=alt.TitleParams(title or "TTFT vs output speed", subtitle=sub)
    )
