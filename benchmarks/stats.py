"""Leaderboard time on 1,000,000 rows (10 targets x 100,000), against a plain polars group_by;
trends over 1,000 runs (stacked results: 3 targets x 50 cases, and 10 targets x 100 cases).

Run: python benchmarks/stats.py  (targets: <= 2 s for the leaderboard with every interval, and
<= 2 s for trends over 1,000 runs; loading the runs from disk is not included).
"""

from __future__ import annotations

import time

import numpy as np
import polars as pl

from benchwork.analysis import leaderboard, trends


def synth(n_targets: int = 10, per: int = 100_000, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    rows = n_targets * per
    ttft = rng.lognormal(-1.5, 0.3, rows)
    return pl.DataFrame(
        {
            "case_id": pl.Series(np.tile(np.arange(per), n_targets)).cast(pl.String),
            "target": np.repeat([f"t{i}" for i in range(n_targets)], per),
            "repeat": 0,
            "warmup": False,
            "cached": rng.random(rows) < 0.1,
            "status": np.where(rng.random(rows) < 0.02, "error", "ok"),
            "latency_s": ttft + rng.exponential(1, rows),
            "ttft_s": ttft,
            "output_tps": rng.normal(50, 5, rows),
            "itl_mean_s": rng.normal(0.02, 0.002, rows),
            "cost_usd": 0.001,
            "score_exact": (rng.random(rows) < 0.6).astype(float),
            "score_sim": rng.random(rows),
        }
    )


def synth_runs(runs: int, targets: int, cases: int, seed: int = 0) -> pl.DataFrame:
    """Stacked results of ``runs`` runs, one every 8 hours."""
    rng = np.random.default_rng(seed)
    n = runs * targets * cases
    run = np.repeat(np.arange(runs), targets * cases)
    start = np.datetime64("2026-01-01T00:00:00", "us") + run * np.timedelta64(8, "h")
    return pl.DataFrame(
        {
            "run_id": pl.Series(run).cast(pl.String),
            "started_at": pl.Series(start).dt.replace_time_zone("UTC"),
            "target": np.tile(np.repeat([f"t{i}" for i in range(targets)], cases), runs),
            "case_id": pl.Series(np.tile(np.arange(cases), runs * targets)).cast(pl.String),
            "warmup": False,
            "cached": False,
            "status": "ok",
            "score_exact": (rng.random(n) < 0.6).astype(float),
            "ttft_s": rng.lognormal(-1.5, 0.3, n),
            "latency_s": rng.lognormal(0, 0.3, n),
            "output_tps": rng.normal(50, 5, n),
        }
    )


def best_of(fn, rounds: int = 3) -> float:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    df = synth()
    leaderboard(df.head(1000))  # warm imports (scipy.special)
    base = best_of(lambda: df.group_by("target").agg(pl.col("score_exact").mean()))
    lb = best_of(lambda: leaderboard(df))
    print(f"{'what':<40}{'seconds':>10}{'x baseline':>12}")
    print(f"{'polars group_by mean (baseline)':<40}{base:>10.3f}{1:>12.1f}")
    print(f"{'leaderboard, 1,000,000 rows':<40}{lb:>10.3f}{lb / base:>12.1f}")
    for targets, cases in ((3, 50), (10, 100)):
        runs = synth_runs(1000, targets, cases)
        trends(runs.head(1000))
        tr = best_of(lambda runs=runs: trends(runs))
        label = f"trends, 1,000 runs x {targets} x {cases}"
        print(f"{label:<40}{tr:>10.3f}{tr / base:>12.1f}")


if __name__ == "__main__":
    main()
