"""compare_targets against scipy/statsmodels, invariants under hypothesis, and seeded simulations."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.regression.linear_model import OLS
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests

from benchwork.analysis import compare_targets, verdict_matrix

TRIALS = 1000


def frame(values: dict[str, np.ndarray], repeats: int = 1, **extra: object) -> pl.DataFrame:
    """Long results frame: values[target] has shape (cases * repeats,), case-major."""
    parts = []
    for target, v in values.items():
        n = v.size // repeats
        parts.append(
            pl.DataFrame(
                {
                    "case_id": np.repeat([f"c{i}" for i in range(n)], repeats),
                    "target": target,
                    "repeat": np.tile(np.arange(repeats), n),
                    "warmup": False,
                    "status": "ok",
                    "score_s": v.astype(float),
                    **extra,
                }
            )
        )
    return pl.concat(parts)


def one(df: pl.DataFrame, **kw: object) -> dict:
    out = compare_targets(df, targets=["a", "b"], **kw)  # type: ignore[arg-type]
    assert out.height == 1
    return out.row(0, named=True)


@pytest.mark.parametrize("seed", range(6))
def test_mcnemar_matches_statsmodels(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(10, 200))
    a = (rng.random(n) < rng.uniform(0.2, 0.9)).astype(float)
    b = np.where(rng.random(n) < 0.7, a, (rng.random(n) < 0.5).astype(float))
    r = one(frame({"a": a, "b": b}))
    table = [[np.sum((a == 1) & (b == 1)), np.sum((a == 1) & (b == 0))]]
    table.append([np.sum((a == 0) & (b == 1)), np.sum((a == 0) & (b == 0))])
    ref: Any = mcnemar(np.array(table), exact=True)
    assert r["test"] == "mcnemar"
    assert r["p_value"] == pytest.approx(ref.pvalue, rel=1e-10)
    assert r["statistic"] == pytest.approx(ref.statistic)
    assert (r["a_only"], r["b_only"]) == (table[0][1], table[1][0])
    assert r["diff"] == pytest.approx(a.mean() - b.mean())


@pytest.mark.parametrize("seed", range(4))
def test_wilcoxon_and_paired_t_match_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(8, 120))
    a = rng.beta(2, 3, n)
    b = np.clip(a + rng.normal(0.03, 0.1, n), 0, 1)
    df = frame({"a": a, "b": b})
    w = one(df)
    ref_w: Any = stats.wilcoxon(a, b)
    assert w["test"] == "wilcoxon"
    assert w["p_value"] == pytest.approx(ref_w.pvalue, rel=1e-9)
    assert w["statistic"] == pytest.approx(ref_w.statistic)
    t = one(df, test="t", confidence=0.9)
    ref_t = stats.ttest_rel(a, b)
    ci = ref_t.confidence_interval(0.9)
    assert t["p_value"] == pytest.approx(ref_t.pvalue, rel=1e-9)
    assert t["statistic"] == pytest.approx(ref_t.statistic, rel=1e-9)
    assert (t["diff_lo"], t["diff_hi"]) == pytest.approx((ci.low, ci.high), rel=1e-9)
    assert t["rho"] == pytest.approx(np.corrcoef(a, b)[0, 1])


def test_repeats_interval_is_cluster_robust_by_case() -> None:
    """Balanced repeats: SE equals statsmodels' row-level OLS clustered by case (CR0) x G/(G-1)."""
    rng = np.random.default_rng(5)
    cases, reps = 40, 3
    case = np.repeat(np.arange(cases), reps)
    ya = rng.normal(0.5, 0.2, cases)[case] + rng.normal(0, 0.1, cases * reps)
    yb = 0.5 * ya + rng.normal(0.2, 0.15, cases * reps)
    r = one(frame({"a": ya, "b": yb}, repeats=reps), test="t")
    assert r["interval"] == "cluster" and r["repeats"] == reps and r["n_pairs"] == cases
    y = np.concatenate([ya, yb])
    x = np.column_stack([np.ones(y.size), np.r_[np.ones(ya.size), np.zeros(yb.size)]])
    fit = OLS(y, x).fit(
        cov_type="cluster", cov_kwds={"groups": np.r_[case, case], "use_correction": False}
    )
    se = fit.bse[1] * np.sqrt(cases / (cases - 1))
    tcrit = stats.t.ppf(0.975, cases - 1)
    assert r["diff"] == pytest.approx(fit.params[1], rel=1e-9)
    assert r["diff_hi"] - r["diff"] == pytest.approx(tcrit * se, rel=1e-9)


