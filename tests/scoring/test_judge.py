"""LLM-as-judge over real HTTP against the simulated judge: parsing, re-ask, reference grading,
panel votes and agreement, pairwise order swap, caching, judge cost and self-grading."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

import benchwork as bw
from benchwork.analysis import pairwise_summary
from benchwork.cache import CallCache
from benchwork.errors import BenchworkError
from benchwork.results import CallRecord, records_to_frame
from benchwork.runner import compare_sync as compare
from benchwork.scoring import (
    Judge,
    JudgeModel,
    JudgeReference,
    Panel,
    SelfGradingWarning,
    fleiss_kappa,
    get_scorer,
    panel_agreement,
    score_records,
)
from benchwork.scoring._judge_parse import find_json, read_score, read_verdict, read_winner
from benchwork.sim import SimModel, SimServer
from benchwork.sim.judge import judge_reply
from benchwork.suite import Suite
from benchwork.target import Target

Z = {"ttft_s": 0.0, "itl_s": 0.0}
MODELS = [
    SimModel("good", **Z),
    SimModel("bad", accuracy=0.0, **Z),
    SimModel("judge", role="judge", input_per_mtok=1.0, output_per_mtok=2.0, **Z),
    SimModel("judge2", role="judge", seed=5, **Z),
    SimModel("judge-wrong", role="judge", accuracy=0.0, **Z),
    SimModel("judge-bad", role="judge", malformed_rate=1.0, **Z),
    SimModel("judge-flaky", role="judge", malformed_rate=0.5, seed=3, **Z),
    SimModel("judge-biased", role="judge", position_bias=1.0, **Z),
]
QA = {f"What is {i} + {i}?": str(2 * i) for i in range(1, 9)}


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    with SimServer(MODELS, answers=QA) as server:
        yield server


@pytest.fixture
def log(sim: SimServer) -> Any:
    """Reset the sim's request log; return a function counting requests per model."""
    sim.reset_log()
    return lambda model: [e for e in sim.requests if e["model"] == model]


def jt(sim: SimServer, model: str = "judge", **kw: Any) -> Target:
    """A judge target on the lean path (openai_like: no litellm lookup)."""
    return Target(f"openai_like/{model}", api_base=sim.base_url, params={"temperature": 0}, **kw)


def cases() -> list[dict[str, Any]]:
    return [{"id": f"q{i}", "input": q, "expected": a} for i, (q, a) in enumerate(QA.items())]


def rec(case_id: str, output: str, model: str = "openai_like/good", **kw: Any) -> CallRecord:
    return CallRecord(
        run_id="r", case_id=case_id, target="t", model=model, output_text=output, **kw
    )


def suite() -> Suite:
    return Suite.from_dict({"name": "qa", "cases": cases()})


# ---------------------------------------------------------------- parsing (no HTTP)


@pytest.mark.parametrize(
    "text",
    [
        '{"reasoning": "fine", "score": 4}',
        '```json\n{"reasoning": "fine", "score": 4}\n```',
        'Sure! Here is my grade:\n{"reasoning": "fine {really}", "score": 4}\nHope that helps.',
        'First {not json}. Then {"note": 1} and {"reasoning": "fine", "score": "4"}',
        '```\n{"score": 4.0, "reasoning": "fine"}\n```\nextra prose',
    ],
)
def test_read_score_finds_json_in_fences_and_prose(text: str) -> None:
    value, _, problem = read_score(text, (1, 5))
    assert value == 4.0 and problem is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        ("I would say it is good.", "no JSON object"),
        ('{"reasoning": "x", "score": ', "no JSON object"),
        ('{"reasoning": "x"}', "no 'score' field"),
        ('{"reasoning": "x", "score": 42}', "outside 1 to 5"),
        ('{"reasoning": "x", "score": "high"}', "not a number"),
        ('{"reasoning": "x", "score": true}', "not a number"),
    ],
)
def test_read_score_problems(text: str, problem: str) -> None:
    value, _, why = read_score(text, (1, 5))
    assert value is None and problem in (why or "")


