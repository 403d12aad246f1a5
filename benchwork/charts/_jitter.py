"""``jitter``: how steady each target's speed is (coefficient of variation of TTFT, latency).

The bands are ``analysis.leaderboard``'s jitter thresholds (green / amber / red); the value
equals its ``ttft_cv`` / ``latency_cv`` (same rows: live ok calls; computed here without the
leaderboard's percentile sorts), the interval a bootstrap of the CV.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import polars as pl

from benchwork.analysis import Results
from benchwork.charts._data import AnyChart, results_of, speed_rows, targets_of
from benchwork.charts._theme import color

__all__ = ["jitter", "jitter_data"]


def _cv_interval(
    x: np.ndarray, confidence: float, seed: int, n_boot: int = 400, m_max: int = 2000
) -> tuple[float, float]:
    """Percentile bootstrap of the CV; past ``m_max`` rows an m-out-of-n bootstrap, its
    spread scaled by sqrt(m / n), so a million-row target stays fast."""
    if x.size < 3:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    m = min(x.size, m_max)
    s = x[rng.integers(0, x.size, size=(n_boot, m))]
    star = s.std(axis=1, ddof=1) / s.mean(axis=1)
    cv = float(x.std(ddof=1) / x.mean())
    k = np.sqrt(m / x.size)
    a = (1 - confidence) / 2
    return cv + k * (float(np.quantile(star, a)) - cv), cv + k * (
        float(np.quantile(star, 1 - a)) - cv
    )


def jitter_data(
    data: Results,
    *,
    thresholds: tuple[float, float] = (0.1, 0.3),
    confidence: float = 0.95,
    seed: int = 0,
) -> pl.DataFrame:
    """Per target and metric: ``cv`` (std / mean, as ``analysis.leaderboard``'s ``ttft_cv``),
    ``cv_lo``, ``cv_hi`` (bootstrap) and ``jitter`` (green / amber / red at ``thresholds``)."""
    rows = speed_rows(results_of(data))
    t1, t2 = thresholds
    out = []
    for metric, label in (("ttft_s", "TTFT"), ("latency_s", "latency")):
        if metric not in rows.columns:
            continue
        valid = rows.filter(pl.col(metric).is_not_null() & pl.col(metric).is_not_nan())
        for (target,), part in sorted(valid.partition_by("target", as_dict=True).items()):
            x = part[metric].to_numpy().astype(float)
            if x.size < 2 or x.mean() == 0:
                continue
            cv = float(x.std(ddof=1) / x.mean())
            lo, hi = _cv_interval(x, confidence, seed)
            level = "green" if cv < t1 else "amber" if cv < t2 else "red"
            out.append(
                {
                    "target": target,
                    "metric": label,
                    "cv": cv,
                    "cv_lo": lo,
                    "cv_hi": hi,
                    "jitter": level,
                }
            )
    schema = {
        "target": pl.String,
        "metric": pl.String,
        "cv": pl.Float64,
        "cv_lo": pl.Float64,
        "cv_hi": pl.Float64,
        "jitter": pl.String,
    }
    return pl.DataFrame(out, schema=schema).fill_nan(None)


def jitter(
    data: Results, *, thresholds: tuple[float, float] = (0.1, 0.3), title: str | None = None
) -> AnyChart:
    """Dot per target: CV with a bootstrap interval, over green / amber / red bands."""
    rows = jitter_data(data, thresholds=thresholds)
    targets = targets_of(results_of(data))
    top = max(float(rows["cv_hi"].fill_null(rows["cv"]).max() or 0), thresholds[1] * 1.2)  # type: ignore[arg-type]
    bands = pl.DataFrame(
        {
            "from": [0.0, thresholds[0], thresholds[1]],
            "to": [thresholds[0], thresholds[1], top],
            "level": ["green", "amber", "red"],
        }
    )
    shades = {"green": "#009E73", "amber": "#E69F00", "red": "#D55E00"}
    band = alt.layer(
        *[
            alt.Chart(bands.filter(pl.col("level") == level))
            .mark_rect(opacity=0.12, color=shade)
            .encode(x="from:Q", x2="to:Q")
            for level, shade in shades.items()
        ]
    )
    y = alt.Y("target:N", title=None)
    base = alt.Chart(rows).encode(y=y)
    tip = [
        "target:N",
        "metric:N",
        alt.Tooltip("cv:Q", format=".3f"),
        alt.Tooltip("cv_lo:Q", format=".3f"),
        alt.Tooltip("cv_hi:Q", format=".3f"),
        "jitter:N",
    ]
    dots = base.mark_point(filled=True, size=80, opacity=1).encode(
        x=alt.X(
            "cv:Q", title="coefficient of variation (std / mean)", scale=alt.Scale(domain=[0, top])
        ),
        color=color(targets),
        tooltip=tip,
    )
    whiskers = base.mark_rule(color="#444").encode(x="cv_lo:Q", x2="cv_hi:Q")
    charts = []
    for metric in rows["metric"].unique(maintain_order=True).to_list():
        part = rows.filter(pl.col("metric") == metric)
        charts.append(
            alt.layer(band, whiskers.properties(data=part), dots.properties(data=part)).properties(
                title=metric, height=alt.Step(28)
            )
        )
    return alt.vconcat(*charts).properties(
        title=alt.TitleParams(
            title or "Speed jitter",
            subtitle=f"green < {thresholds[0]:g} ≤ amber < {thresholds[1]:g} ≤ red; whiskers: 95% bootstrap intervals",
        )
    )
