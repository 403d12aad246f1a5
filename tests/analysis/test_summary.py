"""summarize/leaderboard_text: every score mean carries its interval, n and unscored count."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint

from benchwork.analysis import leaderboard, leaderboard_text, summarize


def results(
    scores: dict[str, list[float | None]], errors: dict[str, int] | None = None
) -> pl.DataFrame:
    parts = []
    for target, vals in scores.items():
        n = len(vals)
        status = ["error"] * (errors or {}).get(target, 0)
        status += ["ok"] * (n - len(status))
        parts.append(
            pl.DataFrame(
                {
                    "case_id": [f"c{i}" for i in range(n)],
                    "target": target,
                    "warmup": False,
                    "cached": False,
                    "status": status,
                    "input_tokens": 10,
                    "output_tokens": 5,
                    "cost_usd": 0.001,
                    "ttft_s": 0.1,
                    "latency_s": 0.5,
                    "output_tps": 40.0,
                    "score_exact": pl.Series(vals, dtype=pl.Float64),
                }
            )
        )
    return pl.concat(parts)


def test_summary_scores_carry_n_unscored_and_wilson_interval() -> None:
    rng = np.random.default_rng(0)
    good: list[float | None] = [float(v) for v in rng.random(40) < 0.7]
    partial: list[float | None] = [None] * 5 + [float(v) for v in rng.random(35) < 0.4]
    s = summarize(results({"good": good, "partial": partial}, errors={"partial": 5}))
    row = {r["target"]: r for r in s.iter_rows(named=True)}
    p = row["partial"]
    assert p["score_exact_n"] == 35 and p["score_exact_unscored"] == 5 and p["calls"] == 40
    scored = [v for v in partial if v is not None]
    assert p["score_exact_mean"] == pytest.approx(np.mean(scored))
    lo, hi = proportion_confint(sum(scored), 35, alpha=0.05, method="wilson")
    assert (p["score_exact_lo"], p["score_exact_hi"]) == pytest.approx((lo, hi), abs=1e-12)
    assert p["score_exact_method"] == "wilson"
    assert row["good"]["score_exact_unscored"] == 0 and row["good"]["score_exact_n"] == 40


def test_text_marks_unscored_rows() -> None:
    partial: list[float | None] = [None, None, 1.0, 0.0, 1.0, 1.0, 0.0]
    s = summarize(results({"good": [1.0, 0.0, 1.0, 1.0], "partial": partial}))
    text = leaderboard_text(s)
    lines = {line.split()[1]: line for line in text.splitlines()[2:] if line[:1].isdigit()}
    assert "(2 unscored)" in lines["partial"] and "unscored)" not in lines["good"]
    mean = s.filter(pl.col("target") == "partial")["score_exact_mean"].item()
    assert f"{mean * 100:.1f}% [" in lines["partial"]
    assert "unscored rows" in text.splitlines()[-1]
    clean = leaderboard_text(summarize(results({"good": [1.0, 0.0, 1.0]})))
    assert "unscored" not in clean


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.one_of(st.none(), st.sampled_from([0.0, 1.0]), st.floats(0, 1)), min_size=1, max_size=30
    )
)
def test_n_plus_unscored_is_calls(vals: list[float | None]) -> None:
    row = summarize(results({"t": vals})).row(0, named=True)
    assert row["score_exact_n"] + row["score_exact_unscored"] == row["calls"] == len(vals)
    assert row["score_exact_n"] == sum(v is not None for v in vals)
    if row["score_exact_n"] >= 2 and row["score_exact_lo"] is not None:
        assert row["score_exact_lo"] <= row["score_exact_mean"] + 1e-12
        assert row["score_exact_mean"] <= row["score_exact_hi"] + 1e-12


def test_speed_p50_bounds_match_the_leaderboard_and_show_in_text() -> None:
    rng = np.random.default_rng(5)
    df = results({"t": [1.0] * 30, "u": [0.0] * 30}).with_columns(
        pl.Series("ttft_s", rng.lognormal(-2, 0.4, 60)),
        pl.Series("latency_s", rng.lognormal(0, 0.3, 60)),
        pl.Series("output_tps", rng.normal(50, 5, 60)),
    )
    s = summarize(df).sort("target")
    lb = leaderboard(df).sort("target")
    for col in ("ttft_p50_lo_s", "ttft_p50_hi_s", "latency_p50_hi_s", "output_tps_p50_lo"):
        assert s[col].to_list() == pytest.approx(lb[col].to_list(), rel=1e-12)
    assert (s["ttft_p50_lo_s"] <= s["ttft_p50_s"]).all()
    line = next(x for x in leaderboard_text(s).splitlines() if x.startswith("1 "))
    target = s.sort("score_exact_mean", descending=True).row(0, named=True)
    assert f"[{target['ttft_p50_lo_s'] * 1000:,.0f}, {target['ttft_p50_hi_s'] * 1000:,.0f}]" in line