def test_read_verdict_and_winner() -> None:
    assert read_verdict('{"verdict": "Partially correct"}')[0] == "partial"
    assert read_verdict('{"verdict": "WRONG"}')[0] == "incorrect"
    assert read_verdict('{"verdict": "maybe"}')[0] is None
    assert read_winner('{"winner": "Output B"}')[0] == "B"
    assert read_winner('{"winner": "tie"}')[0] == "tie"
    assert read_winner('{"winner": "C"}')[0] is None
    assert find_json("[1, 2]", "score") == (None, "no JSON object found in the reply")


def test_fleiss_kappa_textbook() -> None:
    assert fleiss_kappa([[3, 0], [0, 3]]) == pytest.approx(1.0)
    assert fleiss_kappa([[1, 2], [2, 1]]) == pytest.approx(-1 / 3)
    assert fleiss_kappa([[3, 0], [3, 0]]) is None  # one category throughout: undefined
    assert fleiss_kappa([]) is None


def test_sim_judge_replies_in_several_styles() -> None:
    model = MODELS[2]
    styles = set()
    for q, a in QA.items():
        prompt = f'<input>\n{q}\n</input>\n<output>\n{a}\n</output>\n<expected>\n{a}\n</expected>\nfrom 1 to 5 "score"'
        text = judge_reply(model, [{"role": "user", "content": prompt}], 0, {})
        styles.add("fenced" if text.startswith("```") else "prose" if text[0] != "{" else "bare")
        assert read_score(text, (1, 5))[0] == 5.0
    assert styles == {"bare", "fenced", "prose"}


# ---------------------------------------------------------------- rubric and reference over HTTP


async def test_rubric_scores_right_partial_wrong(sim: SimServer, log: Any) -> None:
    judge = Judge(jt(sim))
    records = [rec("q0", "2"), rec("q1", "It is 4, I believe"), rec("q2", "7")]
    await score_records(cases(), records, [judge])
    got = [(r.scores["judge"]["value"], r.scores["judge"]["label"]) for r in records]
    assert got == [(1.0, "5/5"), (0.5, "3/5"), (0.0, "1/5")]
    assert "5/5 by openai_like/judge: " in records[0].scores["judge"]["explanation"]
    assert "matches the expected answer" in records[0].scores["judge"]["explanation"]
    assert len(log("judge")) == 3
    assert all(r.scores["judge"]["meta"]["judge_calls"] == 1 for r in records)


async def test_rubric_scale_0_to_1(sim: SimServer, log: Any) -> None:
    records = [rec("q0", "2"), rec("q1", "9")]
    await score_records(cases(), records, [Judge(jt(sim), scale=(0, 1), name="j01")])
    assert [r.scores["j01"]["value"] for r in records] == [1.0, 0.0]
    assert "from 0 to 1" in log("judge")[0]["prompt"]


async def test_malformed_twice_is_one_reask_then_an_error(sim: SimServer, log: Any) -> None:
    records = [rec("q0", "2")]
    await score_records(cases(), records, [Judge(jt(sim, "judge-bad"))])
    score = records[0].scores["judge"]
    assert score["value"] is None and score["label"] == "error"
    assert score["explanation"].startswith("judge output unparseable:")
    assert "after one re-ask" in score["explanation"]
    sent = log("judge-bad")
    assert len(sent) == 2  # the ask and exactly one re-ask
    assert sent[1]["prompt"].startswith("Your reply could not be used:")
    assert score["meta"]["judge_calls"] == 2


