"""Seeded coverage simulation: 95 % intervals cover the truth in about 95 % of trials."""

from __future__ import annotations

import numpy as np
import polars as pl

from benchwork.analysis._scores import score_stats

TRIALS = 1000


def _within(hits: int, p: float = 0.95) -> bool:
    sd = np.sqrt(TRIALS * p * (1 - p))
    return abs(hits - TRIALS * p) < 4 * sd  # binomial tolerance (about +/- 2.8 points)


def test_wilson_and_clt_cover() -> None:
    rng = np.random.default_rng(0)
    n, p_true = 80, 0.3
    binary = (rng.random((TRIALS, n)) < p_true).astype(float)
    cont = rng.beta(2, 5, (TRIALS, n))
    frame = pl.DataFrame(
        {
            "target": np.repeat(np.arange(TRIALS).astype(str), n),
            "score_b": binary.ravel(),
            "score_c": cont.ravel(),
        }
    )
    st = score_stats(frame, ["target"], ["score_b", "score_c"])
    assert set(st["score_b_method"]) == {"wilson"} and set(st["score_c_method"]) == {"clt"}
    cover_b = ((st["score_b_lo"] <= p_true) & (st["score_b_hi"] >= p_true)).sum()
    cover_c = ((st["score_c_lo"] <= 2 / 7) & (st["score_c_hi"] >= 2 / 7)).sum()
    assert _within(cover_b) and _within(cover_c)


def test_clustered_covers_where_naive_falls_short() -> None:
    rng = np.random.default_rng(1)
    cases, reps = 60, 5
    case_effect = rng.normal(0, 0.2, (TRIALS, cases, 1))  # answers within a case agree
    y = np.clip(0.5 + case_effect + rng.normal(0, 0.05, (TRIALS, cases, reps)), 0, 1)
    frame = pl.DataFrame(
        {
            "target": np.repeat(np.arange(TRIALS).astype(str), cases * reps),
            "case_id": np.tile(np.repeat(np.arange(cases).astype(str), reps), TRIALS),
            "score_s": y.ravel(),
        }
    )
    truth = 0.5
    clustered = score_stats(frame, ["target"], ["score_s"])
    naive = score_stats(frame.drop("case_id"), ["target"], ["score_s"])
    assert set(clustered["score_s_method"]) == {"cluster"}
    cov = ((clustered["score_s_lo"] <= truth) & (clustered["score_s_hi"] >= truth)).sum()
    cov_naive = ((naive["score_s_lo"] <= truth) & (naive["score_s_hi"] >= truth)).sum()
    assert _within(cov)
    assert cov_naive < 0.85 * TRIALS
