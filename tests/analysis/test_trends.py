"""trends / trend_windows against statsmodels and scipy; flag rates in a seeded simulation."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import polars as pl
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from benchwork.analysis import trend_windows, trends
from benchwork.cli import main
from benchwork.sim import SimModel, SimServer

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def synth(
    runs: int = 60, targets: int = 2, cases: int = 50, seed: int = 0, drop_at: int | None = None
) -> pl.DataFrame:
    """Runs every 8 hours; target pass rate 0.6, falling to 0.3 from run ``drop_at`` on."""
    rng = np.random.default_rng(seed)
    n = runs * targets * cases
    run = np.repeat(np.arange(runs), targets * cases)
    p = np.where(run >= (drop_at if drop_at is not None else runs), 0.3, 0.6)
    starts = [T0 + timedelta(hours=8 * i) for i in range(runs)]
    return pl.DataFrame(
        {
            "run_id": [f"r{i:04d}" for i in run],
            "started_at": pl.Series(starts).gather(run),
            "target": np.tile(np.repeat([f"t{i}" for i in range(targets)], cases), runs),
            "case_id": np.tile(np.arange(cases).astype(str), runs * targets),
            "warmup": False,
            "cached": False,
            "status": "ok",
            "score_exact": (rng.random(n) < p).astype(float),
            "ttft_s": rng.lognormal(-1.5, 0.3, n),
            "latency_s": rng.lognormal(0, 0.3, n),
            "output_tps": rng.normal(50, 5, n),
        }
    )


def test_per_run_values_and_baseline_match_references() -> None:
    df = synth()
    tr = trends(df, ["exact"], baseline_days=5)
    row = tr.filter((pl.col("target") == "t0") & (pl.col("run_id") == "r0040")).row(0, named=True)
    own = df.filter((pl.col("target") == "t0") & (pl.col("run_id") == "r0040"))["score_exact"]
    lo, hi = proportion_confint(own.sum(), own.len(), method="wilson")
    assert row["value"] == pytest.approx(own.mean())
    assert (row["lo"], row["hi"]) == pytest.approx((lo, hi), abs=1e-12)
    # prior runs within 5 days: runs 25..39 (every 8 h: 15 runs), never the run itself
    prior = np.array(
        [
            df.filter((pl.col("target") == "t0") & (pl.col("run_id") == f"r{i:04d}"))["score_exact"]
            .to_numpy()
            .mean()
            for i in range(25, 40)
        ]
    )
    assert row["baseline_runs"] == 15 and row["baseline"] == pytest.approx(np.mean(prior))
    k, s = len(prior), np.std(prior, ddof=1)
    t_stat = (row["value"] - np.mean(prior)) / (s * np.sqrt(1 + 1 / k))
    assert row["p_value"] == pytest.approx(2 * stats.t.sf(abs(t_stat), k - 1), rel=1e-9)
    first = tr.filter(pl.col("run_id").is_in(["r0000", "r0001", "r0002"]))
    assert first["flag"].null_count() == first.height  # fewer than min_runs prior runs


def test_flags_about_alpha_under_null_and_catch_a_drop() -> None:
    null = trends(synth(runs=300, targets=3, seed=1))
    tested = null.filter(pl.col("p_value").is_not_null())
    rate = tested["flag"].is_not_null().mean()
    assert isinstance(rate, float)
    sd = np.sqrt(0.05 * 0.95 / tested.height)
    assert abs(rate - 0.05) < 6 * sd  # runs share baselines, so allow a wider band
    drop = trends(synth(runs=80, targets=3, seed=2, drop_at=60), ["exact"], baseline_days=30)
    at = drop.filter(pl.col("run_id") == "r0060")
    assert at["flag"].to_list() == ["regression"] * 3


def test_windows_pool_the_runs_in_each_window() -> None:
    df = synth(runs=400, targets=1, seed=3)  # 400 runs x 8 h = 133 days
    win = trend_windows(df, ["exact", "ttft_p50_s"])
    newest = df["started_at"].max()
    for days in (7, 30, 90):
        r = win.filter((pl.col("window_days") == days) & (pl.col("metric") == "score_exact"))
        r = r.row(0, named=True)
        rows = df.filter(pl.col("started_at") >= newest - timedelta(days=days))  # type: ignore[operator]
        assert r["runs"] == rows["run_id"].n_unique() and r["n"] == rows.height
        assert r["value"] == pytest.approx(rows["score_exact"].mean())
        assert r["lo"] < r["value"] < r["hi"]


def test_cli_trends_flags_the_newest_run(tmp_path: Any, capsys: Any) -> None:
    n, home = 12, str(tmp_path / "home")
    suite = tmp_path / "s.yaml"
    lines = ["name: s", "cases:"]
    for i in range(n):
        lines += [f"  - id: q{i}", f"    input: q{i}", "    expected: 'yes'"]
    suite.write_text("\n".join(lines) + "\n")
    for good in (10, 11, 10, 11, 10, 0):  # five steady runs, then everything fails
        answers = {f"q{i}": "yes" if i < good else "no" for i in range(n)}
        with SimServer([SimModel("m", ttft_s=0, itl_s=0, tokens=2)], answers=answers) as sim:
            argv = ["run", str(suite), "-m", "openai/m", "--api-base", sim.base_url]
            assert main([*argv, "--cache", "off", "--json", "--quiet", "--home", home]) == 0
    capsys.readouterr()
    assert main(["trends", "s", "--home", home, "--metric", "exact", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    newest = max(out["runs"], key=lambda r: r["run_time"])
    assert newest["flag"] == "regression" and newest["baseline_runs"] == 5
    assert main(["trends", "s", "--home", home, "--metric", "exact", "--fail-on-regression"]) == 1
    text = capsys.readouterr().out
    assert "regression" in text and "(6 runs)" in text
    assert main(["trends", "nope", "--home", home]) == 2
