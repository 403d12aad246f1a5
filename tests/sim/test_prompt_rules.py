"""Simulated models that react to the prompt (issue 14 item 5): a system prompt that asks for
the answer first raises accuracy; a rule limited to some questions fits a dev split only, so a
held-out split exposes it. Over real HTTP, judged by the paired statistics."""

from __future__ import annotations

from pathlib import Path

import pytest

import benchwork as bw
from benchwork.sim import PromptRule, SimModel, SimServer

QA = {f"What is {i} plus {i}?": str(2 * i) for i in range(40)}


def _suite(system: str, ids: range) -> bw.Suite:
    qs = list(QA.items())
    cases = [bw.Case(id=f"q{i}", input=qs[i][0], expected=qs[i][1]) for i in ids]
    return bw.Suite(name="adds", cases=cases, system=system)


def _mean(run: bw.Run) -> float:
    return float(run.results["score_exact"].mean())  # type: ignore[arg-type]


def test_a_prompt_that_helps_is_found_better_by_the_paired_test(tmp_path: Path) -> None:
    model = SimModel("picky", ttft_s=0, itl_s=0, accuracy=0.3, seed=7,
                     prompt_rules=[PromptRule("answer first", 0.95)])  # fmt: skip
    with SimServer([model], answers=QA) as sim:
        target = bw.Target("openai/picky", api_base=sim.base_url)
        plain = bw.run_sync(
            _suite("Be helpful.", range(40)), target, cache="off", home=tmp_path, progress=False
        )
        tuned = bw.run_sync(_suite("Give the answer first.", range(40)), target, cache="off",
                            home=tmp_path, progress=False)  # fmt: skip
    assert _mean(plain) < 0.5 < 0.85 < _mean(tuned)
    verdict = bw.analysis.compare_runs(plain, tuned)
    row = verdict.filter(verdict["metric"] == "score_exact").row(0, named=True)
    assert row["verdict"].startswith("better"), row


def test_a_rule_limited_to_dev_questions_does_not_carry_to_held_out_ones(tmp_path: Path) -> None:
    # the phrase helps only questions about numbers below 20: "dev" q0..q19, held-out q20..q39
    rule = PromptRule("be precise", 1.0, only_cases=r"\b1?\d plus")
    model = SimModel("overfit", ttft_s=0, itl_s=0, accuracy=0.3, seed=3, prompt_rules=[rule])
    with SimServer([model], answers=QA) as sim:
        target = bw.Target("openai/overfit", api_base=sim.base_url)

        def score(system: str, ids: range) -> float:
            return _mean(
                bw.run_sync(_suite(system, ids), target, cache="off", home=tmp_path, progress=False)
            )

        dev_gain = score("Be precise.", range(20)) - score("Be kind.", range(20))
        held_gain = score("Be precise.", range(20, 40)) - score("Be kind.", range(20, 40))
    assert dev_gain >= 0.5 and held_gain == pytest.approx(0.0)


def test_rules_are_checked() -> None:
    with pytest.raises(ValueError, match="prompt rule accuracy"):
        PromptRule("x", 1.5)
    with pytest.raises(ValueError, match="only_cases"):
        PromptRule("x", 0.5, only_cases="(")
    model = SimModel("m", prompt_rules=[{"contains": "answer first", "accuracy": 0.9}])  # type: ignore[list-item]
    assert (
        model.accuracy_for("Please ANSWER FIRST.", "q") == 0.9
        and model.accuracy_for("hi", "q") == 1.0
    )
