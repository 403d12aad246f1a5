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
