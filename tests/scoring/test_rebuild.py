"""Resume and rescore rebuild scorers exactly (issue 9, item 8): a run's manifest keeps each
scorer's full configuration (``scorer_configs``); a resumed Numeric(tolerance=0.5) run scores
its new rows with 0.5 (it used the default), and a custom scorer that cannot be rebuilt is an
error naming it, never a default."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

import benchwork as bw
from benchwork.errors import BenchworkError
from benchwork.scoring import (
    Contains,
    Exact,
    Fuzzy,
    JsonSchema,
    JsonValid,
    Judge,
    JudgeReference,
    NotContains,
    Numeric,
    Panel,
    Regex,
    Semantic,
    StartsWith,
    ToolArgs,
    ToolSelection,
    _registry,
    build_scorer,
    get_scorer,
    scorer,
    scorer_config,
)
from benchwork.sim import Fault, SimModel, SimServer

# ---------------------------------------------------------------- configurations

BUILT = [
    Exact(case_sensitive=True, ignore_punctuation=True, name="strict"),
    Contains(mode="all", expected=["a", "b"]),
    NotContains(collapse_whitespace=False),
    StartsWith(strip=False),
    Regex(r"\d+", flags="im", timeout=0.5),
    Fuzzy(threshold=0.7),
    Numeric(tolerance=0.5, relative=True, pick="first", percent_as_fraction=True),
    JsonValid(name="jv"),
    JsonSchema({"type": "object", "required": ["a"]}),
    ToolSelection(order=False),
    ToolArgs(mode="fuzzy", rules={"city": "contains"}, fuzzy_threshold=0.6),
    Semantic(model="openai/emb", threshold=0.8, api_base="http://127.0.0.1:1/v1"),
    Judge(
        model="openai/judge", api_base="http://127.0.0.1:1/v1", rubric="Be brief.", scale=(0, 10)
    ),
    JudgeReference(
        bw.Target("openai/ref", api_base="http://127.0.0.1:1/v1", api_key_env="REF_KEY")
    ),
    Panel(["openai/a", {"model": "openai/b", "api_base": "http://127.0.0.1:1/v1"}], vote="mean"),
    get_scorer({"type": "numeric", "tolerance": 0.01, "name": "num"}),
]


@pytest.mark.parametrize("built", BUILT, ids=lambda s: s.name)
def test_a_config_is_json_and_rebuilds_the_same_scorer(built: Any) -> None:
    config = scorer_config(built)
    assert json.loads(json.dumps(config, allow_nan=False)) == config
    again = build_scorer(config)
    assert type(again) is type(built) and again.name == built.name
    assert scorer_config(again) == config
    objects = ("judge", "members")
    public = {k: v for k, v in vars(built).items() if not k.startswith("_") and k not in objects}
    assert {k: v for k, v in vars(again).items() if k in public} == public
    if hasattr(built, "judge"):
        assert again.judge.target == built.judge.target
    for old, new in zip(getattr(built, "members", []), getattr(again, "members", []), strict=True):
        assert (new.name, new.judge.target) == (old.name, old.judge.target)


def test_the_judge_stored_is_the_one_resolved(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCHWORK_JUDGE_MODEL", "openai/from-env")
    config = scorer_config(Judge())
    monkeypatch.setenv("BENCHWORK_JUDGE_MODEL", "openai/something-else")
    assert build_scorer(config).judge.model == "openai/from-env"


def test_keys_are_never_stored_and_a_masked_judge_is_not_rebuilt() -> None:
    judge = Judge(model="openai/j", api_base="http://user:sekrit@127.0.0.1:1/v1")
    config = scorer_config(judge)
    assert "sekrit" not in json.dumps(config)
    with pytest.raises(BenchworkError, match="scorer 'judge': its judge openai/j had a key"):
        build_scorer(config)
    semantic = scorer_config(Semantic(model="m", api_base="http://h/v1?api-key=sekrit"))
    assert "sekrit" not in json.dumps(semantic)


def test_custom_scorers_are_marked_and_rebuilt_only_when_registered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    @scorer(name="tone_check")
    def tone(case: Any, record: Any) -> float:
        return 1.0

    config = scorer_config(tone)
    assert config["type"] == "tone_check" and config["custom"] is True
    assert "tone" in config["defined_in"]
    assert build_scorer(config) is tone  # registered in this session
    monkeypatch.delitem(_registry._REGISTRY, "tone_check")  # a new session that lacks it
    with pytest.raises(
        BenchworkError, match=r"'tone_check' is a custom scorer .* cannot be rebuilt"
    ):
        build_scorer(config)

    def exact(case: Any, record: Any) -> float:  # a custom scorer named like a built-in
        return 0.5

    with pytest.raises(BenchworkError, match="'exact' is a custom scorer"):
        build_scorer(scorer_config(get_scorer(exact)))


def test_an_option_that_cannot_be_stored_is_an_error_on_rebuild() -> None:
    config = scorer_config(Contains(expected=[object()]))  # type: ignore[list-item]
    assert "unstorable" in config
    with pytest.raises(BenchworkError, match="scorer 'contains' cannot be rebuilt"):
        build_scorer(config)


# ---------------------------------------------------------------- resume and rescore

QUESTIONS = [f"question {i}" for i in range(4)]
ANSWERS = {q: "It is about 41.7" for q in QUESTIONS}  # 42 within 0.5, not within 1e-6


def _suite() -> bw.Suite:
    return bw.Suite(
        name="num",
        cases=[bw.Case(id=f"c{i}", input=q, expected=42) for i, q in enumerate(QUESTIONS)],
    )


def _num_scores(run: bw.Run, name: str = "numeric") -> dict[str, float | None]:
    return {r.case_id: (r.scores or {}).get(name, {}).get("value") for r in run.records}


def test_resume_scores_new_rows_with_the_stored_tolerance(tmp_path: Path) -> None:
    # the first 2 calls fail (401), so the run ends with 2 rows to redo
    model = SimModel("m", ttft_s=0.0, itl_s=0.0, faults=[Fault("401", first=2)])
    with SimServer([model], answers=ANSWERS) as sim:
        target = bw.Target("openai/m", api_base=sim.base_url, concurrency=1)
        home = tmp_path / "runs"
        first = bw.run_sync(
            _suite(), target, scorers=[Numeric(tolerance=0.5)], home=home, progress=False
        )
        assert sorted(_num_scores(first).values(), key=str) == [1.0, 1.0, None, None]
        assert first.manifest["scorer_configs"] == [{"type": "numeric", "tolerance": 0.5}]
        resumed = bw.resume_sync(first.id, home=home, retry_errors=True, progress=False)
    assert _num_scores(resumed) == {f"c{i}": 1.0 for i in range(4)}  # was 0.0 on the new rows
    assert bw.load_run(first.id, home).results["score_numeric"].to_list() == [1.0] * 4


def test_resume_of_a_run_with_an_unregistered_custom_scorer_names_it(tmp_path: Path) -> None:
    def closeness(case: Any, record: Any) -> float:
        return 1.0

    model = SimModel("m", ttft_s=0.0, itl_s=0.0, faults=[Fault("401", first=1)])
    with SimServer([model], answers=ANSWERS) as sim:
        target = bw.Target("openai/m", api_base=sim.base_url, concurrency=1)
        home = tmp_path / "runs"
        run = bw.run_sync(_suite(), target, scorers=["exact", closeness], home=home, progress=False)
        sent = len(sim.requests)
        with pytest.raises(BenchworkError) as e:
            bw.resume_sync(run.id, home=home, retry_errors=True, progress=False)
        assert len(sim.requests) == sent  # no call made
        assert "manifest.json" in str(e.value) and "'closeness' is a custom scorer" in str(e.value)
        # given the scorers again, the resume goes on
        again = bw.resume_sync(
            run.id, home=home, retry_errors=True, scorers=["exact", closeness], progress=False
        )
    assert again.status == "finished"
    assert {r.scores["closeness"]["value"] for r in again.records} == {1.0}


def test_a_rescored_scorer_is_rebuilt_by_a_later_resume(tmp_path: Path) -> None:
    model = SimModel("m", ttft_s=0.0, itl_s=0.0, faults=[Fault("401", first=2)])
    with SimServer([model], answers=ANSWERS) as sim:
        target = bw.Target("openai/m", api_base=sim.base_url, concurrency=1)
        home = tmp_path / "runs"
        run = bw.run_sync(_suite(), target, scorers=["exact"], home=home, progress=False)
        run = run.rescore_sync([Numeric(tolerance=0.5, name="num")])
        configs = run.manifest["scorer_configs"]
        assert configs == [{"type": "exact"}, {"type": "numeric", "tolerance": 0.5, "name": "num"}]
        # rescoring a name again replaces its configuration
        run = run.rescore_sync([Numeric(tolerance=1.0, name="num")])
        assert run.manifest["scorer_configs"][1] == {
            "type": "numeric",
            "tolerance": 1.0,
            "name": "num",
        }
        resumed = bw.resume_sync(run.id, home=home, retry_errors=True, progress=False)
    assert _num_scores(resumed, "num") == {f"c{i}": 1.0 for i in range(4)}


KILLED = textwrap.dedent(
    """
    import sys
    import benchwork as bw
    from benchwork.scoring import Numeric

    base_url, home, run_id = sys.argv[1:4]
    suite = bw.Suite(
        name="num",
        cases=[bw.Case(id=f"c{i:02d}", input=f"question {i}", expected=42) for i in range(30)],
    )
    target = bw.Target("openai/slow", api_base=base_url, concurrency=2)
    bw.run_sync(suite, target, scorers=[Numeric(tolerance=0.5)], home=home, run_id=run_id,
                cache="off", progress=False)
    """
)


def test_kill_9_then_resume_in_another_process_keeps_the_tolerance(tmp_path: Path) -> None:
    home, run_id = tmp_path / "runs", "killed-num"
    journal = home / "runs" / run_id / "journal.jsonl"
    script = tmp_path / "run_me.py"
    script.write_text(KILLED)
    answers = {f"question {i}": "It is about 41.7" for i in range(30)}
    slow = SimModel("slow", ttft_s=0.05, itl_s=0.01, tokens=5)
    with SimServer([slow], answers=answers) as sim:
        proc = subprocess.Popen(
            [sys.executable, str(script), sim.base_url, str(home), run_id],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 60
            while not journal.exists() or len(journal.read_bytes().splitlines()) < 6:
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "the child never journaled 6 calls"
                time.sleep(0.005)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        done = len(journal.read_bytes().splitlines())
        assert done < 30, "killed mid-run"
        with warnings.catch_warnings():  # a torn last journal line, if the kill made one
            warnings.simplefilter("ignore", RuntimeWarning)
            run = bw.resume_sync(run_id, home=home, progress=False)
    assert run.status == "finished" and len(run.records) == 30
    # rows from before the kill and rows made by the resume: all scored with tolerance 0.5
    assert {r.scores["numeric"]["value"] for r in run.records} == {1.0}
