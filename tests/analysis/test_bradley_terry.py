"""Bradley–Terry against statsmodels GLM and scipy.stats.bootstrap; pairwise summary vs Wilson."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
import pytest
from scipy import stats
from statsmodels.genmod.families import Binomial
from statsmodels.genmod.generalized_linear_model import GLM
from statsmodels.stats.proportion import proportion_confint

from benchwork.analysis import bradley_terry, pairwise_summary
from benchwork.analysis._bradley_terry import bt_fit, verdicts

TRUE = {"a": 0.8, "b": 0.1, "c": -0.2, "d": -0.7}


def battles(n: int, seed: int, ties: float = 0.0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    names = list(TRUE)
    rows = []
    for _ in range(n):
        x, y = rng.choice(names, 2, replace=False)
        p = 1.0 / (1.0 + np.exp(-(TRUE[x] - TRUE[y])))
        w = "tie" if rng.random() < ties else ("a" if rng.random() < p else "b")
        rows.append((str(x), str(y), w))
    return pl.DataFrame(rows, schema=["target_a", "target_b", "winner"], orient="row")


def test_strengths_match_statsmodels_logistic_regression() -> None:
    df = battles(800, seed=0)
    bt = bradley_terry(df, prior=0.0, n_boot=10)
    names = sorted(TRUE)
    g = df.group_by("target_a", "target_b").agg(
        (pl.col("winner") == "a").sum().alias("w"), (pl.col("winner") == "b").sum().alias("l")
    )
    x = np.zeros((g.height, len(names)))
    for r, (ta, tb) in enumerate(zip(g["target_a"], g["target_b"], strict=True)):
        x[r, names.index(ta)], x[r, names.index(tb)] = 1.0, -1.0
    endog = np.column_stack([g["w"].to_numpy(), g["l"].to_numpy()]).astype(float)
    fit: Any = GLM(endog, x[:, 1:], family=Binomial()).fit()  # "a" is the reference (0)
    ref = np.r_[0.0, fit.params]
    ours = {r["target"]: r["strength"] for r in bt.iter_rows(named=True)}
    got = np.array([ours[t] for t in names])
    assert np.allclose(got - got[0], ref, atol=1e-7)
    assert bt["target"].to_list() == ["a", "b", "c", "d"]  # the true order at n = 800


def test_bootstrap_interval_matches_scipy() -> None:
    df = battles(300, seed=1, ties=0.1)
    names = sorted(TRUE)
    ours = bradley_terry(df, n_boot=2000, seed=0).filter(pl.col("target") == "a").row(0, named=True)
    ia = np.array([names.index(t) for t in df["target_a"]])
    ib = np.array([names.index(t) for t in df["target_b"]])
    aw = df["winner"].replace_strict({"a": 1.0, "b": 0.0, "tie": 0.5}).to_numpy()

    def strength_a(idx: np.ndarray) -> float:
        idx = idx.astype(int)
        wins, games = np.zeros(4), np.zeros((4, 4))
        np.add.at(wins, ia[idx], aw[idx])
        np.add.at(wins, ib[idx], 1.0 - aw[idx])
        np.add.at(games, (ia[idx], ib[idx]), 1.0)
        np.add.at(games, (ib[idx], ia[idx]), 1.0)
        played = games > 0
        return float(bt_fit(wins + 0.25 * played.sum(axis=1), games + 0.5 * played)[0])

    res: Any = stats.bootstrap(
        (np.arange(df.height, dtype=float),),
        strength_a,
        vectorized=False,
        n_resamples=2000,
        method="percentile",
        rng=np.random.default_rng(0),
    )
    ci = res.confidence_interval
    width = ci.high - ci.low
    assert abs(ours["lo"] - ci.low) < 0.08 * width and abs(ours["hi"] - ci.high) < 0.08 * width
    assert ours["strength"] == pytest.approx(strength_a(np.arange(df.height)), abs=1e-8)


def test_ties_and_dict_input_and_perfect_records() -> None:
    even = {("x", "y"): pl.DataFrame({"winner": ["tie"] * 6 + ["a", "b"]})}
    out = bradley_terry(even, n_boot=200)
    assert np.allclose(out["strength"].to_numpy(), 0.0, atol=1e-9) and set(out["rank"]) == {"1–2"}
    assert verdicts(even)["target_a"].to_list() == ["x"] * 8
    perfect = pl.DataFrame(
        {"target_a": ["p", "p", "q"] * 5, "target_b": ["q", "r", "r"] * 5, "winner": ["a"] * 15}
    )
    bt = bradley_terry(perfect, n_boot=200)
    assert np.isfinite(bt["strength"].to_numpy()).all() and bt["target"].to_list() == [
        "p",
        "q",
        "r",
    ]


def test_pairwise_summary_intervals_are_wilson() -> None:
    f = pl.DataFrame(
        {
            "winner": ["a"] * 13 + ["b"] * 5 + ["tie"] * 2 + [None],
            "position_bias": [False] * 16 + [True] * 4 + [None],
            "judge_cost_usd": 0.001,
        }
    )
    s = pairwise_summary(f).row(0, named=True)
    for name, k in (("win_rate_a", 13), ("win_rate_b", 5), ("position_bias_rate", 4)):
        lo, hi = proportion_confint(k, 20, method="wilson")
        assert (s[f"{name}_lo"], s[f"{name}_hi"]) == pytest.approx((lo, hi), abs=1e-12)
    empty = pairwise_summary(f.head(0)).row(0, named=True)
    assert empty["win_rate_a_lo"] is None
