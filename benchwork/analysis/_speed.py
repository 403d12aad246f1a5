"""Per-group speed statistics: p50/p95 with bootstrap intervals, std, IQR outliers, jitter.

For each metric (``ttft_s``, ``latency_s``, ``output_tps``, ``itl_mean_s``) with stem
``ttft``/``latency``/``output_tps``/``itl_mean`` and unit suffix ``_s`` (none for tok/s):
``<stem>_p50<u>``, ``<stem>_p50_lo<u>``, ``<stem>_p50_hi<u>``, the same for ``p95``,
``<stem>_std<u>`` and ``<stem>_outliers`` (values beyond 1.5 x IQR from the quartiles). TTFT
and latency also get ``<stem>_cv`` (std / mean) and ``<stem>_jitter``: ``green`` when
cv < t1, ``amber`` when cv < t2, else ``red`` (thresholds default 0.1 and 0.3).
Quantiles interpolate linearly (polars/numpy default). Intervals are percentile-bootstrap:
``exact`` (default, the analytic bootstrap distribution of an order statistic, see
``_intervals.quantile_ci``) or ``resample`` (``n_boot`` resamples per group, seeded).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import polars as pl

from benchwork.analysis._intervals import bootstrap_quantile, quantile_ci

__all__ = ["SPEED_METRICS", "jitter_label", "metric_stem", "speed_stats"]

SPEED_METRICS = ("ttft_s", "latency_s", "output_tps", "itl_mean_s")
JITTER_METRICS = ("ttft_s", "latency_s")


def metric_stem(metric: str) -> tuple[str, str]:
    """``("ttft", "_s")`` for ``ttft_s``; ``("output_tps", "")`` for ``output_tps``."""
    return (metric[:-2], "_s") if metric.endswith("_s") else (metric, "")


def jitter_label(cv: pl.Expr, thresholds: tuple[float, float]) -> pl.Expr:
    """green / amber / red from a coefficient of variation (null stays null)."""
    t1, t2 = thresholds
    return (
        pl.when(cv.is_null() | cv.is_nan())
        .then(None)
        .when(cv < t1)
        .then(pl.lit("green"))
        .when(cv < t2)
        .then(pl.lit("amber"))
        .otherwise(pl.lit("red"))
    )


def _at(values: np.ndarray, starts: np.ndarray, n: np.ndarray, q: float) -> np.ndarray:
    out = np.full(n.shape, np.nan)
    has = n > 0
    h = (n[has] - 1) * q
    b = np.floor(h).astype(np.int64)
    lo, hi = values[starts[has] + b], values[starts[has] + np.minimum(b + 1, n[has] - 1)]
    out[has] = lo + (hi - lo) * (h - b)
    return out


def sorted_groups(
    frame: pl.DataFrame, metric: str, n_groups: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Values sorted within group (``__gid``), group ids, starts and lengths."""
    sub = (
        frame.select("__gid", metric)
        .filter(pl.col(metric).is_not_null() & pl.col(metric).is_not_nan())
        .sort("__gid", metric)
    )
    gid = sub["__gid"].to_numpy()
    values = sub[metric].to_numpy().astype(float)
    n = np.bincount(gid, minlength=n_groups).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(n)[:-1]]).astype(np.int64)
    return values, gid, starts, n


def speed_stats(
    frame: pl.DataFrame,
    n_groups: int,
    *,
    confidence: float = 0.95,
    jitter_thresholds: tuple[float, float] = (0.1, 0.3),
    ci: Literal["exact", "resample"] = "exact",
    n_boot: int = 2000,
    seed: int = 0,
) -> pl.DataFrame:
    """One row per ``__gid`` in 0..n_groups-1 (``frame`` holds only the speed rows)."""
    cols: dict[str, np.ndarray] = {"__gid": np.arange(n_groups)}
    for metric in SPEED_METRICS:
        stem, u = metric_stem(metric)
        if metric not in frame.columns:
            values = np.empty(0)
            gid = starts = np.zeros(0, np.int64)
            n = np.zeros(n_groups, np.int64)
            starts = np.zeros(n_groups, np.int64)
        else:
            values, gid, starts, n = sorted_groups(frame, metric, n_groups)
        for q, name in ((0.5, "p50"), (0.95, "p95")):
            if ci == "exact":
                point, lo, hi = quantile_ci(values, starts, n, q, confidence)
            else:
                point = _at(values, starts, n, q)
                bounds = [
                    bootstrap_quantile(
                        values[s : s + k], q, confidence=confidence, n_boot=n_boot, seed=seed
                    )
                    for s, k in zip(starts, n, strict=True)
                ]
                lo, hi = (
                    (np.array(b, dtype=float).reshape(n_groups) for b in zip(*bounds, strict=True))
                    if bounds
                    else (point, point)
                )
            cols.update(
                {f"{stem}_{name}{u}": point, f"{stem}_{name}_lo{u}": lo, f"{stem}_{name}_hi{u}": hi}
            )
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = np.bincount(gid, weights=values, minlength=n_groups) / n
            dev2 = (values - mean[gid]) ** 2 if values.size else values
            std = np.sqrt(np.bincount(gid, weights=dev2, minlength=n_groups) / (n - 1))
            q1, q3 = _at(values, starts, n, 0.25), _at(values, starts, n, 0.75)
            iqr = q3 - q1
            lo_f, hi_f = (q1 - 1.5 * iqr)[gid], (q3 + 1.5 * iqr)[gid]
            flagged = ((values < lo_f) | (values > hi_f)).astype(float)
        cols[f"{stem}_std{u}"] = std
        cols[f"{stem}_outliers"] = np.bincount(gid, weights=flagged, minlength=n_groups).astype(
            np.int64
        )
        if metric in JITTER_METRICS:
            with np.errstate(divide="ignore", invalid="ignore"):
                cols[f"{stem}_cv"] = std / mean
    out = pl.DataFrame({k: pl.Series(k, v, nan_to_null=True) for k, v in cols.items()})
    return out.with_columns(
        jitter_label(pl.col(f"{metric_stem(m)[0]}_cv"), jitter_thresholds).alias(
            f"{metric_stem(m)[0]}_jitter"
        )
        for m in JITTER_METRICS
    )
