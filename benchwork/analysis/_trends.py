"""Trends across stored runs: each metric per run with its interval, windows, regression flags.

``trends``: one row per (target, metric, run), oldest first: ``run_time`` (the run's first
call), ``value``, ``lo``, ``hi``, ``n`` (scored rows for scores, speed rows otherwise), then the
rolling baseline over the k runs in the ``baseline_days`` before this one: ``baseline`` (the
mean of their values), ``baseline_runs`` (k), ``delta`` (value - baseline), ``p_value`` and
``flag`` (``regression`` / ``improvement`` when p < alpha in the bad / good direction; null
with fewer than ``min_runs`` prior runs). The test asks whether this run's value falls
outside the prediction interval of the prior runs' values: ``t = delta / (s sqrt(1 + 1/k))``
with s their standard deviation and k - 1 degrees of freedom (exact for normal run-to-run
variation). It uses the spread between runs, not each run's own interval, so day-to-day
drift that the within-run intervals cannot see does not raise false alarms. Per-run figures
are the leaderboard's (``leaderboard(..., by="run_id")``).

``trend_windows``: per target and metric, the pooled figure over the runs in the last 7, 30
and 90 days (before the newest run): the leaderboard over those runs' rows, so a case that
recurs across runs is one cluster (cluster-robust by case).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Literal

import numpy as np
import polars as pl

from benchwork.analysis._frames import Results, as_frame, measured, score_columns
from benchwork.analysis._leaderboard import leaderboard
from benchwork.analysis._paired import lower_is_better
from benchwork.errors import BenchworkError

__all__ = ["DEFAULT_TREND_METRICS", "trend_windows", "trends"]

DEFAULT_TREND_METRICS = ("ttft_p50_s", "latency_p50_s", "output_tps_p50")


def _columns(board: pl.DataFrame, metric: str) -> tuple[str, str, str, str]:
    """(value, lo, hi, n) columns of a leaderboard metric (a score name or a speed column)."""
    name = metric if metric.startswith("score_") or metric in board.columns else f"score_{metric}"
    if name.startswith("score_"):
        stem = name.removesuffix("_mean")
        if f"{stem}_mean" not in board.columns:
            raise BenchworkError(f"no score {metric!r} in these runs")
        return f"{stem}_mean", f"{stem}_lo", f"{stem}_hi", f"{stem}_n"
    u = "_s" if name.endswith("_s") else ""
    lo, hi = f"{name.removesuffix(u)}_lo{u}", f"{name.removesuffix(u)}_hi{u}"
    if lo not in board.columns:
        raise BenchworkError(f"no interval for {metric!r}; use a score or a p50/p95 column")
    return name, lo, hi, "speed_n"


def _frame_with_times(data: Results) -> pl.DataFrame:
    frame = measured(as_frame(data))
    for col in ("run_id", "started_at"):
        if col not in frame.columns:
            raise BenchworkError(f"trends need a {col!r} column (stack the runs' results)")
    return frame


def _metrics(frame: pl.DataFrame, metrics: Sequence[str] | None) -> list[str]:
    if metrics is not None:
        return list(metrics)
    scores = score_columns(frame)
    return [*scores[:1], *DEFAULT_TREND_METRICS]


_KEEP = ("run_id", "started_at", "target", "case_id", "warmup", "cached", "status")


def _slim(frame: pl.DataFrame, metrics: list[str]) -> pl.DataFrame:
    """Only the columns the metrics need (the leaderboard skips speed metrics it lacks)."""
    scores = set(score_columns(frame))
    keep = [c for c in _KEEP if c in frame.columns]
    for m in metrics:
        name = m.removesuffix("_mean")
        match = re.fullmatch(r"(.+)_p(?:50|95)(_s)?", name)
        source = f"{match.group(1)}{match.group(2) or ''}" if match else name
        for c in (source, f"score_{name}", name):
            if c in frame.columns and (c in scores or not c.startswith("score_")):
                keep.append(c)
    return frame.select(list(dict.fromkeys(keep)))


def _long(board: pl.DataFrame, metrics: list[str], keys: list[str]) -> pl.DataFrame:
    parts = []
    for m in metrics:
        v, lo, hi, n = _columns(board, m)
        parts.append(
            board.select(
                *keys,
                pl.lit(v.removesuffix("_mean")).alias("metric"),
                pl.col(v).cast(pl.Float64).alias("value"),
                pl.col(lo).cast(pl.Float64).alias("lo"),
                pl.col(hi).cast(pl.Float64).alias("hi"),
                pl.col(n).cast(pl.Int64).alias("n"),
            )
        )
    return pl.concat(parts)


def _rolling(
    t: np.ndarray, v: np.ndarray, window: np.timedelta64
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per run (sorted by time): mean, sd and count of the prior runs' values in the window."""
    ok = np.isfinite(v)
    x = np.where(ok, v, 0.0)
    c1 = np.concatenate([[0.0], np.cumsum(x)])
    c2 = np.concatenate([[0.0], np.cumsum(x * x)])
    cn = np.concatenate([[0], np.cumsum(ok)])
    start = np.searchsorted(t, t - window, side="left")
    end = np.searchsorted(t, t, side="left")  # runs strictly before this one
    k = cn[end] - cn[start]
    s1, s2 = c1[end] - c1[start], c2[end] - c2[start]
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(k > 0, s1 / k, np.nan)
        var = np.where(k > 1, np.maximum(s2 - k * mean**2, 0.0) / (k - 1), np.nan)
    return mean, np.sqrt(var), k


