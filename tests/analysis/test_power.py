"""Power against statsmodels.stats.power / proportion and a seeded McNemar simulation."""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.power import TTestPower
from statsmodels.stats.proportion import samplesize_confint_proportion

from benchwork.analysis import (
    compare_targets,
    mcnemar_power,
    mde_mcnemar,
    mde_paired,
    n_for_half_width,
    n_mcnemar,
    n_paired,
    pair_power,
    paired_t_power,
    target_power,
)


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(5, 2000),
    sd=st.floats(0.01, 2.0),
    alpha=st.sampled_from([0.01, 0.05, 0.1]),
    power=st.floats(0.5, 0.95),
)
def test_mde_paired_matches_statsmodels(n: int, sd: float, alpha: float, power: float) -> None:
    ref = abs(np.ravel(TTestPower().solve_power(nobs=n, alpha=alpha, power=power))[0]) * sd
    mde = mde_paired(n, sd, alpha=alpha, power=power)
    assert mde == pytest.approx(ref, rel=1e-4)  # statsmodels' root is solved less tightly
    assert paired_t_power(n, mde, sd, alpha) == pytest.approx(power, abs=1e-9)
    assert TTestPower().power(mde / sd, n, alpha) == pytest.approx(power, abs=1e-9)


@settings(max_examples=25, deadline=None)
@given(
    d=st.floats(0.1, 1.5),
    alpha=st.sampled_from([0.01, 0.05]),
    power=st.floats(0.6, 0.95),
)
def test_n_paired_matches_statsmodels(d: float, alpha: float, power: float) -> None:
    ref = TTestPower().solve_power(effect_size=d, alpha=alpha, power=power)
    assert n_paired(d * 0.2, 0.2, alpha=alpha, power=power) == math.ceil(ref - 1e-6)


def _p(b: int, c: int) -> float:
    res: Any = mcnemar(np.array([[0, b], [c, 0]]), exact=True)
    return float(res.pvalue)


@pytest.mark.parametrize(
    ("effect", "psi", "n"), [(0.1, 0.3, 120), (0.05, 0.2, 300), (0.0, 0.3, 80)]
)
def test_mcnemar_power_matches_simulated_statsmodels_test(
    effect: float, psi: float, n: int
) -> None:
    rng = np.random.default_rng(0)
    trials = 2000
    p10, p01 = (psi + effect) / 2, (psi - effect) / 2
    u = rng.random((trials, n))
    b_cnt, c_cnt = (u < p10).sum(axis=1), ((u >= p10) & (u < p10 + p01)).sum(axis=1)
    rejected = sum(_p(b, c) < 0.05 for b, c in zip(b_cnt, c_cnt, strict=True))
    exact = mcnemar_power(n, effect, psi, 0.05)
    assert abs(rejected / trials - exact) < 4 * math.sqrt(exact * (1 - exact) / trials) + 1e-3


@pytest.mark.parametrize(("effect", "psi"), [(0.1, 0.3), (0.05, 0.2), (0.2, 0.25)])
def test_n_and_mde_mcnemar_hit_the_wanted_power(effect: float, psi: float) -> None:
    n = n_mcnemar(effect, psi, power=0.8)
    assert mcnemar_power(n, effect, psi) >= 0.8 > mcnemar_power(n - 1, effect, psi)
    mde = mde_mcnemar(n, psi, power=0.8)
    assert mde <= effect and mcnemar_power(n, mde, psi) == pytest.approx(0.8, abs=1e-3)


@pytest.mark.parametrize(("p", "h"), [(0.3, 0.02), (0.5, 0.05), (0.9, 0.01)])
def test_half_width_n_matches_statsmodels(p: float, h: float) -> None:
    ref = samplesize_confint_proportion(p, h, alpha=0.05)
    assert n_for_half_width(math.sqrt(p * (1 - p)), h) == math.ceil(ref - 1e-9)


def _frame(a: np.ndarray, b: np.ndarray) -> pl.DataFrame:
    n = a.size
    return pl.DataFrame(
        {
            "case_id": [f"c{i}" for i in range(n)] * 2,
            "target": ["a"] * n + ["b"] * n,
            "warmup": False,
            "score_s": np.r_[a, b].astype(float),
        }
    )


def test_pair_power_uses_the_observed_pairs() -> None:
    rng = np.random.default_rng(3)
    a = rng.beta(2, 2, 90)
    b = np.clip(a + rng.normal(-0.02, 0.1, 90), 0, 1)
    pw = pair_power(_frame(a, b), targets=["a", "b"], effect=0.03).row(0, named=True)
    sd = float(np.std(a - b, ddof=1))
    assert pw["power_method"] == "paired t" and pw["sd_diff"] == pytest.approx(sd)
    assert pw["mde"] == pytest.approx(mde_paired(90, sd), rel=1e-9)
    assert pw["n_needed"] == n_paired(0.03, sd)
    binary = _frame((a > 0.5).astype(float), (b > 0.5).astype(float))
    pb = pair_power(binary, targets=["a", "b"], effect=0.05).row(0, named=True)
    cmp = compare_targets(binary, targets=["a", "b"]).row(0, named=True)
    psi = (cmp["a_only"] + cmp["b_only"]) / 90
    assert pb["power_method"] == "mcnemar" and pb["discordant"] == pytest.approx(psi)
    assert pb["n_needed"] == n_mcnemar(0.05, psi)


def test_target_power_half_widths() -> None:
    rng = np.random.default_rng(4)
    a = (rng.random(200) < 0.3).astype(float)
    out = target_power(_frame(a, rng.random(200)).filter(pl.col("target") == "a"), half_width=0.02)
    row = out.row(0, named=True)
    p = a.mean()
    assert row["method"] == "wilson" and row["n"] == 200
    assert row["n_needed"] == math.ceil(samplesize_confint_proportion(p, 0.02) - 1e-9)
    cont = target_power(_frame(rng.random(200), rng.random(200)), half_width=0.01)
    r = cont.filter(pl.col("target") == "a").row(0, named=True)
    assert r["method"] == "clt"
    z = NormalDist().inv_cdf(0.975)  # at n_needed rows the half-width is (just) within 0.01
    assert (
        z * r["sd"] / math.sqrt(r["n_needed"]) <= 0.01 < z * r["sd"] / math.sqrt(r["n_needed"] - 1)
    )


def test_degenerate_samples_give_null_not_zero_or_nan() -> None:
    perfect = np.ones(24)
    out = target_power(_frame(perfect, perfect), half_width=0.05)
    assert out["n_needed"].null_count() == 2  # no spread: nothing to plan from
    few = np.r_[np.ones(6), np.zeros(18)]  # a passes 6 cases b fails, they agree elsewhere
    row = pair_power(_frame(few, np.zeros(24)), targets=["a", "b"]).row(0, named=True)
    assert row["discordant"] == pytest.approx(0.25)
    assert row["mde"] is None  # 24 cases with 25 % discordant cannot reach 80 % power
    assert mcnemar_power(24, 0.25, 0.25) < 0.8
