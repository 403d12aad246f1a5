"""Rescore (API and CLI) over real HTTP: no candidate calls, judge calls cached, scores saved;
and the demo shows a deterministic accuracy and a judge score side by side."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import benchwork as bw
from benchwork.cli import main
from benchwork.errors import BenchworkError
from benchwork.sim import SimModel, SimServer
from benchwork.store import RunStore
from benchwork.suite import Suite
from benchwork.target import Target

Z = {"ttft_s": 0.0, "itl_s": 0.0}
MODELS = [
    SimModel("cand-a", accuracy=0.5, seed=1, **Z),
    SimModel("cand-b", **Z),
    SimModel("judge", role="judge", input_per_mtok=1.0, output_per_mtok=2.0, **Z),
    SimModel("judge2", role="judge", seed=9, **Z),
]
QA = {f"Capital number {i}?": f"City{i}" for i in range(6)}
CANDIDATES = {"cand-a", "cand-b"}


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    with SimServer(MODELS, answers=QA) as server:
        yield server


def suite() -> Suite:
    cases = [{"id": f"c{i}", "input": q, "expected": a} for i, (q, a) in enumerate(QA.items())]
    return Suite.from_dict({"name": "caps", "cases": cases})


def judge(sim: SimServer, model: str = "judge") -> dict[str, Any]:
    return {
        "model": f"openai_like/{model}",
        "api_base": sim.base_url,
        "input_per_mtok": 1.0,
        "output_per_mtok": 2.0,
    }


@pytest.fixture
def run(sim: SimServer) -> Any:
    targets = [
        Target(
            f"openai_like/{m}",
            name=m,
            api_base=sim.base_url,
            input_per_mtok=5.0,
            output_per_mtok=5.0,
        )
        for m in sorted(CANDIDATES)
    ]
    result = bw.run_sync(suite(), targets, scorers=["exact"], progress=False)
    sim.reset_log()
    return result


def models_asked(sim: SimServer) -> list[str]:
    return [e["model"] for e in sim.requests]


def test_rescore_calls_only_the_judge_and_saves_scores(sim: SimServer, run: Any) -> None:
    before = run.results
    new = run.rescore_sync(["exact", {"type": "judge", "judge": judge(sim)}])
    asked = models_asked(sim)
    assert asked and set(asked) == {"judge"}  # no candidate model was called
    # one judge call per distinct (case, output); identical prompts may share a cached verdict
    distinct = {(r.case_id, r.output_text) for r in run.records}
    assert len(distinct) <= len(asked) <= len(run.records)
    loaded = bw.load_run(run.id)
    df = loaded.results
    for col in ("score_exact", "score_judge", "score_judge_explanation", "score_judge_cost_usd"):
        assert col in df.columns
    assert df["score_exact"].to_list() == before["score_exact"].to_list()
    assert df["cost_usd"].to_list() == before["cost_usd"].to_list()  # candidate cost unchanged
    assert df["output_text"].to_list() == before["output_text"].to_list()
    # the sim judge grades by comparison: its verdicts agree with exact match here
    assert df["score_judge"].to_list() == df["score_exact"].to_list()
    assert new.results["score_judge"].to_list() == df["score_judge"].to_list()
    assert "score_judge_mean" in loaded.summary().columns
    assert RunStore().frame(run.id)["score_judge"].to_list() == df["score_judge"].to_list()
    manifest = loaded.manifest
    assert "judge" in manifest["scorers"]
    assert manifest["rescores"][-1]["scorers"][1] == {"name": "judge", "judge": "openai_like/judge"}
    # a second rescore: judge calls come from the cache, nothing is sent
    sim.reset_log()
    again = loaded.rescore_sync([{"type": "judge", "judge": judge(sim)}])
    assert sim.requests == []
    assert again.results["score_judge"].to_list() == df["score_judge"].to_list()
    assert len(again.manifest["rescores"]) == 2


def test_rescore_replaces_same_name_and_keeps_others(sim: SimServer, run: Any) -> None:
    run.rescore_sync([{"type": "judge", "judge": judge(sim), "name": "quality"}])
    new = bw.load_run(run.id).rescore_sync([{"type": "contains", "name": "exact"}])
    df = new.results
    assert {"score_exact", "score_quality"} <= set(df.columns)
    assert df["score_exact_explanation"].str.contains("^(contains|missing) ").all()
    assert sim.requests and set(models_asked(sim)) == {"judge"}  # only the first rescore asked


def test_rescore_with_a_panel(sim: SimServer, run: Any) -> None:
    spec = {"type": "panel", "judges": [judge(sim), judge(sim, "judge2"), judge(sim)]}
    df = run.rescore_sync([spec]).results
    assert set(models_asked(sim)) == {"judge", "judge2"}
    assert df["score_panel_agreement"].to_list() == [1.0] * len(run.records)


def test_rescore_refuses_a_running_run_and_bad_specs(sim: SimServer, run: Any) -> None:
    with pytest.raises(BenchworkError, match="unknown scorer"):
        run.rescore_sync(["exactt"])
    with pytest.raises(BenchworkError, match="no scorers"):
        run.rescore_sync([])
    run.manifest["status"] = "running"
    with pytest.raises(BenchworkError, match="still running"):
        run.rescore_sync(["exact"])
    assert sim.requests == []


def test_cli_rescore(sim: SimServer, run: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "rescore",
            run.id,
            "--scorer",
            "exact",
            "--scorer",
            "judge_reference",
            "--judge-model",
            "openai_like/judge",
            "--judge-api-base",
            sim.base_url,
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert f"rescored run {run.id}" in out and "no candidate calls made" in out
    assert "judge_reference" in out.splitlines()[3]  # the leaderboard header
    assert set(models_asked(sim)) == {"judge"}
    assert "score_judge_reference" in bw.load_run(run.id).results.columns
    code = main(
        [
            "rescore",
            run.id,
            "--scorer",
            '{"type": "judge_reference"}',
            "--judge-model",
            "openai_like/judge",
            "--judge-api-base",
            sim.base_url,
            "--json",
        ]
    )
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["run_id"] == run.id
    assert all("score_judge_reference_mean" in row for row in data["summary"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["rescore", "no-such-run", "--scorer", "exact"], "no run 'no-such-run'"),
        (["rescore", "RUN", "--scorer", "panel", "--judge-model", "m"], "at least twice"),
        (["rescore", "RUN", "--scorer", "{bad json"], "not valid JSON"),
    ],
)
def test_cli_rescore_bad_input_is_one_line(
    run: Any, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [run.id if a == "RUN" else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_export_import_keeps_the_judge_cost(sim: SimServer, run: Any, tmp_path: Path) -> None:
    run.rescore_sync([{"type": "judge", "judge": judge(sim)}])
    store = RunStore()
    path = store.export(run.id, tmp_path / "out.parquet")
    other = RunStore(tmp_path / "other")
    rid = other.import_run(path)
    df = other.frame(rid)
    assert (
        df["score_judge_cost_usd"].to_list()
        == bw.load_run(run.id).results["score_judge_cost_usd"].to_list()
    )
    rec = other.records(rid)[0]
    assert "judge_cost_usd" not in rec["scores"]


def test_demo_shows_exact_and_judge_side_by_side(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--json", "--quiet"]) == 0
    data = json.loads(capsys.readouterr().out)
    rows = data["summary"]
    assert len(rows) == 3
    for row in rows:
        assert 0 <= row["score_exact_mean"] <= 1
        assert 0 <= row["score_judge_mean"] <= 1
        assert row["score_judge_cost_usd"] > 0 and row["cost_usd"] > 0
    best = max(rows, key=lambda r: r["score_exact_mean"])
    assert best["score_judge_mean"] >= 0.8  # the sim judge mostly agrees with exact match
