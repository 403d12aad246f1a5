"""Each chart rendered to SVG (vl-convert); its data and marks checked against the analysis."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl
import pytest
from chart_svg import datasets, marks, render, texts
from chartdata import PROFILES, T0, synth

import benchwork.charts as ch
from benchwork import analysis
from benchwork.errors import BenchworkError

WIDTH = 420  # the theme's continuous width


def test_leaderboard_whiskers_equal_analysis_intervals(frame: pl.DataFrame) -> None:
    lb = analysis.leaderboard(frame).select(
        "target", "score_exact_mean", "score_exact_lo", "score_exact_hi"
    )
    svg = render(ch.leaderboard(frame))
    rules = {m.fields["target"]: m for m in marks(svg, "layer_1_marks")}
    bars = {m.fields["target"]: m for m in marks(svg, "layer_0_marks")}
    assert set(rules) == set(bars) == set(PROFILES)
    for target, mean, lo, hi in lb.iter_rows():
        # the domain is [0, 1] over WIDTH pixels: positions give the values back
        assert rules[target].x / WIDTH == pytest.approx(lo, abs=1e-9)
        assert rules[target].x2 / WIDTH == pytest.approx(hi, abs=1e-9)
        width = float(bars[target].attrs["d"].split("h")[1].split("v")[0])
        assert width / WIDTH == pytest.approx(mean, abs=1e-9)


def test_leaderboard_cluster_intervals_with_repeats() -> None:
    df = synth(repeats=3, n_cases=20)
    lb = analysis.leaderboard(df)
    rows = ch.leaderboard_data(df).sort("target")
    ref = lb.sort("target")
    assert (lb["score_exact_method"] == "cluster").all()
    assert np.allclose(rows["lo"], ref["score_exact_lo"]) and np.allclose(
        rows["hi"], ref["score_exact_hi"]
    )


def test_leaderboard_one_panel_per_score_keeps_every_target() -> None:
    # two suites combined: "extra" is scored only by the second suite's scorer
    a = synth({"m1": PROFILES["balanced"], "m2": PROFILES["fast-small"]})
    b = synth({"extra": PROFILES["slow-large"]}, seed=3).rename(
        {"score_exact": "score_judge", "score_exact_explanation": "score_judge_explanation"}
    )
    chart = ch.leaderboard(pl.concat([a, b], how="diagonal_relaxed"))
    svg = render(chart)
    bars = marks(svg, "layer_0_marks")
    drawn = {(m.fields["score"], m.fields["target"]) for m in bars}
    assert drawn == {("exact", "m1"), ("exact", "m2"), ("judge", "extra")}
    with pytest.raises(BenchworkError, match="no score"):
        ch.leaderboard(a, "nope")


def _dominated(points: dict[str, tuple[float, float]]) -> set[str]:
    return {
        t
        for t, (c, q) in points.items()
        for u, (c2, q2) in points.items()
        if u != t and c2 <= c and q2 >= q and (c2, q2) != (c, q)
    }


def test_cost_quality_frontier_holds_exactly_the_non_dominated_targets(
    frame: pl.DataFrame,
) -> None:
    # a target with a call of unknown cost is left out, and named
    unknown = synth({"mystery": PROFILES["balanced"]}, seed=9).with_columns(
        pl.when(pl.col("case_id") == "c000")
        .then(None)
        .otherwise(pl.col("cost_usd"))
        .alias("cost_usd")
    )
    df = pl.concat([frame, unknown])
    ok = df.filter(pl.col("status") == "ok")
    means = ok.group_by("target").agg(pl.col("cost_usd").mean(), pl.col("score_exact").mean())
    points = {t: (c, q) for t, c, q in means.iter_rows() if t != "mystery"}
    front = set(points) - _dominated(points)
    assert front == {"fast-small", "balanced", "slow-large"}  # pricey-bad is dominated
    chart = ch.cost_quality(df)
    spec = chart.to_dict()
    frontier = spec["datasets"][spec["layer"][0]["data"]["name"]]
    assert {r["target"] for r in frontier} == front
    svg = render(chart)
    assert set(texts(svg, "layer_4_marks")) == front  # labels
    drawn = {m.fields["target"]: m for m in marks(svg, "layer_3_marks")}
    assert set(drawn) == set(points)
    assert "not drawn (cost unknown or no scored call): mystery" in svg
    rows = ch.cost_quality_data(df).sort("target")
    lb = analysis.leaderboard(df.filter(pl.col("target") != "mystery")).sort("target")
    assert np.allclose(rows["lo"], lb["score_exact_lo"]) and np.allclose(
        rows["hi"], lb["score_exact_hi"]
    )
    assert ((rows["cost_lo"] < rows["cost"]) & (rows["cost"] < rows["cost_hi"])).all()
    assert np.allclose(rows["cost"], lb["cost_per_call_usd"])  # the leaderboard's cost per call


def test_pareto_ties_and_duplicates() -> None:
    assert ch.pareto([1, 1, 2], [0.5, 0.5, 0.9]) == [True, True, True]
    assert ch.pareto([1, 2, 2], [0.5, 0.4, 0.9]) == [True, False, True]


def test_speed_marks_are_the_leaderboard_percentiles(frame: pl.DataFrame) -> None:
    # a cached row and a warm-up must not move the figures (live ok calls only)
    extra = frame.head(2).with_columns(
        pl.Series("cached", [True, False]),
        pl.Series("warmup", [False, True]),
        pl.lit(99.0).alias("ttft_s"),
    )
    df = pl.concat([frame, extra])
    lb = analysis.leaderboard(df).sort("target")
    rows = ch.speed_data(df, "ttft_s").sort("target")
    assert np.allclose(rows["p50"], lb["ttft_p50_s"] * 1000)
    assert np.allclose(rows["p95_lo"], lb["ttft_p95_lo_s"] * 1000)
    assert np.allclose(rows["p95_hi"], lb["ttft_p95_hi_s"] * 1000)
    live = frame.filter(pl.col("status") == "ok", pl.col("target") == "balanced")["ttft_s"]
    q1, q3 = np.percentile(live.to_numpy(), [25, 75])
    got = rows.filter(pl.col("target") == "balanced").row(0, named=True)
    assert (got["q1"], got["q3"]) == pytest.approx((q1 * 1000, q3 * 1000))
    assert got["whisker_hi"] <= float(live.to_numpy().max()) * 1000 and got["n"] == live.len()
    svg = render(ch.speed(df))
    assert "time to first token (ms)" in svg and "output tokens per second (tok/s)" in svg
    p95 = [m.fields["target"] for m in marks(svg, "layer_4_marks")]
    assert sorted(p95) == sorted(list(PROFILES) * 3)  # one p95 diamond per target and panel


def test_ttft_vs_tps_points_and_missing_rates(frame: pl.DataFrame) -> None:
    one_token = synth({"terse": PROFILES["balanced"]}, seed=4).with_columns(
        pl.lit(None, pl.Float64).alias("output_tps")
    )
    df = pl.concat([frame, one_token])
    rows = ch.ttft_vs_tps_data(df).sort("target")
    lb = analysis.leaderboard(frame).sort("target")
    assert rows["target"].to_list() == sorted(PROFILES)
    assert np.allclose(rows["tps"], lb["output_tps_p50"])
    assert np.allclose(rows["ttft_lo"], lb["ttft_p50_lo_s"] * 1000)
    svg = render(ch.ttft_vs_tps(df))
    assert "no tok/s (answers under 2 tokens): terse" in svg
    assert {m.fields["target"] for m in marks(svg, "layer_2_marks")} == set(PROFILES)


def test_heatmap_cells_and_tooltips() -> None:
    df = synth(repeats=2, n_cases=10)
    cells, total = ch.heatmap_data(df)
    ref = df.group_by("case_id", "target").agg(pl.col("score_exact").mean())
    joined = cells.join(ref, on=["case_id", "target"])
    assert total == 10 and joined.height == 40
    assert np.allclose(
        joined["score"].fill_null(-1).to_numpy(), joined["score_exact"].fill_null(-1).to_numpy()
    )
    svg = render(ch.heatmap(df))
    empty = df.group_by("case_id", "target").agg(pl.col("score_exact").is_null().all())
    n_empty = int(empty["score_exact"].sum())
    assert n_empty >= 1  # a cell whose calls all failed: drawn grey, not left out
    assert len(marks(svg, "layer_0_marks")) == 40
    cell = marks(svg, "layer_1_marks")
    assert len(cell) == 40 - n_empty
    assert all(m.fields["output"] in ("right answer", "wrong answer") for m in cell)
    assert {m.fields["explanation"] for m in cell} <= {"matches", "does not match"}


def test_heatmap_caps_cases_where_targets_disagree() -> None:
    df = synth(n_cases=200)
    cells, total = ch.heatmap_data(df, max_cases=30)
    assert total == 200 and cells["case_id"].n_unique() == 30
    spread = (
        df.group_by("case_id", "target")
        .agg(pl.col("score_exact").mean())
        .group_by("case_id")
        .agg(pl.col("score_exact").std().fill_null(0))
    )
    kept = spread.filter(pl.col("case_id").is_in(cells["case_id"].unique().to_list()))
    dropped = spread.filter(~pl.col("case_id").is_in(cells["case_id"].unique().to_list()))
    assert kept["score_exact"].min() >= dropped["score_exact"].max()  # type: ignore[operator]
    assert "30 of 200 cases" in render(ch.heatmap(df, max_cases=30))


def test_forest_rows_equal_compare_targets_and_marks_holm(frame: pl.DataFrame) -> None:
    pairs = analysis.compare_targets(frame, "exact")
    svg = render(ch.forest(frame, "exact"))
    points = marks(svg, "layer_2_marks")
    assert len(points) == pairs.height
    for m, row in zip(points, pairs.iter_rows(named=True), strict=True):
        assert m.fields["pair"] == f"{row['target_a']} − {row['target_b']}"
        assert float(m.fields["diff"]) == pytest.approx(row["diff"], rel=5e-3)
        filled = m.attrs["fill"] != "white"
        assert filled == bool(row["significant"])
    assert pairs["significant"].any() and not pairs["significant"].all()
    # a frame compare_targets returned is drawn as is
    assert ch.forest_data(pairs)["diff_lo"].to_list() == pairs["diff_lo"].to_list()
    with pytest.raises(BenchworkError, match="need two targets"):
        ch.forest(frame.filter(pl.col("target") == "balanced"))


def test_errors_by_status_add_up_to_the_error_rate(frame: pl.DataFrame) -> None:
    i = pl.int_range(pl.len())
    frame = frame.with_columns(  # a 429 and a timeout (no HTTP status) besides the 500s
        pl.when(i.is_in([1, 2])).then(pl.lit("error")).otherwise(pl.col("status")).alias("status"),
    )
    frame = frame.with_columns(
        pl.when(i == 1)
        .then(429)
        .when(i == 2)
        .then(None)
        .otherwise(pl.col("http_status"))
        .alias("http_status"),
        pl.when(i == 1)
        .then(pl.lit("rate_limit"))
        .when(i == 2)
        .then(pl.lit("timeout"))
        .otherwise(pl.col("error_type"))
        .alias("error_type"),
    )
    lb = analysis.leaderboard(frame).sort("target")
    _, by_status = ch.errors_data(frame)
    summed = by_status.group_by("target").agg(pl.col("rate").sum())
    joined = lb.join(summed, on="target", how="left").with_columns(pl.col("rate").fill_null(0))
    assert np.allclose(joined["rate"], joined["error_rate"])
    assert set(by_status["status"]) == {"HTTP 500", "HTTP 429", "timeout"}
    svg = render(ch.errors(frame))
    whiskers = {m.fields["target"]: m for m in marks(svg, "layer_1_marks")}
    for row in lb.iter_rows(named=True):
        got = whiskers[row["target"]].fields
        assert float(got["error_rate_hi"]) == pytest.approx(row["error_rate_hi"], abs=1e-9)
    segments = marks(svg, "layer_0_marks")
    assert {m.fields["status"] for m in segments} == {"HTTP 500", "HTTP 429", "timeout"}


def test_flips_counts_and_deltas() -> None:
    base = synth(seed=0)
    cand = synth(seed=1, run_id="r1", started=T0 + timedelta(days=1))
    ref = analysis.flips(base, cand).group_by("target", "change").len()
    rows = ch.flips_data(base, cand)
    joined = rows.join(ref, on=["target", "change"])
    assert joined.height == ref.height and (joined["count"] == joined["len"]).all()
    assert (rows.filter(pl.col("change") == "regression")["cases"] < 0).all()
    svg = render(ch.flips(base, cand))
    bars = marks(svg, "concat_0_marks")
    assert sorted(int(m.fields["count"]) for m in bars) == sorted(ref["len"].to_list())
    assert "run match:" in svg


def test_trends_band_and_regression_marks() -> None:
    runs = []
    for i in range(8):
        acc = dict(PROFILES)
        if i == 7:  # the last run of balanced collapses
            acc["balanced"] = (0.2, *PROFILES["balanced"][1:])
        runs.append(synth(acc, seed=i, run_id=f"r{i}", started=T0 + timedelta(days=i)))
    tr = analysis.trends(runs, ["exact"])
    flagged = tr.filter(pl.col("flag") == "regression")
    assert flagged.height >= 1
    svg = render(ch.trends(runs, "exact"))
    crosses = marks(svg, "layer_2_marks")
    assert {(m.fields["target"], m.fields["run_id"]) for m in crosses} == set(
        flagged.select("target", "run_id").iter_rows()
    )
    assert len(marks(svg, "layer_1_marks")) == len(PROFILES)  # one band per target


def test_jitter_is_the_leaderboard_cv(frame: pl.DataFrame) -> None:
    lb = analysis.leaderboard(frame).sort("target")
    rows = ch.jitter_data(frame).filter(pl.col("metric") == "TTFT").sort("target")
    assert np.allclose(rows["cv"], lb["ttft_cv"])
    assert rows["jitter"].to_list() == lb["ttft_jitter"].to_list()
    assert ((rows["cv_lo"] <= rows["cv"]) & (rows["cv"] <= rows["cv_hi"])).all()
    render(ch.jitter(frame))


def test_large_runs_are_aggregated_before_plotting() -> None:
    big = synth(n_cases=5000, repeats=5)  # 100,000 rows
    for chart in (ch.leaderboard(big), ch.speed(big), ch.errors(big), ch.cost_quality(big)):
        rows = sum(len(d) for d in datasets(chart))
        assert rows <= 40, rows
    assert sum(len(d) for d in datasets(ch.heatmap(big))) <= 60 * len(PROFILES)


def test_leaderboard_of_continuous_scores_and_of_a_leaderboard_frame() -> None:
    rng = np.random.default_rng(7)
    df = synth().with_columns(pl.Series("score_exact", rng.beta(5, 2, 160)))  # e.g. fuzzy
    lb = analysis.leaderboard(df)
    assert (lb["score_exact_method"] == "clt").all()
    drawn = ch.leaderboard_data(lb).sort("target")  # an analysis frame is drawn as is
    ref = lb.sort("target")
    assert np.allclose(drawn["lo"], ref["score_exact_lo"])
    assert np.allclose(drawn["hi"], ref["score_exact_hi"])
    svg = render(ch.leaderboard(df))
    assert "cases passed" not in svg and "mean score (0–1, as %), 95% interval" in svg
    assert "cases passed (%), 95% interval" in render(ch.leaderboard(synth()))


def test_cost_quality_needs_a_known_cost() -> None:
    df = synth().with_columns(pl.lit(None, pl.Float64).alias("cost_usd"))
    with pytest.raises(BenchworkError, match="known cost"):
        ch.cost_quality(df)


def test_ecdf_curve_and_percentile_marks(frame: pl.DataFrame) -> None:
    curve = ch.ecdf_data(frame, "latency_s")
    lb = analysis.leaderboard(frame).sort("target")
    for target, part in curve.partition_by("target", as_dict=True).items():
        values = part.sort("share")["value"].to_numpy()
        live = frame.filter(pl.col("target") == target[0], pl.col("status") == "ok")["latency_s"]
        assert (np.diff(values) >= 0).all() and part.height == 101
        assert values[0] == pytest.approx(live.min() * 1000)  # type: ignore[operator]
        assert values[-1] == pytest.approx(live.max() * 1000)  # type: ignore[operator]
    svg = render(ch.ecdf(frame, "latency"))
    dots = marks(svg, "layer_2_marks")
    got = {(m.fields["target"], m.fields["mark"]): float(m.fields["value"]) for m in dots}
    for row in lb.iter_rows(named=True):
        assert got[(row["target"], "p50")] == pytest.approx(row["latency_p50_s"] * 1000, rel=1e-3)
        assert got[(row["target"], "p95")] == pytest.approx(row["latency_p95_s"] * 1000, rel=1e-3)
    assert len(marks(svg, "layer_0_marks")) == len(PROFILES)  # one line per target
