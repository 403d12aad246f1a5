"""The prompt tuner's quick mode (issue 14 item 2) against prompt-sensitive simulated models:
it finds a real improvement and confirms it on held-out cases, and the held-out check catches a
rewrite that only fits the dev split. Over real HTTP; every call cached (a rerun pays nothing)."""

from __future__ import annotations

from pathlib import Path

import benchwork as bw
from benchwork.sim import PromptRule, SimModel, SimServer
from benchwork.tuning import tune_prompt_sync

QA = {f"What is {i} plus {i}?": str(2 * i) for i in range(40)}
DEV = [f"q{i}" for i in range(20)]  # questions about 0..19; held out: 20..39


def _suite() -> bw.Suite:
    cases = [{"id": f"q{i}", "input": q, "expected": a} for i, (q, a) in enumerate(QA.items())]
    return bw.Suite.from_records(cases, name="adds", system="You answer questions.")


def _models(rule: PromptRule) -> list[SimModel]:
    return [
        SimModel("solver", ttft_s=0, itl_s=0, accuracy=0.3, seed=11, prompt_rules=[rule]),
        SimModel("meta", role="rewriter", ttft_s=0, itl_s=0, seed=2),
    ]


def test_the_tuner_finds_and_confirms_a_real_improvement(tmp_path: Path) -> None:
    with SimServer(_models(PromptRule("answer first", 0.95)), answers=QA) as sim:
        target = bw.Target("openai/solver", api_base=sim.base_url)
        meta = bw.Target("openai/meta", api_base=sim.base_url)
        result = tune_prompt_sync(
            _suite(), target, meta, k=6, dev=DEV, cache_dir=tmp_path / "c", home=tmp_path
        )
        sim.reset_log()
        again = tune_prompt_sync(
            _suite(), target, meta, k=6, dev=DEV, cache_dir=tmp_path / "c", home=tmp_path
        )
        assert sim.requests == [], "a rerun comes entirely from the cache"
    assert "answer first" in result.winner.lower() and result.winner.startswith(
        "You answer questions."
    )
    assert result.confirmed, result.confirmation
    assert result.confirmation["diff"] > 0.4 and result.confirmation["p_holm"] < 0.05
    assert result.frame.height >= 3 and result.frame["candidate"][0] == "original"
    # the frame the tuning widget reads: quick mode's rewrites are generation 1, without parents
    gens = result.frame["generation"].to_list()
    assert gens == [0] + [1] * (len(gens) - 1) and result.frame["parent"].null_count() == len(gens)
    assert result.mode == "quick" and result.stopped == "done"
    assert again.winner == result.winner


def test_the_held_out_check_catches_a_rewrite_that_only_fits_dev(tmp_path: Path) -> None:
    # "be precise" helps only questions about numbers below 20: exactly the dev split
    with SimServer(
        _models(PromptRule("be precise", 1.0, only_cases=r"\b1?\d plus")), answers=QA
    ) as sim:
        target = bw.Target("openai/solver", api_base=sim.base_url)
        meta = bw.Target("openai/meta", api_base=sim.base_url)
        result = tune_prompt_sync(_suite(), target, meta, k=6, dev=DEV, home=tmp_path)
    dev_best = result.frame.sort("dev_mean", descending=True).row(0, named=True)
    assert "be precise" in result.winner.lower() and dev_best["dev_mean"] == 1.0
    assert not result.confirmed and result.confirmation["verdict"].startswith("no detectable")


def test_benchwork_tune_prints_the_winner_and_its_confirmation(tmp_path: Path, capsys) -> None:
    from benchwork.cli import main

    suite_file = tmp_path / "adds.yaml"
    _suite().save(suite_file)
    with SimServer(_models(PromptRule("answer first", 0.95)), answers=QA) as sim:
        code = main(["tune", str(suite_file), "-m", "openai/solver", "--meta", "openai/meta",
                     "--api-base", sim.base_url, "--k", "6", "--home", str(tmp_path)])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0 and "winner: You answer questions." in out and "answer first" in out.lower()
    assert "held-out:" in out and ("confirmed on held-out cases" in out or "NOT confirmed" in out)
