"""Chart build time on a 1,000,000-row run (10 targets x 100,000 calls).

Each chart aggregates in Polars before plotting, so the spec holds a few rows per target
(heatmap: at most ``max_cases`` cases per target). Timed: building the chart and its spec
(``chart.to_dict()``), not drawing it; median and best of 3 rounds. Target: <= 1 s per chart.

Run: python benchmarks/charts.py
"""

from __future__ import annotations

import os
import statistics
import time

import numpy as np
import polars as pl

import benchwork.charts as ch


def synth(n_targets: int = 10, per: int = 100_000, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    rows = n_targets * per
    ttft = rng.lognormal(-1.5, 0.3, rows)
    failed = rng.random(rows) < 0.02
    return pl.DataFrame(
        {
            "case_id": pl.Series(np.tile(np.arange(per), n_targets)).cast(pl.String),
            "target": np.repeat([f"t{i}" for i in range(n_targets)], per),
            "repeat": 0,
            "warmup": False,
            "cached": rng.random(rows) < 0.1,
            "status": np.where(failed, "error", "ok"),
            "http_status": np.where(failed, np.where(rng.random(rows) < 0.5, 500, 429), 200),
            "latency_s": ttft + rng.exponential(1, rows),
            "ttft_s": ttft,
            "output_tps": rng.normal(50, 5, rows),
            "cost_usd": 0.001 * (1 + np.repeat(np.arange(n_targets), per)),
            "output_text": "an answer",
            "score_exact": (rng.random(rows) < 0.6).astype(float),
            "score_exact_explanation": "matches",
        }
    )


def main() -> None:
    df = synth()
    print(f"{df.height:,} rows, {df['target'].n_unique()} targets")
    ch.leaderboard(df.head(1000)).to_dict()  # warm up imports
    charts = {
        "leaderboard": lambda: ch.leaderboard(df),
        "cost_quality": lambda: ch.cost_quality(df),
        "speed, TTFT panel": lambda: ch.speed(df, "ttft_s"),
        "speed (TTFT, latency, tok/s)": lambda: ch.speed(df),
        "ecdf (TTFT)": lambda: ch.ecdf(df),
        "ttft_vs_tps": lambda: ch.ttft_vs_tps(df),
        "heatmap (60 cases shown)": lambda: ch.heatmap(df),
        "forest (45 pairs)": lambda: ch.forest(df),
        "errors": lambda: ch.errors(df),
        "jitter": lambda: ch.jitter(df),
    }
    print(f"load average before: {os.getloadavg()[0]:.1f} (2 cores shared: figures swing)")
    print(f"{'chart':30s} {'median':>7s} {'best':>7s}   rows embedded  (3 rounds)")
    for name, build in charts.items():
        took = []
        for _ in range(3):
            t0 = time.perf_counter()
            spec = build().to_dict()
            took.append(time.perf_counter() - t0)
        embedded = sum(len(v) for v in spec.get("datasets", {}).values())
        med, best = statistics.median(took), min(took)
        print(f"{name:30s} {med:6.2f}s {best:6.2f}s   {embedded:5d}")


if __name__ == "__main__":
    main()