def trends(
    data: Results,
    metrics: Sequence[str] | None = None,
    *,
    baseline_days: float = 30.0,
    min_runs: int = 3,
    alpha: float = 0.05,
    confidence: float = 0.95,
    speed: Literal["live", "all"] = "live",
) -> pl.DataFrame:
    """Each metric per run and target with its interval, against a rolling baseline.

    ``data``: runs (a list of Runs) or their stacked results (``run_id`` and ``started_at``
    columns). ``metrics``: scores (``"exact"``) and leaderboard speed columns
    (``"ttft_p50_s"``); default the first score, TTFT/latency p50 and tok/s p50.
    """
    from scipy.stats import t as t_dist

    frame = _frame_with_times(data)
    names = _metrics(frame, metrics)
    frame = _slim(frame, names)
    times = frame.group_by("run_id").agg(pl.col("started_at").min().alias("run_time"))
    board = leaderboard(frame, by="run_id", confidence=confidence, speed=speed)
    board = board.join(times, on="run_id", how="left")
    long = _long(board, names, ["target", "run_id", "run_time"]).sort(
        "target", "metric", "run_time"
    )
    window = np.timedelta64(int(baseline_days * 86_400_000_000), "us")
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("baseline", "k", "delta", "p")}
    flags: list[str | None] = []
    for (_, metric), part in long.group_by(["target", "metric"], maintain_order=True):
        t = part["run_time"].dt.replace_time_zone(None).to_numpy().astype("datetime64[us]")
        v = part["value"].to_numpy().astype(float)
        base, sd, k = _rolling(t, v, window)
        with np.errstate(invalid="ignore", divide="ignore"):
            delta = v - base
            score = np.abs(delta) / (sd * np.sqrt(1.0 + 1.0 / k))
            p = np.where(k >= min_runs, 2.0 * t_dist.sf(score, np.maximum(k - 1, 1)), np.nan)
            p = np.where(np.isfinite(score) | (k < min_runs), p, np.where(delta == 0, 1.0, 0.0))
        bad = delta > 0 if lower_is_better(str(metric)) else delta < 0
        sig = np.isfinite(p) & (p < alpha)
        flags.extend(
            ("regression" if b else "improvement") if f else None
            for f, b in zip(sig.tolist(), bad.tolist(), strict=True)
        )
        for key, arr in (("baseline", base), ("k", k), ("delta", delta), ("p", p)):
            cols[key].append(arr)
    if long.is_empty():
        return long
    return long.with_columns(
        pl.Series("baseline", np.concatenate(cols["baseline"]), nan_to_null=True),
        pl.Series("baseline_runs", np.concatenate(cols["k"]), dtype=pl.Int64),
        pl.Series("delta", np.concatenate(cols["delta"]), nan_to_null=True),
        pl.Series("p_value", np.concatenate(cols["p"]), nan_to_null=True),
        pl.Series("flag", flags, dtype=pl.String),
    )


def trend_windows(
    data: Results,
    metrics: Sequence[str] | None = None,
    *,
    windows: Sequence[float] = (7, 30, 90),
    confidence: float = 0.95,
    speed: Literal["live", "all"] = "live",
) -> pl.DataFrame:
    """Per window (days before the newest run), target and metric: runs, value, lo, hi, n."""
    frame = _frame_with_times(data)
    names = _metrics(frame, metrics)
    frame = _slim(frame, names)
    times = frame.group_by("run_id").agg(pl.col("started_at").min().alias("run_time"))
    newest = times["run_time"].max()
    parts = []
    for days in windows:
        since = newest - timedelta(days=days)  # type: ignore[operator]
        ids = times.filter(pl.col("run_time") >= since)["run_id"]
        rows = frame.filter(pl.col("run_id").is_in(ids.implode()))
        board = leaderboard(rows, confidence=confidence, speed=speed)
        runs = rows.group_by("target").agg(pl.col("run_id").n_unique().alias("runs"))
        board = board.join(runs, on="target", how="left")
        long = _long(board, names, ["target", "runs"])
        parts.append(long.select(pl.lit(float(days)).alias("window_days"), pl.all()))
    return pl.concat(parts).sort("target", "metric", "window_days")
