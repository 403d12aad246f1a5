"""Tool-calling evaluation over real HTTP against the simulated provider (no monkeypatching).

Sim models that call the right tool, a wrong tool, wrong arguments, no tool, or tools forever;
multi-turn conversations with mock tool results; TTFT on a tool-call stream; the lean path and
litellm's anthropic route giving the same rows; the cache; the bundled suite through the CLI.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import aiohttp
import pytest

import benchwork as bw
from benchwork.cli import main as cli_main
from benchwork.client import MockTools
from benchwork.runner import plan_calls
from benchwork.scoring import ToolArgs
from benchwork.sim import TOOLS_SUITE_PATH, SimModel, SimServer

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # pydantic notes from litellm

KEY_ENV = "BENCHWORK_TEST_SIM_KEY"
os.environ.setdefault(KEY_ENV, "sk-sim-test")  # litellm's anthropic route wants some key

ZERO = {"ttft_s": 0.0, "itl_s": 0.0}
TTFT, ITL = 0.3, 0.05
MODELS = [
    SimModel("right", **ZERO),
    SimModel("wrong-tool", tool_behavior="wrong_tool", **ZERO),
    SimModel("wrong-args", tool_behavior="wrong_args", **ZERO),
    SimModel("none", tool_behavior="none", **ZERO),
    SimModel("loop", tool_behavior="loop", **ZERO),
    SimModel("timed", ttft_s=TTFT, itl_s=ITL),
]
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
SEARCH = {"type": "function", "function": {"name": "web_search", "parameters": {}}}
# a case whose final answer is unknown: the model answers "Result: <last tool result>"
ECHO = bw.Case(
    id="echo",
    input="Look up the weather in Oslo.",
    tools=[WEATHER, SEARCH],
    metadata={
        "expected_tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}],
        "tool_responses": {"get_weather": {"city": "Oslo", "temperature": -3}},
    },
)
# tools but no mock results: a single call whose record ends at the tool call
SINGLE = bw.Case(
    id="single",
    input="Weather in Lima, please.",
    tools=[WEATHER, SEARCH],
    metadata={"expected_tool_calls": [{"name": "get_weather", "arguments": {"city": "Lima"}}]},
)

# long arguments: the name fragment at TTFT, then 9 argument fragments ITL apart
WORDS = "one two three four five six seven eight"
TIMED = bw.Case(
    id="timed",
    input="Search for the eight words.",
    tools=[WEATHER, SEARCH],
    metadata={"expected_tool_calls": [{"name": "web_search", "arguments": {"query": WORDS}}]},
)


def _answers(*suites: bw.Suite) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for s in suites:
        out.update(s.expected_by_prompt())
        out.update(s.expected_tools_by_prompt())
    return out


@pytest.fixture(scope="module")
def tools_suite() -> bw.Suite:
    return bw.Suite.load(TOOLS_SUITE_PATH)


@pytest.fixture(scope="module")
def extra_suite() -> bw.Suite:
    return bw.Suite(name="extra", cases=[ECHO, SINGLE, TIMED], scorers=["tool_selection"])


@pytest.fixture(scope="module")
def sim(tools_suite, extra_suite):
    with SimServer(MODELS, answers=_answers(tools_suite, extra_suite)) as server:
        yield server


def _lean(sim: SimServer, model: str, **kw: Any) -> bw.Target:
    return bw.Target(f"openai/{model}", api_base=sim.base_url, **kw)


def _anthropic(sim: SimServer, model: str, **kw: Any) -> bw.Target:
    # litellm's anthropic route appends /v1/messages itself: pass the server root
    return bw.Target(f"anthropic/{model}", api_base=sim.url, api_key_env=KEY_ENV, **kw)


def _run(suite: bw.Suite, targets: list[bw.Target], **kw: Any) -> bw.Run:
    kw.setdefault("cache", "off")
    return bw.run_sync(suite, targets, progress=False, **kw)


def _rows(run: bw.Run) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["target"], r["case_id"]): r for r in run.results.iter_rows(named=True)}


def _names(row: dict[str, Any]) -> list[str]:
    return [c["function"]["name"] for c in json.loads(row["tool_calls"] or "[]")]


# -- the wire --------------------------------------------------------------------------------
async def test_openai_stream_fragments_and_anthropic_tool_use_events(sim):
    prompt = "Weather in Lima, please."
    body = {
        "model": "right",
        "messages": [{"role": "user", "content": prompt}],
        "tools": [WEATHER, SEARCH],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    async with aiohttp.ClientSession() as s:
        async with s.post(sim.base_url + "/chat/completions", json=body) as r:
            lines = [ln for ln in (await r.text()).splitlines() if ln.startswith("data: {")]
        chunks = [json.loads(ln[6:]) for ln in lines]
        frags = [
            c["choices"][0]["delta"]["tool_calls"][0]
            for c in chunks
            if c["choices"] and "tool_calls" in c["choices"][0]["delta"]
        ]
        assert frags[0]["id"] and frags[0]["function"] == {"name": "get_weather", "arguments": ""}
        assert len(frags) >= 2 and all("name" not in f["function"] for f in frags[1:])
        args = "".join(f["function"]["arguments"] for f in frags)
        assert json.loads(args) == {"city": "Lima"}
        assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == (
            "tool_calls"
        )
        assert chunks[-1]["usage"]["completion_tokens"] == len(frags)

        body = {**body, "tools": [{"name": "get_weather", "input_schema": {}}], "max_tokens": 50}
        async with s.post(sim.url + "/v1/messages", json=body) as r:
            blocks = [b.split("\n", 1) for b in (await r.text()).strip().split("\n\n")]
        events = [(e.removeprefix("event: "), json.loads(d[6:])) for e, d in blocks]
        starts = [d for e, d in events if e == "content_block_start"]
        assert starts[1]["content_block"]["type"] == "tool_use"
        assert starts[1]["content_block"]["name"] == "get_weather"
        partial = [d["delta"]["partial_json"] for e, d in events if e == "content_block_delta"]
        assert json.loads("".join(partial)) == {"city": "Lima"}
        stop = next(d for e, d in events if e == "message_delta")
        assert stop["delta"]["stop_reason"] == "tool_use"


# -- scoring the behaviours ---------------------------------------------------------------------
def test_behaviours_score_as_expected(sim, tools_suite):
    models = ["right", "wrong-tool", "wrong-args", "none"]
    run = _run(tools_suite, [_lean(sim, m, name=m) for m in models])
    rows = _rows(run)
    assert len(rows) == 4 * len(tools_suite) and all(r["status"] == "ok" for r in rows.values())
    tool_cases = [c.id for c in tools_suite if c.metadata["expected_tool_calls"]]

    for case in tools_suite:  # the right model: every score 1, the final answer given
        r = rows["right", case.id]
        assert (r["score_tool_selection"], r["score_contains"]) == (1.0, 1.0), case.id
        assert r["score_tool_args"] in (1.0, None) and r["output_text"] == case.expected
    for cid in tool_cases:
        wrong_tool = rows["wrong-tool", cid]
        assert wrong_tool["score_tool_selection"] == 0.0 and wrong_tool["score_tool_args"] == 0.0
        assert "missing" in wrong_tool["score_tool_selection_explanation"]
        assert "extra" in wrong_tool["score_tool_selection_explanation"]
        assert "not called" in wrong_tool["score_tool_args_explanation"]
        wrong_args = rows["wrong-args", cid]
        assert wrong_args["score_tool_selection"] == 1.0
        assert (
            wrong_args["score_tool_args"] < 1.0 and "≠" in wrong_args["score_tool_args_explanation"]
        )
        none = rows["none", cid]
        assert none["tool_calls"] is None and none["score_tool_selection"] == 0.0
        assert none["turns"] == 1 and none["score_contains"] == 0.0
    weather = rows["wrong-args", "weather-paris"]
    assert weather["score_tool_args"] == 0.5  # city wrong, unit right
    assert "get_weather.city: 'unknown' ≠ 'Paris'" in weather["score_tool_args_explanation"]

    # the case where no tool should be called
    assert rows["right", "no-tool-greeting"]["tool_calls"] is None
    explanation = rows["right", "no-tool-greeting"]["score_tool_selection_explanation"]
    assert explanation == "no tool calls, as expected"
    extra = rows["wrong-tool", "no-tool-greeting"]
    assert extra["score_tool_selection"] == 0.0
    assert "extra get_weather" in extra["score_tool_selection_explanation"]
    assert extra["output_text"] == "Bonjour" and extra["turns"] == 2  # answered after the error
    assert rows["none", "no-tool-greeting"]["score_tool_selection"] == 1.0


# -- conversations -----------------------------------------------------------------------------
def test_conversation_feeds_results_back_and_ends_with_the_answer(sim, tools_suite, extra_suite):
    suite = bw.Suite(name="conv", cases=[tools_suite["two-step-weather"], ECHO, SINGLE])
    sim.reset_log()
    run = _run(suite, [_lean(sim, "right", name="right")], scorers=["tool_selection"])
    rows = _rows(run)
    two = rows["right", "two-step-weather"]
    assert _names(two) == ["web_search", "get_weather"]  # one call per turn, in order
    assert (two["turns"], two["attempts"], two["finish_reason"]) == (3, 3, "stop")
    assert two["output_text"] == "24" and two["score_tool_selection"] == 1.0
    echo = rows["right", "echo"]
    # the mock result went back to the model: with no known answer it repeats the last result
    assert echo["output_text"] == 'Result: {"city": "Oslo", "temperature": -3}'
    assert echo["turns"] == 2
    single = rows["right", "single"]  # no mock results: one call, ending at the tool call
    assert single["turns"] is None and single["finish_reason"] == "tool_calls"
    assert not single["output_text"]
    assert _names(single) == ["get_weather"]
    assert len(sim.requests) == 3 + 2 + 1
    # tokens and cost add up over turns; TTFT is the first turn's, latency the whole
    assert two["input_tokens"] > rows["right", "single"]["input_tokens"]
    assert two["latency_s"] >= two["ttft_s"] > 0 and two["chunks"] > 0


def test_turn_limit_stops_a_model_that_keeps_calling_tools(sim, tools_suite):
    case = tools_suite["weather-paris"]
    limited = bw.Case(
        id="limited",
        input=case.input,
        tools=case.tools,
        metadata={**case.metadata, "max_turns": 3},
    )
    sim.reset_log()
    run = _run(bw.Suite(name="limit", cases=[limited]), [_lean(sim, "loop")])
    row = run.results.row(0, named=True)
    assert row["status"] == "ok" and row["turns"] == 3 and row["attempts"] == 3
    assert row["finish_reason"] == "tool_calls" and not row["output_text"]
    assert _names(row) == ["get_weather"] * 3
    assert len(sim.requests) == 3


def test_bad_conversation_metadata_fails_before_any_call():
    bad = bw.Case(id="b", input="x", tools=[WEATHER], metadata={"tool_responses": "nope"})
    with pytest.raises(bw.errors.SuiteError, match="tool_responses"):
        _run(bw.Suite(name="bad", cases=[bad]), [bw.Target("openai/right", api_base="http://x")])
    bad.metadata = {"tool_responses": {}, "max_turns": 0}
    with pytest.raises(bw.errors.SuiteError, match="max_turns"):
        _run(bw.Suite(name="bad", cases=[bad]), [bw.Target("openai/right", api_base="http://x")])
    mock = MockTools(["first", {"n": 2}])
    assert mock.result_for("any", 1) == '{"n": 2}' and "no mock response" in mock.result_for(
        "any", 2
    )


# -- timing -------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["lean", "litellm"])
def test_ttft_counts_the_first_tool_call_delta(sim, path):
    target = (_lean if path == "lean" else _anthropic)(sim, "timed", params={"max_tokens": 100})
    # a warm-up first, so litellm's lazy imports are not inside the measured call
    run = _run(bw.Suite(name="ttft", cases=[TIMED]), [target], warmup=1)
    row = run.results.filter(~run.results["warmup"]).row(0, named=True)
    assert json.loads(row["tool_calls"])[0]["function"]["arguments"] == json.dumps({"query": WORDS})
    tokens = row["output_tokens"]  # the name fragment + the argument fragments
    assert row["finish_reason"] == "tool_calls" and tokens == 10 and row["chunks"] == tokens
    end = TTFT + (tokens - 1) * ITL  # when the last fragment is due: 0.75 s, not TTFT
    assert TTFT - 0.005 <= row["ttft_s"] < TTFT + 0.15, row["ttft_s"]  # the first fragment
    assert row["latency_s"] >= end - 0.005
    assert row["itl_mean_s"] == pytest.approx(ITL, abs=0.02)


# -- both client paths -------------------------------------------------------------------------
def test_lean_and_litellm_anthropic_give_the_same_rows(sim, tools_suite, extra_suite):
    cases = [*tools_suite.cases, ECHO]
    suite = bw.Suite(name="paths", cases=cases, scorers=tools_suite.scorers)
    targets = [
        _lean(sim, "wrong-args", name="lean", params={"max_tokens": 200}),
        _anthropic(sim, "wrong-args", name="litellm", params={"max_tokens": 200}),
    ]
    rows = _rows(_run(suite, targets))
    same = ["status", "finish_reason", "output_text", "turns", "attempts", "chunks"]
    same += ["input_tokens", "output_tokens", "tokens_estimated"]
    same += [c for c in next(iter(rows.values())) if c.startswith("score_")]
    for case in cases:
        lean, other = rows["lean", case.id], rows["litellm", case.id]
        assert lean["provider"] == "openai" and other["provider"] == "anthropic"
        assert {k: lean[k] for k in same} == {k: other[k] for k in same}, case.id
        calls = [json.loads(r["tool_calls"] or "[]") for r in (lean, other)]
        strip = [
            [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in cs]
            for cs in calls
        ]
        assert strip[0] == strip[1], case.id


# -- cache ---------------------------------------------------------------------------------------
def test_cached_rerun_sends_no_requests_and_key_covers_mock_results(sim, tools_suite, tmp_path):
    targets = [_lean(sim, "right", name="right")]
    first = _run(tools_suite, targets, cache="use", cache_dir=tmp_path / "c")
    sim.reset_log()
    again = _run(tools_suite, targets, cache="use", cache_dir=tmp_path / "c")
    assert len(sim.requests) == 0 and again.results["cached"].all()
    cols = ["case_id", "output_text", "tool_calls", "turns", "ttft_s", "score_tool_args"]
    before, after = (r.results.select(cols).sort("case_id") for r in (first, again))
    assert after.equals(before)

    resolved = [t.resolve() for t in targets]
    keys = plan_calls(tools_suite, resolved, run_id="r", repeats=1, warmup=0)["right"]
    changed = bw.Suite.from_dict(tools_suite.to_dict())
    changed["weather-paris"].metadata["tool_responses"]["get_weather"]["temperature"] = 19
    changed["calculator-product"].metadata["max_turns"] = 2
    other = plan_calls(changed, resolved, run_id="r", repeats=1, warmup=0)["right"]
    differ = {
        a.case.id
        for a, b in zip(keys, other, strict=True)
        if a.request.cache_key != b.request.cache_key
    }
    assert differ == {"weather-paris", "calculator-product"}
    assert keys[0].components["tool_responses"]["get_weather"]["temperature"] == 18
    # a case without mock results keeps the key format it always had
    plain = plan_calls(
        bw.Suite(name="p", cases=[SINGLE]), resolved, run_id="r", repeats=1, warmup=0
    )
    assert "tool_responses" not in plain["right"][0].components


# -- scorer rules ---------------------------------------------------------------------------------
def test_per_case_argument_rules_regex_and_present():
    calls = [{"function": {"name": "book", "arguments": '{"date": "2025-03-01", "note": "hi"}'}}]
    record = bw.results.CallRecord("r", "c", "t", "m", tool_calls=json.dumps(calls))
    expected = [{"name": "book", "arguments": {"date": r"^2025-\d\d-\d\d$", "note": "anything"}}]
    case = bw.Case(id="c", input="x", metadata={"expected_tool_calls": expected})
    assert ToolArgs()(case, record).value == 0.0
    assert ToolArgs(rules={"date": "regex", "book.note": "present"})(case, record).value == 1.0
    case.metadata["tool_arg_rules"] = {"book.date": "regex", "note": "present"}
    assert ToolArgs()(case, record).value == 1.0  # the case's own rules win
    case.metadata["tool_arg_rules"] = {"note": "telepathy"}
    with pytest.raises(bw.BenchworkError, match="telepathy"):
        ToolArgs()(case, record)


def test_sim_tool_behaviour_validation_and_weights():
    with pytest.raises(ValueError, match="tool_behavior"):
        SimModel("x", tool_behavior="sometimes")
    with pytest.raises(ValueError, match="weights"):
        SimModel("x", tool_behavior={"right": 0, "none": 0})
    mixed = SimModel("mixed", tool_behavior={"right": 1, "wrong_args": 1})
    assert mixed.tool_behavior == {"right": 1.0, "wrong_args": 1.0}


# -- the bundled suite through the CLI --------------------------------------------------------------
def test_demo_tools_runs_and_scores(capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("BENCHWORK_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("BENCHWORK_CACHE_DIR", str(tmp_path / "cache"))
    assert cli_main(["demo", "--tools", "--json", "--quiet"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "finished"
    board = {row["target"]: row for row in out["summary"]}
    assert set(board) == {"tool-ace", "tool-mixed", "tool-sloppy", "tool-shy"}
    assert all(row["calls"] == 6 and row["errors"] == 0 for row in board.values())
    ace = board["tool-ace"]
    assert ace["score_tool_args_mean"] == ace["score_tool_selection_mean"] == 1.0
    assert ace["score_contains_mean"] == 1.0
    assert board["tool-sloppy"]["score_tool_selection_mean"] == 1.0
    assert board["tool-sloppy"]["score_tool_args_mean"] < 1.0
    assert board["tool-shy"]["score_tool_selection_mean"] < 0.5
    assert out["summary"][0]["target"] == "tool-ace"  # ranked by tool_args, the first scorer