async def test_reask_recovers_a_flaky_judge(sim: SimServer, log: Any) -> None:
    records = [rec(f"q{i}", a) for i, a in enumerate(QA.values())]
    await score_records(cases(), records, [Judge(jt(sim, "judge-flaky"))])
    calls = [r.scores["judge"]["meta"]["judge_calls"] for r in records]
    assert len(log("judge-flaky")) == sum(calls)
    recovered = [
        r.scores["judge"]
        for r in records
        if r.scores["judge"]["meta"]["judge_calls"] == 2 and r.scores["judge"]["value"] is not None
    ]
    assert recovered and all("re-asked once" in s["explanation"] for s in recovered)
    first_try = [
        r.scores["judge"] for r in records if r.scores["judge"]["meta"]["judge_calls"] == 1
    ]
    assert first_try and all(s["value"] == 1.0 for s in first_try)


async def test_reference_grading(sim: SimServer, log: Any) -> None:
    scorer = JudgeReference(jt(sim))
    records = [rec("q0", "2"), rec("q1", "5"), rec("q2", "The answer is 6 of course")]
    no_expected = [{"id": "free", "input": "Say hi"}]
    free = [rec("free", "hi")]
    await score_records(cases(), records, [scorer])
    await score_records(no_expected, free, [scorer])
    assert [r.scores["judge_reference"]["label"] for r in records] == [
        "correct",
        "incorrect",
        "partial",
    ]
    assert [r.scores["judge_reference"]["value"] for r in records] == [1.0, 0.0, 0.5]
    assert free[0].scores["judge_reference"]["label"] == "skipped"
    assert len(log("judge")) == 3
    assert '"verdict"' in log("judge")[0]["prompt"]


async def test_judge_call_failure_is_an_error_score(sim: SimServer, log: Any) -> None:
    records = [rec("q0", "2")]
    await score_records(cases(), records, [Judge(jt(sim, "no-such-judge"))])
    score = records[0].scores["judge"]
    assert score["value"] is None and score["explanation"].startswith("judge call failed")


# ---------------------------------------------------------------- panel


async def test_panel_majority_mean_and_agreement(sim: SimServer, log: Any) -> None:
    judges = [jt(sim), jt(sim, "judge2"), jt(sim, "judge-wrong")]
    majority = Panel(judges, kind="reference", name="maj")
    mean = Panel(judges, kind="reference", vote="mean", name="avg")
    records = [rec("q0", "2"), rec("q1", "5")]
    await score_records(cases(), records, [majority])
    asked = len(sim.requests)
    await score_records(cases(), records, [mean])
    assert len(sim.requests) == asked  # same judges, same prompts: all from the cache
    right, wrong = (r.scores for r in records)
    assert right["maj"]["value"] == 1.0 and right["maj"]["label"] == "correct"
    assert wrong["maj"]["value"] == 0.0 and wrong["maj"]["label"] == "incorrect"
    assert right["avg"]["value"] == pytest.approx(2 / 3)
    assert wrong["avg"]["value"] == pytest.approx(1 / 3)
    assert right["maj"]["meta"]["agreement"] == pytest.approx(2 / 3)
    assert "2/3 judges agree" in right["maj"]["explanation"]
    assert right["maj"]["meta"]["votes"]["openai_like/judge-wrong"] == 0.0
    frame = records_to_frame(records)
    assert frame["score_maj_agreement"].to_list() == pytest.approx([2 / 3, 2 / 3])
    stats = panel_agreement(records, "maj")
    assert stats["mean_agreement"] == pytest.approx(2 / 3)
    assert stats["fleiss_kappa"] == pytest.approx(-1 / 3)  # rows [1, 2] and [2, 1]
    assert len(log("judge")) == 2 and len(log("judge-wrong")) == 2


def test_panel_needs_two_judges_and_known_vote(sim: SimServer) -> None:
    with pytest.raises(BenchworkError, match="at least 2 judges"):
        Panel([jt(sim)])
    with pytest.raises(BenchworkError, match="vote"):
        Panel([jt(sim), jt(sim, "judge2")], vote="plurality")


# ---------------------------------------------------------------- cache, cost, self-grading


