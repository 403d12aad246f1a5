"""The prompt tuner's evolutionary mode (issue 14 item 2) on prompt-sensitive simulated models,
over real HTTP: it raises held-out accuracy (the gain shown by the paired test), a budget in
calls or dollars stops it before it is exceeded, it stops early without dev gains, the held-out
check catches a prompt that only fits dev, and a tuning run killed with SIGKILL resumes from
the cache without paying again."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import polars as pl
import pytest
from support import kill_9_when

import benchwork as bw
from benchwork.errors import BenchworkError
from benchwork.sim import PromptRule, SimModel, SimServer
from benchwork.tuning import tune_prompt_sync

QA = {f"What is {i} plus {i}?": str(2 * i) for i in range(40)}
DEV = [f"q{i}" for i in range(20)]  # questions about 0..19; held out: 20..39
COLUMNS = {"candidate": pl.String, "prompt": pl.String, "dev_mean": pl.Float64,
           "dev_lo": pl.Float64, "dev_hi": pl.Float64, "dev_n": pl.Int64,
           "generation": pl.Int64, "parent": pl.String}  # fmt: skip


def _suite() -> bw.Suite:
    cases = [{"id": f"q{i}", "input": q, "expected": a} for i, (q, a) in enumerate(QA.items())]
    return bw.Suite.from_records(cases, name="adds", system="You answer questions.")


def _models(*rules: PromptRule) -> list[SimModel]:
    return [
        SimModel("solver", ttft_s=0, itl_s=0, accuracy=0.3, seed=11, prompt_rules=list(rules)),
        SimModel("meta", role="rewriter", ttft_s=0, itl_s=0, seed=2),
    ]


def _targets(sim: SimServer, priced: bool = False) -> tuple[bw.Target, bw.Target]:
    if not priced:
        return (bw.Target("openai/solver", api_base=sim.base_url),
                bw.Target("openai/meta", api_base=sim.base_url))  # fmt: skip
    # prices make a dollar budget possible; max_tokens bounds the estimate of output tokens
    return (
        bw.Target("openai/solver", api_base=sim.base_url, params={"max_tokens": 4},
                  input_per_mtok=1.0, output_per_mtok=2.0),
        bw.Target("openai/meta", api_base=sim.base_url, params={"max_tokens": 40},
                  input_per_mtok=1.0, output_per_mtok=2.0),
    )  # fmt: skip


def test_evolve_raises_held_out_accuracy_and_the_paired_test_shows_it(tmp_path: Path) -> None:
    seen: list[pl.DataFrame] = []
    with SimServer(_models(PromptRule("answer first", 0.95)), answers=QA) as sim:
        target, meta = _targets(sim)
        result = tune_prompt_sync(_suite(), target, meta, mode="evolve", population=4,
                                  generations=6, patience=2, dev=DEV, cache_dir=tmp_path / "c",
                                  home=tmp_path, on_generation=seen.append)  # fmt: skip
        fresh = len(sim.requests)
    frame = result.frame
    assert dict(frame.schema) == COLUMNS
    first = frame.row(0, named=True)
    assert (first["candidate"], first["prompt"], first["generation"], first["parent"]) == (
        "original", "You answer questions.", 0, None)  # fmt: skip
    assert first["dev_n"] == 20 and first["dev_lo"] <= first["dev_mean"] <= first["dev_hi"]
    assert "answer first" in result.winner.lower() and result.winner.startswith(
        "You answer questions."
    )
    assert result.confirmed, result.confirmation
    assert result.confirmation["diff"] > 0.4 and result.confirmation["p_holm"] < 0.05
    # every child names its parent(s), which were scored before it; crossovers are "a+b"
    names = frame["candidate"].to_list()
    for row in frame.iter_rows(named=True):
        if row["generation"] > 0:
            parents = row["parent"].split("+")
            assert all(names.index(p) < names.index(row["candidate"]) for p in parents), row
    assert any("+" in (p or "") for p in frame["parent"]), "no crossover was tried"
    # the callback saw the frame grow generation by generation, ending with the final one
    assert [f["generation"].max() for f in seen] == list(range(len(seen)))
    assert seen[-1].equals(frame) and seen[0].height == 1
    assert all(a.height <= b.height for a, b in itertools.pairwise(seen))
    assert result.mode == "evolve" and result.stopped in ("patience", "generations")
    assert result.spent["fresh"] == fresh and result.spent["calls"] >= fresh


def test_a_mutation_request_shows_dev_cases_the_parent_got_wrong(tmp_path: Path) -> None:
    with SimServer(_models(PromptRule("answer first", 0.95)), answers=QA) as sim:
        target, meta = _targets(sim)
        result = tune_prompt_sync(_suite(), target, meta, mode="evolve", population=2,
                                  generations=1, dev=DEV, home=tmp_path)  # fmt: skip
        asked = [r["prompt"] for r in sim.requests if r["model"] == "meta"]
    wrong = set(result.runs["dev"]["original"].results.filter(pl.col("score_exact") < 1)["case_id"])
    assert asked and all("<failure>" in a for a in asked)
    shown = asked[0].split("<prompt>")[0]
    assert shown.count("<failure>") == 3
    for case_id in [c for c in DEV if c in wrong][:3]:  # the first three wrong, in dev order
        assert f"Question: {QA_BY_ID[case_id]}" in shown
        assert f"Expected: {QA[QA_BY_ID[case_id]]}" in shown


QA_BY_ID = {f"q{i}": q for i, q in enumerate(QA)}


def test_the_call_budget_stops_the_search_before_it_is_exceeded(tmp_path: Path) -> None:
    with SimServer(_models(PromptRule("answer first", 0.95)), answers=QA) as sim:
        target, meta = _targets(sim)
        with pytest.raises(BenchworkError, match="budget_calls is too small"):
            tune_prompt_sync(_suite(), target, meta, mode="evolve", budget_calls=59, dev=DEV,
                             home=tmp_path)  # fmt: skip
        assert sim.requests == [], "a budget that cannot cover the start makes no call"
        result = tune_prompt_sync(_suite(), target, meta, mode="evolve", population=4,
                                  generations=6, budget_calls=130, dev=DEV,
                                  cache_dir=tmp_path / "c", home=tmp_path)  # fmt: skip
        sent = len(sim.requests)
    assert result.stopped == "budget_calls" and sent == result.spent["fresh"]
    # it stopped because the next step (a 20-call dev run or a meta call) would not fit
    assert 130 - 20 < result.spent["calls"] <= 130 and result.frame.height >= 2


def test_the_dollar_budget_stops_the_search_before_it_is_exceeded(tmp_path: Path) -> None:
    with SimServer(_models(PromptRule("answer first", 0.95)), answers=QA) as sim:
        target, meta = _targets(sim)
        with pytest.raises(BenchworkError, match="budget_usd needs prices"):
            tune_prompt_sync(_suite(), target, meta, mode="evolve", budget_usd=1.0, dev=DEV,
                             home=tmp_path)  # fmt: skip
        target, meta = _targets(sim, priced=True)
        free = tune_prompt_sync(_suite(), target, meta, mode="evolve", population=4,
                                generations=2, patience=2, dev=DEV, cache_dir=tmp_path / "c",
                                home=tmp_path)  # fmt: skip
        full_cost = free.spent["usd"]
        assert full_cost and full_cost > 0
        budget = full_cost * 0.8
        sim.reset_log()
        capped = tune_prompt_sync(_suite(), target, meta, mode="evolve", population=4,
                                  generations=2, patience=2, budget_usd=budget, dev=DEV,
                                  cache_dir=tmp_path / "c", home=tmp_path)  # fmt: skip
    assert capped.stopped == "budget_usd" and capped.spent["usd"] <= budget
    assert capped.frame.height < free.frame.height
    # the capped search is the free one cut short: the same candidates, in the same order
    assert capped.frame.equals(free.frame.head(capped.frame.height))


def test_early_stop_after_patience_generations_without_a_better_dev_score(tmp_path: Path) -> None:
    with SimServer(_models(PromptRule("no instruction says this", 0.99)), answers=QA) as sim:
        target, meta = _targets(sim)
        result = tune_prompt_sync(_suite(), target, meta, mode="evolve", population=3,
                                  generations=8, patience=2, dev=DEV, home=tmp_path)  # fmt: skip
    assert result.stopped == "patience"
    assert result.frame["generation"].max() == 2
    assert result.winner == "You answer questions." and not result.confirmed


def test_the_held_out_check_catches_an_evolved_prompt_that_only_fits_dev(tmp_path: Path) -> None:
    # "be precise" helps only questions about numbers below 20: exactly the dev split
    rule = PromptRule("be precise", 1.0, only_cases=r"\b1?\d plus")
    with SimServer(_models(rule), answers=QA) as sim:
        target, meta = _targets(sim)
        result = tune_prompt_sync(_suite(), target, meta, mode="evolve", population=4,
                                  generations=6, patience=3, dev=DEV, home=tmp_path)  # fmt: skip
    assert "be precise" in result.winner.lower() and result.frame["dev_mean"].max() == 1.0
    assert not result.confirmed and result.confirmation["verdict"].startswith("no detectable")


def test_evolve_only_settings_are_refused_in_quick_mode(tmp_path: Path) -> None:
    with pytest.raises(BenchworkError, match="generations, population apply to mode='evolve'"):
        tune_prompt_sync(_suite(), bw.Target("openai/x"), bw.Target("openai/y"),
                         population=3, generations=2, home=tmp_path)  # fmt: skip
    with pytest.raises(BenchworkError, match="mode must be"):
        tune_prompt_sync(_suite(), bw.Target("openai/x"), bw.Target("openai/y"),
                         mode="slow", home=tmp_path)  # type: ignore[arg-type]  # fmt: skip


SCRIPT = textwrap.dedent(
    """
    import json, sys
    import benchwork as bw
    from benchwork.tuning import tune_prompt_sync

    base_url, home, cache_dir, suite_file = sys.argv[1:5]
    target = bw.Target("openai/solver", api_base=base_url, concurrency=2)
    meta = bw.Target("openai/meta", api_base=base_url)
    r = tune_prompt_sync(suite_file, target, meta, mode="evolve", population=4, generations=6,
                         patience=2, dev=[f"q{i}" for i in range(20)], home=home,
                         cache_dir=cache_dir)
    print(json.dumps({"winner": r.winner, "spent": r.spent}), flush=True)
    """
)


def test_a_tuning_run_killed_with_sigkill_resumes_from_the_cache(tmp_path: Path) -> None:
    script, suite_file = tmp_path / "tune.py", tmp_path / "adds.yaml"
    script.write_text(SCRIPT)
    _suite().save(suite_file)
    models = _models(PromptRule("answer first", 0.95))
    models[0].ttft_s = 0.01  # slow enough for the kill to land mid-tuning
    with SimServer(models, answers=QA) as sim:
        argv = [sys.executable, str(script), sim.base_url, str(tmp_path / "runs"),
                str(tmp_path / "cache"), str(suite_file)]  # fmt: skip
        out = kill_9_when(argv, lambda: len(sim.requests) >= 90, what="90 calls of the tuning")
        assert b"winner" not in out
        before = len(sim.requests)
        sim.reset_log()
        done = subprocess.run(argv, capture_output=True, check=True, timeout=600)
        after = len(sim.requests)
        sim.reset_log()
        again = subprocess.run(argv, capture_output=True, check=True, timeout=600)
        assert sim.requests == [], "a finished tuning run reruns entirely from the cache"
    resumed = json.loads(done.stdout.decode().strip().splitlines()[-1])
    spent = resumed["spent"]
    # the rerun paid only for what the killed run had not finished (plus calls in flight)
    assert spent["fresh"] == after and spent["cached"] >= before - 4
    assert before + after <= spent["calls"] + 4 and spent["cached"] > 0
    assert json.loads(again.stdout.decode().strip().splitlines()[-1])["winner"] == resumed["winner"]
    assert "answer first" in resumed["winner"].lower()


def test_benchwork_tune_evolve_from_the_command_line(tmp_path: Path, capsys) -> None:
    from benchwork.cli import main

    suite_file = tmp_path / "adds.yaml"
    _suite().save(suite_file)
    with SimServer(_models(PromptRule("answer first", 0.95)), answers=QA) as sim:
        code = main(["tune", str(suite_file), "-m", "openai/solver", "--meta", "openai/meta",
                     "--api-base", sim.base_url, "--mode", "evolve", "--population", "4",
                     "--generations", "6", "--patience", "2", "--budget-calls", "2000",
                     "--home", str(tmp_path)])  # fmt: skip
        out = capsys.readouterr().out
        assert code == 0 and "generation 0:" in out and "generation 1:" in out
        assert "winner: You answer questions." in out and "answer first" in out.lower()
        assert "held-out:" in out and "confirmed on held-out cases" in out
        assert "stopped: patience" in out or "stopped: generations" in out
        code = main(["tune", str(suite_file), "-m", "openai/solver", "--meta", "openai/meta",
                     "--api-base", sim.base_url, "--mode", "evolve", "--budget-calls", "100",
                     "--generations", "3", "--home", str(tmp_path), "--json"])  # fmt: skip
        data = json.loads(capsys.readouterr().out)
        assert code == 0 and data["stopped"] == "budget_calls" and data["spent"]["calls"] <= 100
        assert {"generation", "parent"} <= set(data["candidates"][0])
        code = main(["tune", str(suite_file), "-m", "openai/solver", "--meta", "openai/meta",
                     "--api-base", sim.base_url, "--population", "3", "--home", str(tmp_path)])  # fmt: skip
    assert code != 0 and "--population need --mode evolve" in capsys.readouterr().err
