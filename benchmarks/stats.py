"""Leaderboard time on 1,000,000 rows (10 targets x 100,000), against a plain polars group_by;
compare_targets over the same rows (45 pairs, McNemar); trends over 1,000 runs (stacked results:
3 targets x 50 cases, and 10 targets x 100 cases).

Run: python benchmarks/stats.py  (targets: <= 2 s for the leaderboard with every interval, and
<= 2 s for trends over 1,000 runs). ``--stored`` also writes 1,000 runs to a temporary run
store (about 30 s, not timed) and times what ``benchwork trends`` does: list, load, analyse.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from benchwork.analysis import compare_targets, leaderboard, trends


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


def stored_runs(home: str, runs: int = 1000, targets: int = 3, cases: int = 50) -> None:
    """Write ``runs`` finished runs of suite 's' to the store at ``home`` (one every 8 hours)."""
    from benchwork.results import records_to_frame
    from benchwork.store import RunStore

    store, rng = RunStore(home), np.random.default_rng(0)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    for r in range(runs):
        rid, start = f"r{r:04d}", (t0 + timedelta(hours=8 * r)).isoformat()
        recs = [
            {
                "run_id": rid,
                "case_id": f"c{c}",
                "target": f"t{t}",
                "model": f"t{t}",
                "status": "ok",
                "started_at": start,
                "ttft_s": float(rng.lognormal(-1.5, 0.3)),
                "latency_s": float(rng.lognormal(0, 0.3)),
                "output_tps": float(rng.normal(50, 5)),
                "scores": {"exact": {"value": float(rng.random() < 0.6)}},
            }
            for t in range(targets)
            for c in range(cases)
        ]
        w = store.create(rid, {"suite": "s", "suite_hash": "h", "targets": []}, {"name": "s"})
        w.append_lines([w.serialize(x) + "\n" for x in recs], sync=False)
        w.finish("finished", frame=records_to_frame(recs))
        w.close()


def trends_from_store(home: str) -> None:
    """What ``benchwork trends s`` computes: list the store, load the suite's rows, analyse."""
    from benchwork.analysis import trend_windows
    from benchwork.store import RunStore

    store = RunStore(home)
    listed = store.runs()
    ids = listed.filter(listed["suite"] == "s")["run_id"].to_list()
    frames = [store.frame(i) for i in ids]
    trends(frames)
    trend_windows(frames)


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
    compare_targets(df.head(5000))
    pairs = best_of(lambda: compare_targets(df, "exact"), rounds=2)
    print(f"{'compare_targets, 45 pairs, 1,000,000 rows':<40}{pairs:>10.3f}{pairs / base:>12.1f}")
    for targets, cases in ((3, 50), (10, 100)):
        runs = synth_runs(1000, targets, cases)
        trends(runs.head(1000))
        tr = best_of(lambda runs=runs: trends(runs))
        label = f"trends, 1,000 runs x {targets} x {cases}"
        print(f"{label:<40}{tr:>10.3f}{tr / base:>12.1f}")
    if "--stored" in sys.argv:
        with tempfile.TemporaryDirectory() as home:
            stored_runs(home)
            st = best_of(lambda: trends_from_store(home), rounds=2)
            label = "trends, 1,000 stored runs (load+all)"
            print(f"{label:<40}{st:>10.3f}{st / base:>12.1f}")


if __name__ == "__main__":
    main()