async def test_judge_calls_are_cached(sim: SimServer, log: Any, tmp_path: Any) -> None:
    records = [rec("q0", "2"), rec("q1", "9")]
    priced = jt(sim, input_per_mtok=1.0, output_per_mtok=2.0)
    await score_records(cases(), records, [Judge(priced, cache_dir=tmp_path / "c")])
    assert len(log("judge")) == 2
    sim.reset_log()
    again = [rec("q0", "2"), rec("q1", "9")]
    await score_records(cases(), again, [Judge(priced, cache_dir=tmp_path / "c")])
    assert log("judge") == []  # second scoring: 0 judge requests
    assert [r.scores["judge"]["value"] for r in again] == [1.0, 0.0]
    assert all(r.scores["judge"]["meta"]["cached"] for r in again)
    assert again[0].scores["judge"]["cost_usd"] == records[0].scores["judge"]["cost_usd"] > 0


def test_run_with_judge_records_its_cost_apart(sim: SimServer, log: Any, tmp_path: Any) -> None:
    cand = Target(
        "openai_like/good",
        name="good",
        api_base=sim.base_url,
        input_per_mtok=10.0,
        output_per_mtok=20.0,
    )
    judge = {"type": "judge", "judge": jt(sim, input_per_mtok=1.0, output_per_mtok=2.0)}
    run = bw.run_sync(suite(), cand, scorers=["exact", judge], progress=False)
    df = run.results
    assert df["score_exact"].to_list() == [1.0] * len(QA)
    assert df["score_judge"].to_list() == [1.0] * len(QA)
    for row in df.iter_rows(named=True):  # candidate cost: candidate tokens × candidate prices
        assert row["cost_usd"] == pytest.approx(
            (row["input_tokens"] * 10 + row["output_tokens"] * 20) / 1e6
        )
    for r in run.records:
        s = r.scores["judge"]
        assert s["cost_usd"] == pytest.approx(
            (s["input_tokens"] * 1 + s["output_tokens"] * 2) / 1e6
        )
        assert s["judge"] == "openai_like/judge"
    assert df["score_judge_cost_usd"].dtype.is_float()
    summary = run.summary()
    assert summary["score_judge_cost_usd"][0] == pytest.approx(df["score_judge_cost_usd"].sum())
    assert "score_judge_cost_usd_mean" not in summary.columns
    # judge calls went into the run's cache: a rerun makes no request at all
    sim.reset_log()
    again = bw.run_sync(suite(), cand, scorers=["exact", judge], progress=False)
    assert sim.requests == []
    assert again.results["score_judge"].to_list() == [1.0] * len(QA)


