"""compare_runs / flips against statsmodels, scipy; and ``benchwork compare`` on two stored runs."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests

from benchwork.analysis import compare_runs, flips, run_match
from benchwork.cli import main
from benchwork.errors import BenchworkError
from benchwork.sim import SimModel, SimServer


@dataclass
class FakeRun:
    results: pl.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)


def results(
    scores: dict[str, np.ndarray], ttft: dict[str, np.ndarray], cases: list[str] | None = None
) -> pl.DataFrame:
    parts = []
    for target, s in scores.items():
        ids = cases or [f"c{i}" for i in range(s.size)]
        parts.append(
            pl.DataFrame(
                {
                    "case_id": ids,
                    "target": target,
                    "warmup": False,
                    "status": "ok",
                    "score_exact": s.astype(float),
                    "ttft_s": ttft[target],
                    "latency_s": ttft[target] + 1.0,
                    "cost_usd": 0.001,
                }
            )
        )
    return pl.concat(parts)


def _pair(seed: int = 0, n: int = 150) -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    base_s = {t: rng.random(n) < p for t, p in (("x", 0.5), ("y", 0.6))}
    cand_s = {
        "x": np.where(rng.random(n) < 0.75, base_s["x"], rng.random(n) < 0.9),  # improves
        "y": np.where(rng.random(n) < 0.85, base_s["y"], rng.random(n) < 0.6),  # unchanged
    }
    t = {k: rng.lognormal(-1, 0.2, n) for k in ("x", "y")}
    t2 = {"x": t["x"] * 1.3, "y": t["y"] * rng.lognormal(0, 0.05, n)}  # x gets slower
    return results(base_s, t), results(cand_s, t2)


def test_scores_match_mcnemar_and_flips() -> None:
    base, cand = _pair()
    out = compare_runs(base, cand)
    assert set(out["metric"]) == {"score_exact", "ttft_s", "latency_s", "cost_usd"}
    for target in ("x", "y"):
        r = out.filter((pl.col("target") == target) & (pl.col("metric") == "score_exact"))
        r = r.row(0, named=True)
        b = base.filter(pl.col("target") == target)["score_exact"].to_numpy()
        c = cand.filter(pl.col("target") == target)["score_exact"].to_numpy()
        improvements, regressions = (
            int(((c == 1) & (b == 0)).sum()),
            int(((c == 0) & (b == 1)).sum()),
        )
        table = np.array([[0, improvements], [regressions, 0]])
        assert r["test"] == "mcnemar"
        ref: Any = mcnemar(table, exact=True)
        assert r["p_value"] == pytest.approx(ref.pvalue, rel=1e-10)
        assert (r["regressions"], r["improvements"]) == (regressions, improvements)
        assert r["diff"] == pytest.approx(c.mean() - b.mean())
        f = flips(base, cand).filter(pl.col("target") == target)
        assert (f["change"] == "regression").sum() == regressions
        assert (f["change"] == "improvement").sum() == improvements
    x = out.filter((pl.col("target") == "x") & (pl.col("metric") == "score_exact")).row(
        0, named=True
    )
    assert x["verdict"] == "better"


def test_speed_delta_wilcoxon_verdict_and_holm_per_metric() -> None:
    base, cand = _pair()
    out = compare_runs(base, cand)
    r = out.filter((pl.col("target") == "x") & (pl.col("metric") == "ttft_s")).row(0, named=True)
    b = base.filter(pl.col("target") == "x")["ttft_s"].to_numpy()
    c = cand.filter(pl.col("target") == "x")["ttft_s"].to_numpy()
    ref: Any = stats.wilcoxon(c, b)
    assert r["p_value"] == pytest.approx(ref.pvalue, rel=1e-9)
    ci = stats.ttest_rel(c, b).confidence_interval(0.95)
    assert (r["diff_lo"], r["diff_hi"]) == pytest.approx((ci.low, ci.high), rel=1e-9)
    assert r["verdict"] == "worse"  # slower TTFT is worse even though the difference is positive
    for metric in ("score_exact", "ttft_s"):
        sub = out.filter(pl.col("metric") == metric)
        holm: Any = multipletests(sub["p_value"].to_numpy(), method="holm")[1]
        assert np.allclose(sub["p_holm"].to_numpy(), holm)


def test_match_by_suite_hash_or_shared_cases() -> None:
    base, cand = _pair()
    same = run_match(FakeRun(base, {"suite_hash": "h1"}), FakeRun(cand, {"suite_hash": "h1"}))
    assert same.startswith("same suite (h1)")
    partial = cand.filter(pl.col("case_id") != "c0")
    other = run_match(FakeRun(base, {"suite_hash": "h1"}), FakeRun(partial, {"suite_hash": "h2"}))
    assert other.startswith("different suites; 149 shared cases (baseline 150, candidate 149)")
    out = compare_runs(base, partial)
    assert set(out["n_pairs"]) == {149} and set(out["n_unpaired"]) == {1}
    disjoint = cand.with_columns(pl.concat_str(pl.lit("z"), pl.col("case_id")).alias("case_id"))
    with pytest.raises(BenchworkError, match="share no case ids"):
        compare_runs(base, disjoint)


def test_null_verdict_rate_at_most_alpha() -> None:
    """Two runs of the same system: 'better' or 'worse' in at most ~alpha of trials."""
    rng = np.random.default_rng(3)
    trials, n, calls = 300, 80, 0
    p_case = rng.beta(1, 1, n)
    for _ in range(trials):
        b, c = (rng.random(n) < p_case), (rng.random(n) < p_case)
        t = {"x": rng.lognormal(-1, 0.2, n)}
        r = compare_runs(results({"x": b}, t), results({"x": c}, t), metrics=["exact"])
        calls += r["verdict"].item() != "no detectable difference"
    assert calls / trials <= 0.05 + 4 * np.sqrt(0.05 * 0.95 / trials)


def test_cli_compare_table_json_and_fail_on_worse(tmp_path: Any, capsys: Any) -> None:
    n = 12
    home = str(tmp_path / "home")
    ids = []
    for good in (n, 2):
        answers = {f"q{i}": "yes" if i < good else "no" for i in range(n)}
        with SimServer([SimModel("m", ttft_s=0, itl_s=0, tokens=2)], answers=answers) as sim:
            suite = tmp_path / "s.yaml"
            lines = ["name: s", "cases:"]
            for i in range(n):
                lines += [f"  - id: q{i}", f"    input: q{i}", "    expected: 'yes'"]
            suite.write_text("\n".join(lines) + "\n")
            argv = ["run", str(suite), "-m", "openai/m", "--api-base", sim.base_url]
            assert main([*argv, "--cache", "off", "--json", "--quiet", "--home", home]) == 0
            ids.append(json.loads(capsys.readouterr().out)["run_id"])
    assert main(["compare", *ids, "--home", home, "--json", "--metric", "exact"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["rows"]
    assert (row["regressions"], row["improvements"]) == (10, 0)
    ref: Any = mcnemar([[2, 0], [10, 0]], exact=True)
    assert row["p_value"] == pytest.approx(ref.pvalue)
    assert row["verdict"] == "worse" and row["match"].startswith("same suite")
    assert main(["compare", *ids, "--home", home, "--metric", "exact", "--fail-on-worse"]) == 1
    text = capsys.readouterr().out
    assert f"baseline {ids[0]} vs candidate {ids[1]}" in text
    assert "10/0" in text and "worse" in text and "-83.3%" in text
    assert main(["compare", ids[0], "nope", "--home", home]) == 2


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.tuples(st.booleans(), st.booleans()), min_size=2, max_size=40),
    st.lists(st.floats(0.01, 2.0), min_size=40, max_size=40),
)
def test_swapping_runs_mirrors_the_result(cases: list[tuple[bool, bool]], t: list[float]) -> None:
    n = len(cases)
    b = np.array([c[0] for c in cases])
    c = np.array([c[1] for c in cases])
    ttft = {"x": np.array(t[:n])}
    base, cand = results({"x": b}, ttft), results({"x": c}, {"x": np.array(t[:n]) * 1.1})
    fwd, back = compare_runs(base, cand), compare_runs(cand, base)
    mirror = {"better": "worse", "worse": "better"}
    for f, r in zip(fwd.iter_rows(named=True), back.iter_rows(named=True), strict=True):
        assert f["metric"] == r["metric"] and f["n_pairs"] == r["n_pairs"] == n
        assert f["diff"] == pytest.approx(-r["diff"], abs=1e-12)
        assert f["p_value"] == pytest.approx(r["p_value"], rel=1e-9)
        assert (f["regressions"], f["improvements"]) == (r["improvements"], r["regressions"])
        assert f["verdict"] == mirror.get(r["verdict"], r["verdict"])
    assert flips(base, cand).height == int((b != c).sum())


def test_speed_compares_live_calls_only() -> None:
    base, cand = _pair()
    replay = base.with_columns(pl.lit(True).alias("cached"))  # the candidate came from the cache
    out = compare_runs(base.with_columns(pl.lit(False).alias("cached")), replay)
    speed = out.filter(pl.col("metric") == "ttft_s")
    assert set(speed["n_pairs"]) == {0} and set(speed["verdict"]) == {"no paired data"}
    scores = out.filter(pl.col("metric") == "score_exact")
    assert set(scores["n_pairs"]) == {150}  # scores of cached calls still count
    del cand


def test_cli_pairs_table_and_json(tmp_path: Any, capsys: Any) -> None:
    n, home = 12, str(tmp_path / "home")
    suite = tmp_path / "s.yaml"
    lines = ["name: s", "cases:"]
    for i in range(n):
        lines += [f"  - id: q{i}", f"    input: q{i}", "    expected: 'yes'"]
    suite.write_text("\n".join(lines) + "\n")
    models = [
        SimModel(m, ttft_s=0, itl_s=0, tokens=2, accuracy=acc)
        for m, acc in (("good", 1.0), ("bad", 0.0))
    ]
    with SimServer(models, answers={f"q{i}": "yes" for i in range(n)}) as sim:
        argv = [
            "run",
            str(suite),
            "-m",
            "openai/good",
            "-m",
            "openai/bad",
            "--api-base",
            sim.base_url,
        ]
        assert main([*argv, "--cache", "off", "--json", "--quiet", "--home", home]) == 0
    run_id = json.loads(capsys.readouterr().out)["run_id"]
    assert main(["pairs", run_id, "--home", home, "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["pairs"]
    assert (row["a_only"], row["b_only"]) == (12, 0)
    ref: Any = mcnemar([[0, 12], [0, 0]], exact=True)
    assert row["p_value"] == pytest.approx(ref.pvalue) and row["better"] == row["target_a"]
    assert main(["pairs", run_id, "--home", home]) == 0
    text = capsys.readouterr().out
    assert f"{row['target_a']} better" in text and "12/0" in text and ">" in text