def test_named_cluster_matches_statsmodels() -> None:
    rng = np.random.default_rng(6)
    n, g = 90, 15
    ctx = np.repeat(np.arange(g), n // g)
    shared = rng.normal(0, 0.2, g)[ctx]
    a = 0.5 + shared + rng.normal(0, 0.1, n)
    b = 0.45 + shared + 0.5 * rng.normal(0, 0.2, g)[ctx] + rng.normal(0, 0.1, n)
    df = frame({"a": a, "b": b}, context=np.tile(ctx, 1))
    r = one(df, cluster="context")
    d = a - b
    fit = OLS(d, np.ones(n)).fit(cov_type="cluster", cov_kwds={"groups": ctx}, use_t=True)
    lo, hi = fit.conf_int(0.05)[0]
    assert r["test"] == "t" and r["interval"] == "cluster"
    assert (r["diff_lo"], r["diff_hi"]) == pytest.approx((lo, hi), rel=1e-9)
    assert r["p_value"] == pytest.approx(fit.pvalues[0], rel=1e-7)


def test_bootstrap_matches_scipy() -> None:
    rng = np.random.default_rng(7)
    a, b = rng.beta(2, 2, 150), rng.beta(2, 2.4, 150)
    r = one(frame({"a": a, "b": b}), test="bootstrap", n_boot=20000)
    ref = stats.bootstrap(
        (a - b,), np.mean, method="percentile", n_resamples=20000, rng=np.random.default_rng(0)
    ).confidence_interval
    width = ref.high - ref.low
    assert (
        abs(r["diff_lo"] - ref.low) < 0.03 * width and abs(r["diff_hi"] - ref.high) < 0.03 * width
    )


def test_holm_family_and_verdicts() -> None:
    rng = np.random.default_rng(8)
    n = 150
    base = rng.beta(2, 2, n)
    vals = {
        t: np.clip(base + rng.normal(shift, 0.1, n), 0, 1)
        for t, shift in [("a", 0.1), ("b", 0.0), ("c", 0.005), ("d", -0.1)]
    }
    out = compare_targets(frame(vals))
    assert out.height == 6
    ref: Any = multipletests(out["p_value"].to_numpy(), method="holm")[1]
    assert np.allclose(out["p_holm"].to_numpy(), ref)
    r = out.filter((pl.col("target_a") == "a") & (pl.col("target_b") == "d")).row(0, named=True)
    assert r["significant"] and r["better"] == "a" and r["verdict"] == "a better"
    m = verdict_matrix(out)
    assert m.filter(pl.col("target") == "a")["d"].item() == ">"
    assert m.filter(pl.col("target") == "d")["a"].item() == "<"
    only = compare_targets(frame(vals), baseline="b")
    assert set(only["target_b"]) == {"b"} and only.height == 3


def test_speed_lower_is_better_and_unpaired_cases_counted() -> None:
    rng = np.random.default_rng(9)
    n = 80
    slow, fast = rng.lognormal(-1, 0.2, n), rng.lognormal(-1.3, 0.2, n)
    df = frame({"a": slow, "b": fast}).with_columns(pl.col("score_s").alias("ttft_s"))
    df = df.with_columns(
        pl.when((pl.col("target") == "b") & (pl.col("case_id") == "c0"))
        .then(pl.lit("error"))
        .otherwise(pl.col("status"))
        .alias("status")
    )
    r = one(df, metric="ttft_s")
    assert r["metric"] == "ttft_s" and r["n_pairs"] == n - 1 and r["n_unpaired"] == 1
    assert r["better"] == "b" and r["diff"] > 0


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1), st.booleans()), min_size=3, max_size=40)
)
def test_invariants(rows: list[tuple[float, float, bool]]) -> None:
    a = np.array([r[0] for r in rows])
    b = np.array([r[1] if r[2] else r[0] for r in rows])
    df = frame({"a": a, "b": b})
    ab, ba = one(df), compare_targets(df, targets=["b", "a"]).row(0, named=True)
    assert ab["diff"] == pytest.approx(a.mean() - b.mean(), abs=1e-12)
    assert ba["diff"] == pytest.approx(-ab["diff"], abs=1e-12)
    assert ab["p_value"] == pytest.approx(ba["p_value"])
    assert 0.0 <= ab["p_value"] <= 1.0 and ab["p_holm"] >= ab["p_value"] - 1e-15
    if ab["diff_lo"] is not None:
        assert ab["diff_lo"] <= ab["diff"] + 1e-12 <= ab["diff_hi"] + 2e-12