async def test_self_grading_warns(sim: SimServer, log: Any) -> None:
    records = [rec("q0", "2", model="openai/judge")]  # same model, another provider prefix
    with pytest.warns(SelfGradingWarning, match="its own model"):
        await score_records(cases(), records, [Judge(jt(sim))])
    assert "judge grades its own model" in records[0].scores["judge"]["explanation"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", SelfGradingWarning)  # another model: no warning
        await score_records(cases(), [rec("q0", "2")], [Judge(jt(sim))])


# ---------------------------------------------------------------- configuration


async def test_template_override_and_output_cut(sim: SimServer, log: Any) -> None:
    template = (
        "Is this right? <input>{{ input }}</input> <output>{{ output }}</output> "
        '<expected>{{ expected }}</expected> Answer {"reasoning": "...", "verdict": ...}'
    )
    scorer = JudgeReference(jt(sim), template=template, system=None, max_output_chars=100)
    records = [rec("q0", "2"), rec("q1", "x" * 5000)]
    await score_records(cases(), records, [scorer])
    assert records[0].scores["judge_reference"]["label"] == "correct"
    assert "output cut to 100 characters" in records[1].scores["judge_reference"]["explanation"]
    sent = log("judge")
    assert sent[0]["prompt"].startswith("Is this right?")
    assert max(len(e["prompt"]) for e in sent) < 500
    with pytest.raises(BenchworkError, match="nope"):
        Judge(jt(sim), template="{{ output }} {{ nope }}")


def test_judge_spec_needs_a_model(monkeypatch: pytest.MonkeyPatch, sim: SimServer) -> None:
    monkeypatch.delenv("BENCHWORK_JUDGE_MODEL", raising=False)
    with pytest.raises(BenchworkError, match="BENCHWORK_JUDGE_MODEL"):
        get_scorer("judge")
    with pytest.raises(BenchworkError, match="did you mean 'rubric'"):
        get_scorer({"type": "judge", "judge": "openai/x", "rubrik": "be nice"})
    monkeypatch.setenv("BENCHWORK_JUDGE_MODEL", "openai_like/judge")
    monkeypatch.setenv("BENCHWORK_JUDGE_API_BASE", sim.base_url)
    scorer = get_scorer("judge_reference")
    assert isinstance(scorer.judge, JudgeModel)
    assert scorer.judge.target.api_base == sim.base_url


# ---------------------------------------------------------------- pairwise


def _two_target_run(sim: SimServer) -> Any:
    targets = [
        Target("openai_like/good", name="good", api_base=sim.base_url),
        Target("openai_like/bad", name="bad", api_base=sim.base_url),
    ]
    return bw.run_sync(suite(), targets, scorers=["exact"], progress=False)


def test_pairwise_judges_both_orders(sim: SimServer, log: Any) -> None:
    run = _two_target_run(sim)
    sim.reset_log()
    frame = compare(run, "good", "bad", judge=jt(sim))
    assert frame.height == len(QA)
    assert frame["winner"].to_list() == ["a"] * len(QA)
    assert frame["winner_a_first"].to_list() == frame["winner_b_first"].to_list()
    assert not frame["position_bias"].any()
    sent = log("judge")
    assert len(sent) == 2 * len(QA)  # every case in both orders
    good = {r.case_id: r.output_text for r in run.records if r.target == "good"}
    firsts = {e["prompt"].split("<output_a>\n")[1].split("\n</output_a>")[0] for e in sent}
    assert set(good.values()) <= firsts  # good's output shown first ...
    bad = {r.output_text for r in run.records if r.target == "bad"}
    assert bad & firsts  # ... and bad's output shown first too
    s = pairwise_summary(frame).row(0, named=True)
    assert s["win_rate_a"] == 1.0 and s["position_bias_rate"] == 0.0 and s["errors"] == 0
    sim.reset_log()
    compare(run, "good", "bad", judge=jt(sim))  # cached
    assert log("judge") == []


def test_pairwise_detects_position_bias(sim: SimServer, log: Any) -> None:
    run = _two_target_run(sim)
    frame = compare(run, "good", "bad", judge=jt(sim, "judge-biased"))
    assert frame["position_bias"].all()
    assert frame["winner_a_first"].to_list() == ["a"] * len(QA)
    assert frame["winner_b_first"].to_list() == ["b"] * len(QA)
    assert frame["winner"].to_list() == ["tie"] * len(QA)
    s = pairwise_summary(frame).row(0, named=True)
    assert s["position_bias_rate"] == 1.0 and s["tie_rate"] == 1.0
    with pytest.raises(BenchworkError, match="no calls of target 'nope'"):
        compare(run, "good", "nope", judge=jt(sim))


def test_score_dict_round_trips_through_json() -> None:
    record = rec("q0", "2")
    record.scores = {
        "judge": {"value": 1.0, "label": "5/5", "explanation": "x", "cost_usd": 0.5, "meta": {}}
    }
    back = CallRecord.from_dict(json.loads(json.dumps(record.to_dict())))
    assert records_to_frame([back])["score_judge_cost_usd"].to_list() == [0.5]
    assert CallCache  # imported for type completeness
