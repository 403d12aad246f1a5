"""Experiments (issue 14 item 4): runs grouped under a name that survives restarts, with the
baseline, the best and notes, a timeline chart, and ``benchwork experiments``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import benchwork as bw
from benchwork.sim import PromptRule, SimModel, SimServer
from benchwork.tuning import Experiment, experiments

QA = {f"What is {i} plus {i}?": str(2 * i) for i in range(16)}


def test_experiment_tracks_baseline_best_and_notes_across_restarts(tmp_path: Path) -> None:
    model = SimModel(
        "m",
        ttft_s=0,
        itl_s=0,
        accuracy=0.3,
        seed=5,
        prompt_rules=[PromptRule("answer first", 0.95)],
    )
    cases = [{"id": f"q{i}", "input": q, "expected": a} for i, (q, a) in enumerate(QA.items())]
    ids = []
    with SimServer([model], answers=QA) as sim:
        target = bw.Target("openai/m", api_base=sim.base_url)
        for system in ("Be helpful.", "Give the answer first.", "Be brief."):
            suite = bw.Suite.from_records(cases, name="adds", system=system)
            run = bw.run_sync(suite, target, cache="off", home=tmp_path, progress=False)
            Experiment("prompts", tmp_path).add(
                run, note=f"system: {system}"
            )  # a fresh object each time
            ids.append(run.id)
    exp = Experiment("prompts", tmp_path)  # as after a restart: read back from the store
    assert exp.runs == ids and exp.baseline == ids[0] and len(exp.notes) == 3
    frame = exp.frame()
    assert frame["run_id"].to_list() == ids  # oldest first
    best = exp.best()
    assert best["run_id"] == ids[1] and best["lo"] < best["mean"] <= best["hi"]
    assert frame.filter(frame["baseline"])["run_id"].to_list() == [ids[0]]
    exp.set_baseline(ids[2])
    assert Experiment("prompts", tmp_path).baseline == ids[2]
    assert experiments(tmp_path) == ["prompts"]
    assert "layer" in exp.chart().to_dict()

    shown = subprocess.run([sys.executable, "-m", "benchwork", "experiments", "prompts", "--home", str(tmp_path),
                            "--json"], capture_output=True, text=True, timeout=60)  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["baseline"] == ids[2] and [r["run_id"] for r in data["rows"] if r["best"]] == [
        ids[1]
    ]
    listed = subprocess.run([sys.executable, "-m", "benchwork", "experiments", "--home", str(tmp_path)],
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert listed.stdout.strip() == "prompts"


def test_bad_names_and_runs_are_clear_errors(tmp_path: Path) -> None:
    import pytest

    from benchwork.errors import BenchworkError

    with pytest.raises(BenchworkError, match="experiment name"):
        Experiment("../escape", tmp_path)
    with pytest.raises(BenchworkError, match="has no runs yet"):
        Experiment("empty", tmp_path).frame()
    with pytest.raises(BenchworkError, match="not in experiment"):
        Experiment("empty", tmp_path).set_baseline("nope")


SUMS = {f"What is {i} plus {i}?": f"the sum of the two is {2 * i}" for i in range(16)}


def test_baseline_and_best_are_tracked_per_metric_in_its_direction(tmp_path: Path) -> None:
    """A fast, cheap, sloppy model and a slow, dear, accurate one: the best by score and the
    best by latency are different runs; lower wins for latency/ttft/cost, higher for tok/s."""
    import polars as pl
    import pytest

    from benchwork.analysis import leaderboard
    from benchwork.errors import BenchworkError
    from benchwork.runner import load_run

    models = [
        SimModel("quick", ttft_s=0, itl_s=0.001, accuracy=0.3, seed=3),
        SimModel("careful", ttft_s=0.15, itl_s=0.03, accuracy=1.0, seed=3),
    ]
    cases = [{"id": f"q{i}", "input": q, "expected": a} for i, (q, a) in enumerate(SUMS.items())]
    suite = bw.Suite.from_records(cases, name="sums")
    exp = Experiment("speed", tmp_path)
    with SimServer(models, answers=SUMS) as sim:
        quick = bw.Target(
            "openai/quick", api_base=sim.base_url, input_per_mtok=0.1, output_per_mtok=0.1
        )
        careful = bw.Target(
            "openai/careful", api_base=sim.base_url, input_per_mtok=5, output_per_mtok=5
        )
        unpriced = bw.Target("openai/careful", name="careful-unpriced", api_base=sim.base_url)
        runs = [bw.run_sync(suite, t, cache="off", home=tmp_path, progress=False)
                for t in (quick, careful, unpriced)]  # fmt: skip
    for run in runs:
        exp.add(run)
    q_id, c_id, u_id = (r.id for r in runs)
    assert exp.baseline == q_id

    by_score = exp.best("exact")
    assert by_score["run_id"] == c_id and by_score["better"] == "higher"  # tie: the earliest
    assert exp.best()["run_id"] == by_score["run_id"] == exp.best(score="exact")["run_id"]
    by_latency = exp.best("latency")
    assert by_latency["run_id"] == q_id and by_latency["better"] == "lower"
    assert by_latency["run_id"] != by_score["run_id"]
    assert exp.best("ttft")["run_id"] == q_id and exp.best("output_tps")["run_id"] == q_id
    assert exp.best("cost")["run_id"] == q_id

    # the figures are the leaderboard's, the best flag follows the stated direction
    boards = {r.id: leaderboard(load_run(r.id, tmp_path)).row(0, named=True) for r in runs}
    for metric, column, better in [("latency", "latency_p50_s", "lower"),
                                   ("ttft_p95", "ttft_p95_s", "lower"),
                                   ("output_tps", "output_tps_p50", "higher"),
                                   ("exact", "score_exact_mean", "higher")]:  # fmt: skip
        frame = exp.frame(metric)
        assert frame["run_id"].to_list() == [q_id, c_id, u_id]
        assert set(frame["better"]) == {better}
        assert frame["mean"].to_list() == [boards[i][column] for i in (q_id, c_id, u_id)]
        values = [m for m in frame["mean"].to_list() if m is not None]
        pick = max(values) if better == "higher" else min(values)
        assert frame.filter(pl.col("best"))["mean"].to_list() == [pick] * int(frame["best"].sum())
        base = frame.filter(pl.col("baseline"))["mean"][0]
        assert frame["vs_baseline"].to_list() == pytest.approx([m - base for m in frame["mean"]])
    latency = exp.frame("latency")
    assert (latency["lo"] <= latency["mean"]).all() and (latency["mean"] <= latency["hi"]).all()
    assert latency.filter(pl.col("run_id") == c_id)["vs_baseline"][0] > 0  # slower than baseline
    cost = exp.frame("cost")
    assert cost.filter(pl.col("run_id") == u_id)["mean"].to_list() == [None]  # unknown, not 0
    assert not cost.filter(pl.col("run_id") == u_id)["best"][0]
    with pytest.raises(BenchworkError, match=r"no metric 'speed'.*latency, ttft"):
        exp.frame("speed")
    assert exp.metrics() == ["exact", "latency", "ttft", "itl", "output_tps", "cost"]
    assert "lower is better" in exp.chart("latency").to_dict()["title"]

    cli = [sys.executable, "-m", "benchwork", "experiments", "speed", "--home", str(tmp_path)]
    shown = subprocess.run([*cli, "--metric", "latency", "--json"], capture_output=True,
                           text=True, timeout=60)  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["metric"] == "latency_p50_s" and data["better"] == "lower"
    assert [r["run_id"] for r in data["rows"] if r["best"]] == [q_id]
    text = subprocess.run([*cli, "--metric", "latency"], capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert "latency_p50_s (p50, s): lower is better" in text.stdout
    best_line = [line for line in text.stdout.splitlines() if line.endswith(" best")]
    assert len(best_line) == 1 and q_id in best_line[0] and " ms [" in best_line[0]
    old = subprocess.run([*cli, "--score", "exact", "--json"], capture_output=True, text=True,
                         timeout=60)  # fmt: skip
    assert old.returncode == 0, old.stderr
    tied = [r["run_id"] for r in json.loads(old.stdout)["rows"] if r["best"]]
    assert tied == [c_id, u_id]  # both accurate runs share the top score