def _trials(a: np.ndarray, b: np.ndarray, repeats: int = 1) -> pl.DataFrame:
    """a, b: (TRIALS, cases * repeats) -> one frame with a ``trial`` column."""
    cases = a.shape[1] // repeats
    n = a.shape[1]
    return pl.DataFrame(
        {
            "trial": np.repeat(np.arange(TRIALS), 2 * n),
            "case_id": np.tile(np.repeat(np.arange(cases), repeats).astype(str), 2 * TRIALS),
            "target": np.tile(np.repeat(["a", "b"], n), TRIALS),
            "score_s": np.concatenate([a, b], axis=1).ravel(),
        }
    )


def _within(hits: int, p: float) -> bool:
    return abs(hits - TRIALS * p) < 4 * np.sqrt(TRIALS * p * (1 - p))


def test_paired_interval_covers_and_null_rejects_at_alpha() -> None:
    rng = np.random.default_rng(10)
    n, true_diff = 60, 0.04
    skill = rng.beta(2, 2, (TRIALS, n))  # case difficulty shared by both targets
    a = np.clip(skill + true_diff + rng.normal(0, 0.1, (TRIALS, n)), -1, 2)
    b = np.clip(skill + rng.normal(0, 0.1, (TRIALS, n)), -1, 2)
    out = compare_targets(_trials(a, b), by="trial", targets=["a", "b"], test="t")
    covered = ((out["diff_lo"] <= true_diff) & (out["diff_hi"] >= true_diff)).sum()
    assert _within(int(covered), 0.95)
    null = compare_targets(_trials(a - true_diff, b), by="trial", targets=["a", "b"])
    assert set(null["test"]) == {"wilcoxon"}
    assert _within(int((null["p_value"] < 0.05).sum()), 0.05)


def test_mcnemar_false_positive_rate_at_most_alpha() -> None:
    rng = np.random.default_rng(11)
    n = 120
    p_case = rng.beta(1, 1, (TRIALS, n))  # both targets equally good on each case
    a = (rng.random((TRIALS, n)) < p_case).astype(float)
    b = (rng.random((TRIALS, n)) < p_case).astype(float)
    out = compare_targets(_trials(a, b), by="trial", targets=["a", "b"])
    assert set(out["test"]) == {"mcnemar"}
    rate = float(np.mean(out["p_value"].to_numpy() < 0.05))
    assert 0.015 < rate <= 0.05 + 4 * np.sqrt(0.05 * 0.95 / TRIALS)  # exact test: conservative


def test_clustered_interval_covers_with_repeats() -> None:
    rng = np.random.default_rng(12)
    cases, reps, true_diff = 50, 4, 0.03
    case_gap = rng.normal(true_diff, 0.1, (TRIALS, cases, 1))  # the gap varies by case
    base = rng.beta(2, 2, (TRIALS, cases, 1))
    a = (base + case_gap + rng.normal(0, 0.05, (TRIALS, cases, reps))).reshape(TRIALS, -1)
    b = (base + rng.normal(0, 0.05, (TRIALS, cases, reps))).reshape(TRIALS, -1)
    out = compare_targets(_trials(a, b, reps), by="trial", targets=["a", "b"], test="t")
    assert set(out["interval"]) == {"cluster"}
    covered = ((out["diff_lo"] <= true_diff) & (out["diff_hi"] >= true_diff)).sum()
    assert _within(int(covered), 0.95)


def test_named_cluster_covers_where_case_level_pairing_falls_short() -> None:
    """Cases share a context (say, a document) whose effect on the gap is shared too."""
    rng = np.random.default_rng(13)
    contexts, per, true_diff = 20, 5, 0.05
    ctx = np.repeat(np.arange(contexts), per)
    gap = true_diff + rng.normal(0, 0.08, (TRIALS, contexts))[:, ctx]  # shared within a context
    base = rng.beta(2, 2, (TRIALS, contexts * per))
    a = base + gap + rng.normal(0, 0.02, base.shape)
    b = base + rng.normal(0, 0.02, base.shape)
    df = _trials(a, b).with_columns(pl.Series("context", np.tile(np.r_[ctx, ctx], TRIALS)))
    clustered = compare_targets(df, by="trial", targets=["a", "b"], cluster="context")
    naive = compare_targets(df, by="trial", targets=["a", "b"], test="t")
    hit = (pl.col("diff_lo") <= true_diff) & (pl.col("diff_hi") >= true_diff)
    assert _within(int(clustered.select(hit.sum()).item()), 0.95)
    assert naive.select(hit.sum()).item() < 0.75 * TRIALS
