"""Leaderboard intervals against their references (statsmodels, scipy); synthetic frames only."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats
from statsmodels.regression.linear_model import OLS
from statsmodels.stats.proportion import proportion_confint

from benchwork.analysis import leaderboard
from benchwork.analysis._intervals import holm, quantile_ci, wilson


def synth(n_targets: int = 3, n_cases: int = 60, repeats: int = 1, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    rows = n_targets * n_cases * repeats
    ttft = rng.lognormal(-1.5, 0.3, rows)
    return pl.DataFrame(
        {
            "case_id": np.tile(np.repeat([f"c{i}" for i in range(n_cases)], repeats), n_targets),
            "target": np.repeat([f"t{i}" for i in range(n_targets)], n_cases * repeats),
            "repeat": np.tile(np.arange(repeats), n_targets * n_cases),
            "warmup": False,
            "cached": False,
            "status": "ok",
            "ttft_s": ttft,
            "latency_s": ttft + rng.exponential(1, rows),
            "output_tps": rng.normal(50, 5, rows),
            "itl_mean_s": rng.normal(0.02, 0.002, rows),
            "cost_usd": 0.001,
            "score_exact": (rng.random(rows) < 0.6).astype(float),
            "score_sim": rng.random(rows),
        }
    )


@pytest.mark.parametrize(("k", "n"), [(0, 10), (3, 10), (10, 10), (37, 120)])
def test_wilson_matches_statsmodels(k: int, n: int) -> None:
    lo, hi = wilson(k, n, 0.95)
    ref = proportion_confint(k, n, alpha=0.05, method="wilson")
    assert lo == pytest.approx(ref[0], abs=1e-12) and hi == pytest.approx(ref[1], abs=1e-12)


def test_cluster_se_matches_statsmodels_ols() -> None:
    df = synth(n_targets=1, n_cases=40, repeats=3)
    row = leaderboard(df).row(0, named=True)
    assert row["score_sim_method"] == "cluster"
    y = df["score_sim"].to_numpy()
    groups = pl.Series(df["case_id"]).cast(pl.Categorical).to_physical().to_numpy()
    fit = OLS(y, np.ones_like(y)).fit(cov_type="cluster", cov_kwds={"groups": groups})
    lo, hi = fit.conf_int(0.05)[0]
    assert row["score_sim_lo"] == pytest.approx(lo, rel=1e-9)
    assert row["score_sim_hi"] == pytest.approx(hi, rel=1e-9)


@pytest.mark.parametrize("q", [0.5, 0.95])
def test_exact_quantile_bootstrap_matches_scipy(q: float) -> None:
    x = np.sort(np.random.default_rng(1).exponential(size=200))
    _, lo, hi = quantile_ci(x, np.array([0]), np.array([200]), q, 0.95)
    ref = stats.bootstrap(
        (x,),
        lambda a, axis: np.quantile(a, q, axis=axis),
        method="percentile",
        n_resamples=20000,
        random_state=0,
    ).confidence_interval
    spread = x[-1] - x[0]
    assert abs(lo[0] - ref.low) < 0.02 * spread and abs(hi[0] - ref.high) < 0.02 * spread


def test_holm_matches_statsmodels() -> None:
    from statsmodels.stats.multitest import multipletests

    p = np.random.default_rng(2).random(12) / 5
    assert np.allclose(holm(p), multipletests(p, method="holm")[1])


def test_leaderboard_columns_and_null_cost_rule() -> None:
    df = synth().with_columns(
        pl.when(pl.arange(0, pl.len()) == 0)
        .then(None)
        .otherwise(pl.col("cost_usd"))
        .alias("cost_usd")
    )
    lb = leaderboard(df)
    t0 = lb.filter(pl.col("target") == "t0").row(0, named=True)
    assert t0["cost_usd"] is None and t0["cost_unknown"] == 1 and t0["value_note"] == "cost unknown"
    for c in ("score_exact_n", "score_exact_unscored", "ttft_p50_lo_s", "ttft_jitter", "rank"):
        assert c in lb.columns
    assert (lb["score_exact_lo"] <= lb["score_exact_mean"]).all()
    assert (lb["score_exact_mean"] <= lb["score_exact_hi"]).all()
