"""Tests for benchwork.scoring: the protocol, the registry and every built-in scorer."""

from __future__ import annotations

import asyncio
import json
import sys
import time
import types
from dataclasses import dataclass, field
from typing import Any

import pytest

from benchwork.errors import BenchworkError, SuiteError
from benchwork.results import CallRecord, records_to_frame
from benchwork.scoring import (
    Contains,
    Exact,
    Fuzzy,
    JsonSchema,
    JsonValid,
    NotContains,
    Numeric,
    Regex,
    Score,
    Semantic,
    StartsWith,
    ToolArgs,
    ToolSelection,
    extract_number,
    get_scorer,
    register_scorer,
    score_record,
    score_records,
    scorer,
    scorer_names,
)
from benchwork.scoring import _registry as scoring_base

BIG = "lorem ipsum dolor sit amet " * 200_000  # ≈ 5.4 MB
ODD = "\udcff\x00 é\u200b 🙂"
FAST = 5.0  # CPU seconds for a 5 MB output (typically < 0.2 s): catches a quadratic blow-up
# (minutes), not speed; CPU time, not wall time, so a loaded machine does not fail it


@dataclass
class Case:
    id: str = "c1"
    input: Any = "q"
    vars: dict[str, Any] = field(default_factory=dict)
    expected: Any = None
    tags: list[str] = field(default_factory=list)
    tools: Any = None
    metadata: dict[str, Any] = field(default_factory=dict)


def rec(output: Any = "", case_id: str = "c1", **kw: Any) -> CallRecord:
    return CallRecord(run_id="r", case_id=case_id, target="t", model="m", output_text=output, **kw)


def run(s: Any, output: Any, expected: Any = None, **case_kw: Any) -> Score:
    result = s(Case(expected=expected, **case_kw), rec(output))
    return asyncio.run(result) if asyncio.iscoroutine(result) else result


def tc(*calls: tuple[str, Any]) -> str:
    """OpenAI-form tool_calls JSON; a str argument is passed through (may be malformed)."""
    return json.dumps(
        [
            {
                "id": f"call_{i}",
                "type": "function",
                "function": {"name": n, "arguments": a if isinstance(a, str) else json.dumps(a)},
            }
            for i, (n, a) in enumerate(calls)
        ]
    )


# ---------------------------------------------------------------- Score


def test_score_to_dict_and_validation() -> None:
    assert Score(1, "pass", "ok").to_dict() == {"value": 1.0, "label": "pass", "explanation": "ok"}
    assert Score(None).to_dict()["value"] is None
    with pytest.raises(ValueError, match=r"0\.\.1"):
        Score(1.5)
    with pytest.raises(ValueError):
        Score(float("nan"))
    assert Score(0.5, None, "bad \udcff").explanation == "bad \\udcff"  # UTF-8 safe for Polars


# ---------------------------------------------------------------- exact


def test_exact_pass_fail_and_normalization() -> None:
    assert run(Exact(), "  PARIS \n", "paris").to_dict() == {
        "value": 1.0,
        "label": "pass",
        "explanation": "matches 'paris'",
    }
    s = run(Exact(), "Lyon", "Paris")
    assert (s.value, s.label) == (0.0, "fail") and "'Lyon' does not match 'Paris'" in s.explanation
    assert run(Exact(case_sensitive=True), "paris", "Paris").value == 0.0
    assert run(Exact(strip=False), " Paris", "Paris").value == 0.0
    assert run(Exact(), "New   York", "new york").value == 1.0
    assert run(Exact(collapse_whitespace=False), "New   York", "new york").value == 0.0
    assert run(Exact(), "Paris.", "Paris").value == 0.0
    assert run(Exact(ignore_punctuation=True), "Paris!", "paris").value == 1.0
    assert run(Exact(), "Lyon", ["Paris", "lyon"]).value == 1.0
    assert "any of ['Paris', 'Rome']" in run(Exact(), "Lyon", ["Paris", "Rome"]).explanation
    assert run(Exact(expected="Rome"), "rome", "Paris").value == 1.0  # override


def test_exact_edge_cases() -> None:
    assert run(Exact(), "42", 42).value == 1.0
    assert run(Exact(), "42", 42.0).value == 1.0
    assert run(Exact(), "true", True).value == 1.0
    assert run(Exact(), None, "x").value == 0.0
    assert run(Exact(), "", "").value == 1.0
    assert run(Exact(), ODD, ODD).value == 1.0
    assert run(Exact(), "x", None).to_dict() == {
        "value": None,
        "label": "skipped",
        "explanation": "case has no expected value",
    }
    with pytest.raises(BenchworkError, match="expected must be a string"):
        run(Exact(), "x", {"a": 1})
    t = time.process_time()
    assert run(Exact(), BIG, "lorem").value == 0.0
    assert run(Exact(), " Paris" + " \n" * 2_500_000, "paris").value == 1.0  # long but equal
    assert run(Exact(ignore_punctuation=True), "Paris" + "!" * 5_000_000, "paris").value == 1.0
    assert run(Exact(strip=False), "Paris" + " " * 5_000_000, "Paris").value == 0.0
    assert time.process_time() - t < FAST


# ---------------------------------------------------------------- contains / not_contains / starts_with


def test_contains_and_not_contains() -> None:
    assert run(Contains(), "The capital is PARIS.", "paris").value == 1.0
    s = run(Contains(), "Lyon", ["Paris", "Rome"])
    assert (s.value, s.explanation) == (0.0, "missing 'Paris', 'Rome'")
    assert run(Contains(), "Rome and Paris", ["Paris", "Berlin"]).value == 1.0
    assert run(Contains(mode="all"), "Rome and Paris", ["Paris", "Berlin"]).value == 0.0
    assert run(Contains(case_sensitive=True), "PARIS", "Paris").value == 0.0
    assert run(Contains(), "new\n york", "New York").value == 1.0
    assert run(Contains(), None, "x").value == 0.0
    assert run(Contains(), "answer: 42", 42).value == 1.0
    assert run(Contains(), ODD, "é").value == 1.0
    assert run(Contains(), "x", "").label == "skipped"
    s = run(NotContains(), "I cannot help with that", ["cannot", "sorry"])
    assert (s.value, s.label, s.explanation) == (0.0, "fail", "contains 'cannot'")
    assert run(NotContains(), "Sure, here it is", ["cannot", "sorry"]).value == 1.0
    assert run(NotContains(), None, "x").value == 1.0
    t = time.process_time()
    assert run(Contains(), BIG + "needle", "NEEDLE").value == 1.0
    assert run(NotContains(), BIG, "needle").value == 1.0
    assert run(Contains(), BIG, "AMET\tlorem").value == 1.0
    assert time.process_time() - t < FAST
    with pytest.raises(BenchworkError, match="mode"):
        Contains(mode="most")


def test_starts_with() -> None:
    assert run(StartsWith(), "  Yes, because...", "yes").value == 1.0
    s = run(StartsWith(), "No.", ["yes", "sure"])
    assert s.value == 0.0 and "does not start with any of ['yes', 'sure']" in s.explanation
    assert run(StartsWith(case_sensitive=True), "yes", "Yes").value == 0.0
    assert run(StartsWith(strip=False), " Yes", "Yes").value == 0.0
    assert run(StartsWith(), None, "x").value == 0.0
    assert run(StartsWith(), "42 is it", 42).value == 1.0
    assert run(StartsWith(), ODD, "\udcff").value == 1.0
    assert run(StartsWith(), BIG, "LOREM").value == 1.0


# ---------------------------------------------------------------- regex


def test_regex() -> None:
    s = run(Regex(r"\b\d{3}-\d{4}\b"), "call 555-1234 now")
    assert s.to_dict() == {"value": 1.0, "label": "pass", "explanation": "matched '555-1234' at 5"}
    assert run(Regex(r"^paris$"), "PARIS").value == 1.0  # default flags="i"
    assert run(Regex(r"^paris$", flags=""), "PARIS").value == 0.0
    s = run(Regex(r"^a.b$", flags="s"), "a\nb")
    assert s.value == 1.0
    s = run(Regex(), "answer: 42", r"\d+")  # pattern from expected
    assert s.value == 1.0
    s = run(Regex(), "none", [r"\d+", r"yes"])
    assert (s.value, s.explanation) == (0.0, r"no match for /\d+/ | /yes/")
    assert run(Regex(), "x", None).label == "skipped"
    assert run(Regex(r"x"), None).value == 0.0
    assert run(Regex(r"\x00"), ODD).value == 1.0
    assert run(Regex(), "42", 42).value == 1.0
    t = time.process_time()
    assert run(Regex(r"needle\s+\d+"), BIG + "needle 7").value == 1.0
    assert time.process_time() - t < FAST


def test_regex_bad_pattern_fails_at_construction() -> None:
    with pytest.raises(BenchworkError) as e:
        Regex("(unclosed")
    assert str(e.value) == ("regex: invalid pattern '(unclosed': missing ) at position 9")
    with pytest.raises(BenchworkError, match="unknown flag 'q'"):
        Regex("x", flags="iq")
    with pytest.raises(BenchworkError, match="from the case's expected value"):
        run(Regex(), "x", "(")


# ---------------------------------------------------------------- json


def test_json_valid() -> None:
    s = run(JsonValid(), '{"a": [1, 2]}')
    assert s.to_dict() == {"value": 1.0, "label": "pass", "explanation": "valid JSON (dict)"}
    s = run(JsonValid(), 'Here you go:\n```json\n{"a": 1}\n```\nEnjoy')
    assert (s.value, s.explanation) == (1.0, "valid JSON inside ``` fence (dict)")
    assert run(JsonValid(), "```\n[1, 2]\n```").value == 1.0
    s = run(JsonValid(), '{"a": 1,}')
    assert s.value == 0.0
    assert s.explanation.startswith(
        "invalid JSON: Expecting property name enclosed in double quotes "
        "at line 1 column 9 (char 8)"
    )
    s = run(JsonValid(), '```json\n{"a": }\n```')
    assert "inside ``` fence" in s.explanation and "line 1 column 7" in s.explanation
    assert run(JsonValid(), None).explanation == "invalid JSON: output is empty"
    assert run(JsonValid(), ODD).value == 0.0
    assert run(JsonValid(), "[" * 100_000).value == 0.0  # deep nesting does not crash
    big = json.dumps({"items": ["x" * 100] * 50_000})
    t = time.process_time()
    assert run(JsonValid(), big).value == 1.0
    assert run(JsonValid(), BIG).value == 0.0
    assert time.process_time() - t < FAST


SCHEMA = {
    "type": "object",
    "required": ["name", "items"],
    "properties": {
        "name": {"type": "string"},
        "items": {
            "type": "array",
            "items": {"type": "object", "properties": {"price": {"type": "number"}}},
        },
    },
}


def test_json_schema() -> None:
    good = {"name": "x", "items": [{"price": 1.5}]}
    assert run(JsonSchema(SCHEMA), json.dumps(good)).to_dict() == {
        "value": 1.0,
        "label": "pass",
        "explanation": "matches the schema",
    }
    bad = {"name": "x", "items": [{"price": 1}, {"price": "cheap"}]}
    s = run(JsonSchema(SCHEMA), f"```json\n{json.dumps(bad)}\n```")
    assert (s.value, s.explanation) == (0.0, "at $.items[1].price: 'cheap' is not of type 'number'")
    s = run(JsonSchema(), json.dumps({"name": 3}), metadata={"schema": SCHEMA})  # from the case
    assert s.value == 0.0 and s.explanation.startswith("at $") and "(+1 more)" in s.explanation
    s = run(JsonSchema(), "{}")
    assert s.to_dict()["label"] == "skipped"
    assert "case.metadata['schema']" in s.explanation
    assert run(JsonSchema(SCHEMA), "not json").explanation.startswith(
        "invalid JSON: Expecting value"
    )
    assert run(JsonSchema(SCHEMA), None).value == 0.0
    with pytest.raises(BenchworkError, match="invalid schema"):
        JsonSchema({"type": "nonsense"})
    with pytest.raises(BenchworkError, match="schema must be a dict"):
        JsonSchema("x")  # type: ignore[arg-type]
    t = time.process_time()
    s = run(JsonSchema({"type": "object"}), json.dumps(["x" * 5_000_000]))
    assert s.value == 0.0 and len(s.explanation) < 300
    assert time.process_time() - t < FAST


# ---------------------------------------------------------------- numeric

NUMBERS = [
    ("42", 42.0),
    ("The answer is 1,234.5 km", 1234.5),
    ("−3", -3.0),  # Unicode minus
    ("-3", -3.0),
    ("1e3", 1000.0),
    ("2.5E-2", 0.025),
    ("12%", 12.0),
    ("no number", None),
    ("", None),
    ("From 3 to 7", 7.0),
    (".5 of it", 0.5),
    ("+7", 7.0),
    ("COVID-19 cases: 3-4", 4.0),
    ("$1,000,000", 1_000_000.0),
    ("It is 42.", 42.0),
    ("x = -0.5", -0.5),
    ("１２", 12.0),  # full-width digits
    ("答案是42", 42.0),
    ("gpt4 says 5", 5.0),
    ("2024-01-15", 15.0),
]


@pytest.mark.parametrize(("text", "value"), NUMBERS)
def test_extract_number(text: str, value: float | None) -> None:
    found = extract_number(text)
    assert (found[0] if found else None) == value


def test_extract_number_options() -> None:
    assert extract_number("From 3 to 7", pick="first") == (3.0, "3")
    assert extract_number("gpt4 says 5", pick="first") == (5.0, "5")
    assert extract_number("-.5", pick="first") == (-0.5, "-.5")
    assert extract_number("12%", percent_as_fraction=True) == (0.12, "12%")
    assert extract_number("x" * 10_000 + " 5 " + "y" * 10_000) == (5.0, "5")  # tail search misses
    assert extract_number("word 1 " * 5_000 + "12,345,678")[0] == 12_345_678.0


def test_numeric() -> None:
    s = run(Numeric(), "The answer is 1,234.5 km", 1234.5)
    assert s.value == 1.0 and s.label == "pass"
    assert s.explanation.startswith("got 1234.5 (from '1,234.5'), expected 1234.5")
    assert run(Numeric(), "about 42", "42").value == 1.0  # numeric string expected
    assert run(Numeric(), "42.0", 42).value == 1.0
    assert run(Numeric(), "3.14", 3.14159).value == 0.0
    assert run(Numeric(tolerance=0.01), "3.14", 3.14159).value == 1.0
    assert run(Numeric(tolerance=0.01, relative=True), "990", 1000).value == 1.0
    assert run(Numeric(tolerance=0.01, relative=True), "980", 1000).value == 0.0
    assert run(Numeric(pick="first"), "5 apples, 7 pears", 5).value == 1.0
    assert run(Numeric(), "5 apples, 7 pears", 5).value == 0.0
    assert run(Numeric(percent_as_fraction=True), "12%", 0.12).value == 1.0
    assert run(Numeric(percent_as_fraction=True), "12%", "12%").value == 1.0
    s = run(Numeric(), "no idea", 4)
    assert (s.value, s.label, s.explanation) == (0.0, "fail", "no number in 'no idea'")
    assert run(Numeric(), None, 4).value == 0.0
    assert run(Numeric(), ODD + " 4", 4).value == 1.0
    assert run(Numeric(), "4", None).label == "skipped"
    with pytest.raises(BenchworkError, match="expected value 'abc' \\(str\\) is not a number"):
        run(Numeric(), "4", "abc")
    with pytest.raises(BenchworkError, match="pick"):
        Numeric(pick="middle")
    with pytest.raises(BenchworkError, match="tolerance"):
        Numeric(tolerance=-1)
    t = time.process_time()
    assert run(Numeric(), BIG + " 17", 17).value == 1.0
    assert run(Numeric(pick="first"), BIG, 1).value == 0.0
    assert time.process_time() - t < FAST


# ---------------------------------------------------------------- fuzzy


def test_fuzzy() -> None:
    s = run(Fuzzy(), "Paris", "paris")
    assert s.to_dict() == {
        "value": 1.0,
        "label": None,
        "explanation": "similarity 1.000 to 'paris'",
    }
    s = run(Fuzzy(), "The Eiffel Tower", "the eifel tower")
    assert 0.9 < s.value < 1.0
    s = run(Fuzzy(threshold=0.9), "The Eiffel Tower", "the eifel tower")
    assert (s.value, s.label) == (1.0, "pass") and s.explanation.startswith("similarity 0.9")
    assert "≥ 0.9" in s.explanation
    s = run(Fuzzy(threshold=0.9), "Lyon", "Paris")
    assert (s.value, s.label) == (0.0, "fail") and "< 0.9" in s.explanation
    assert run(Fuzzy(), "Lyon", ["Paris", "lyon"]).value == 1.0
    assert run(Fuzzy(), None, "x").value == 0.0
    assert run(Fuzzy(), "42", 42).value == 1.0
    assert 0 < run(Fuzzy(), ODD, "é").value < 1
    with pytest.raises(BenchworkError, match=r"0\.\.1"):
        Fuzzy(threshold=80)
    t = time.process_time()
    s = run(Fuzzy(), BIG, BIG)
    assert s.value == 1.0 and "(compared the first 10000 chars)" in s.explanation
    assert time.process_time() - t < FAST


# ---------------------------------------------------------------- semantic


def test_semantic_skipped_without_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BENCHWORK_EMBEDDING_MODEL", raising=False)
    s = run(Semantic(), "Paris", "paris")
    assert s.to_dict() == {
        "value": None,
        "label": "skipped",
        "explanation": "semantic scorer: no embedding model configured; "
        "pass model=... or set BENCHWORK_EMBEDDING_MODEL",
    }


def test_semantic_with_fake_litellm(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    vectors = {"paris": [1.0, 0.0], "capital of france": [0.8, 0.6], "lyon": [0.0, 1.0]}

    async def aembedding(**kw: Any) -> Any:
        calls.append(kw)
        data = [
            {"index": i, "embedding": vectors.get(t.lower(), [0.6, 0.8])}
            for i, t in enumerate(kw["input"])
        ]
        return types.SimpleNamespace(data=data)

    monkeypatch.setitem(sys.modules, "litellm", types.SimpleNamespace(aembedding=aembedding))
    monkeypatch.setenv("BENCHWORK_EMBEDDING_MODEL", "fake/embed")
    sem = Semantic()
    s = run(sem, "capital of france", "paris")
    assert s.value == pytest.approx(0.8) and s.explanation.startswith("cosine 0.800 to 'paris'")
    assert calls[-1]["model"] == "fake/embed" and calls[-1]["input"] == [
        "capital of france",
        "paris",
    ]
    run(sem, "lyon", "paris")
    assert calls[-1]["input"] == ["lyon"]  # the expected embedding is cached
    s = run(Semantic(model="x/y", threshold=0.9, api_base="http://h"), "capital of france", "paris")
    assert (s.value, s.label) == (0.0, "fail") and "< 0.9" in s.explanation
    assert calls[-1]["api_base"] == "http://h" and calls[-1]["model"] == "x/y"
    assert run(Semantic(), None, "paris").explanation == "cosine 0.000 (output is empty)"
    assert run(Semantic(), "x", None).label == "skipped"
    s = run(Semantic(), BIG, "paris")
    assert "(embedded the first 32000 chars)" in s.explanation
    assert len(calls[-1]["input"][0]) == 32_000


# ---------------------------------------------------------------- tools

EXPECTED_CALLS = [
    {"name": "get_weather", "arguments": {"city": "Paris", "days": 3}},
    {"name": "send_email", "arguments": {"to": "bob@example.com", "body": "It will rain"}},
]


def tools_score(s: Any, tool_calls: Any, expected: Any = EXPECTED_CALLS) -> Score:
    case = Case(metadata={"expected_tool_calls": expected} if expected is not None else {})
    return s(case, rec("", tool_calls=tool_calls))


def test_tool_selection() -> None:
    good = tc(("get_weather", {"city": "Paris", "days": 3}), ("send_email", {"to": "x"}))
    s = tools_score(ToolSelection(), good)
    assert s.to_dict() == {
        "value": 1.0,
        "label": "pass",
        "explanation": "called [get_weather, send_email]",
    }
    s = tools_score(ToolSelection(), tc(("get_weather", {})))
    assert (s.value, s.explanation) == (
        0.0,
        "missing send_email; called [get_weather], expected [get_weather, send_email]",
    )
    s = tools_score(
        ToolSelection(), tc(("get_weather", {}), ("send_email", {}), ("delete_all", {}))
    )
    assert s.value == 0.0 and s.explanation.startswith("extra delete_all;")
    rev = tc(("send_email", {}), ("get_weather", {}))
    assert tools_score(ToolSelection(), rev).explanation.startswith("wrong order;")
    assert tools_score(ToolSelection(order=False), rev).value == 1.0
    s = tools_score(ToolSelection(), None)
    assert s.explanation == (
        "missing get_weather, send_email; called nothing, expected [get_weather, send_email]"
    )
    s = tools_score(ToolSelection(), None, expected=[])
    assert (s.value, s.explanation) == (1.0, "no tool calls, as expected")
    s = tools_score(ToolSelection(), tc(("f", {})), expected=[])
    assert (s.value, s.explanation) == (0.0, "extra f; called [f], expected nothing")
    assert tools_score(ToolSelection(), good, expected=None).label == "skipped"
    s = tools_score(ToolSelection(), "[{not json")
    assert (s.value, s.label) == (0.0, "fail") and s.explanation.startswith(
        "tool_calls is not valid JSON"
    )
    # malformed argument JSON does not matter for selection
    assert (
        tools_score(ToolSelection(), tc(("get_weather", "{bad"), ("send_email", "{"))).value == 1.0
    )
    # flat form and expected override
    flat = json.dumps([{"name": "f", "arguments": {}}])
    assert ToolSelection(expected=[{"name": "f"}])(Case(), rec(tool_calls=flat)).value == 1.0


def test_tool_args() -> None:
    good = tc(
        ("get_weather", {"city": "paris ", "days": "3"}),
        ("send_email", {"to": "bob@example.com", "body": "It will rain", "cc": "x"}),
    )
    s = tools_score(ToolArgs(), good)
    assert s.to_dict() == {"value": 1.0, "label": "pass", "explanation": "4/4 arguments match"}
    partial = tc(
        ("get_weather", {"city": "Lyon", "days": 3}),
        ("send_email", {"to": "bob@example.com", "body": "Rain is expected"}),
    )
    s = tools_score(ToolArgs(), partial)
    assert (s.value, s.label) == (0.5, "fail")
    assert "get_weather.city: 'Lyon' ≠ 'Paris' (exact)" in s.explanation
    s = tools_score(ToolArgs(rules={"city": "ignore", "body": "fuzzy"}), partial)
    assert s.value == pytest.approx(2 / 3)  # body is not similar enough
    s = tools_score(
        ToolArgs(rules={"send_email.body": "contains"}),
        tc(
            ("get_weather", {"city": "Paris", "days": 3.0}),
            ("send_email", {"to": "BOB@example.com", "body": "Heads up: it will rain today"}),
        ),
    )
    assert s.value == 1.0
    s = tools_score(
        ToolArgs(rules={"days": "numeric"}),
        tc(("get_weather", {"city": "Paris", "days": "3.0000001"})),
    )
    assert s.value == 0.5 and "send_email: not called" in s.explanation
    s = tools_score(ToolArgs(), tc(("get_weather", "{city: Paris"), ("send_email", "not json")))
    assert (s.value, s.label) == (0.0, "fail")
    assert "get_weather: arguments are not valid JSON" in s.explanation
    s = tools_score(ToolArgs(), tc(("get_weather", {"city": "Paris"})), expected=EXPECTED_CALLS[:1])
    assert s.value == 0.5 and "get_weather.days: missing" in s.explanation
    assert tools_score(ToolArgs(), tc(("f", {})), expected=[{"name": "f"}]).label == "skipped"
    assert tools_score(ToolArgs(), good, expected=None).label == "skipped"
    assert tools_score(ToolArgs(), tc(("get_weather", {"city": ODD}))).value == 0.0
    with pytest.raises(BenchworkError, match="not one of: exact, fuzzy, contains, numeric, ignore"):
        ToolArgs(rules={"city": "approx"})
    with pytest.raises(BenchworkError, match="mode 'ignore' is not one of"):
        ToolArgs(mode="ignore")
    with pytest.raises(BenchworkError, match="expected_tool_calls"):
        tools_score(ToolArgs(), good, expected="nope")
    big = tc(("get_weather", {"city": "x" * 5_000_000, "days": 3}))
    t = time.process_time()
    assert tools_score(ToolArgs(mode="fuzzy"), big, EXPECTED_CALLS[:1]).value == 0.5
    assert time.process_time() - t < FAST


def test_failed_call_not_scored() -> None:
    r = rec(None, status="error", error_type="RateLimitError")
    for s in (Exact(), JsonValid(), Numeric(), ToolSelection(), Regex("x")):
        assert s(Case(expected="x"), r) == Score(None, "error", "call failed: RateLimitError")


# ---------------------------------------------------------------- registry


def test_builtins_registered() -> None:
    assert {
        "exact", "contains", "not_contains", "regex", "starts_with", "json_valid", "json_schema",
        "numeric", "fuzzy", "semantic", "tool_selection", "tool_args",
    } <= set(scorer_names())  # fmt: skip


def test_decorator_and_specs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scoring_base, "_REGISTRY", dict(scoring_base._REGISTRY))  # no leaks

    @scorer
    def short_answer(case: Any, record: Any) -> bool:
        return len(record.output_text or "") < 10

    @scorer(name="polite")
    async def is_polite(case: Any, record: Any) -> float:
        return 1.0 if "please" in (record.output_text or "") else 0.0

    assert short_answer.name == "short_answer" and is_polite.name == "polite"
    assert short_answer(Case(), rec("hi")) is True  # still callable as a function
    assert get_scorer("short_answer") is short_answer
    renamed = get_scorer({"type": "polite", "name": "courtesy"})
    assert renamed.name == "courtesy"
    num = get_scorer({"type": "numeric", "tolerance": 0.01, "name": "num"})
    assert isinstance(num, Numeric) and (num.name, num.tolerance) == ("num", 0.01)
    assert get_scorer({"type": "numeric"}).name == "numeric"
    ex = Exact(name="e2")
    assert get_scorer(ex) is ex
    assert isinstance(get_scorer(Exact), Exact)

    def plain(case: Any, record: Any) -> float:
        return 0.5

    assert get_scorer(plain).name == "plain"
    with pytest.raises(BenchworkError, match="lambda"):
        get_scorer(lambda c, r: 1.0)
    register_scorer("length_under", lambda limit=10, name=None: Fuzzy(name=name or "length_under"))
    assert get_scorer({"type": "length_under", "limit": 5}).name == "length_under"


def test_spec_errors() -> None:
    with pytest.raises(BenchworkError) as e:
        get_scorer("exct")
    msg = str(e.value)
    assert msg.startswith("unknown scorer 'exct' (did you mean 'exact'?); known scorers: ")
    assert "json_schema" in msg and "tool_args" in msg
    with pytest.raises(BenchworkError) as e:
        get_scorer({"type": "numeric", "tol": 0.1})
    assert str(e.value) == (
        "scorer 'numeric': unknown option 'tol'; allowed options: expected, name, "
        "percent_as_fraction, pick, relative, tolerance"
    )
    with pytest.raises(BenchworkError, match="did you mean 'tolerance'"):
        get_scorer({"type": "numeric", "tolerence": 0.1})
    with pytest.raises(BenchworkError, match="needs a 'type'"):
        get_scorer({"tolerance": 0.1})
    with pytest.raises(BenchworkError, match="cannot use 42"):
        get_scorer(42)  # type: ignore[arg-type]
    with pytest.raises(BenchworkError, match="invalid pattern"):
        get_scorer({"type": "regex", "pattern": "("})


# ---------------------------------------------------------------- score_records


async def test_score_records_end_to_end() -> None:
    cases = [Case("a", expected="Paris"), Case("b", expected="42")]
    records = [
        rec("paris", "a"),
        rec("The answer is 42", "b", warmup=True),
        rec(None, "b", status="error", error_type="Timeout"),
        rec("x", "zzz"),
    ]

    def boom(case: Any, record: Any) -> Score:
        raise RuntimeError("kaput")

    # 'Paris' can never be scored by numeric: an error naming the case, before any scoring
    with pytest.raises(SuiteError, match="case 'a': field 'expected': num: expected value 'Paris'"):
        await score_records(cases, records, ["exact", {"type": "numeric", "name": "num"}, boom])
    assert all(r.scores in (None, {}) for r in records)
    out = await score_records(cases, records, ["exact", {"type": "contains", "name": "num"}, boom])
    assert out is records
    assert records[0].scores["exact"] == {
        "value": 1.0,
        "label": "pass",
        "explanation": "matches 'Paris'",
    }
    assert records[1].scores["num"]["value"] == 1.0  # warm-ups are scored too
    assert records[1].scores["exact"]["value"] == 0.0
    assert records[0].scores["boom"] == {
        "value": None,
        "label": "error",
        "explanation": "RuntimeError: kaput",
    }
    assert records[2].scores["exact"] == {
        "value": None,
        "label": "error",
        "explanation": "call failed: Timeout",
    }
    assert (
        records[3].scores["exact"]["explanation"] == "no case with id 'zzz' among the given cases"
    )

    frame = records_to_frame(records)
    assert frame["score_exact"].to_list() == [1.0, 0.0, None, None]
    assert frame["score_num"].to_list() == [1.0, 1.0, None, None]
    assert frame["score_exact_explanation"].to_list()[2] == "call failed: Timeout"
    assert frame["score_boom_explanation"][0] == "RuntimeError: kaput"

    with pytest.raises(BenchworkError, match="two scorers are named 'exact'"):
        await score_records(cases, records, ["exact", Exact()])


async def test_score_records_mapping_and_odd_outputs() -> None:
    cases = {"a": Case("a", expected="1 x")}
    records = [rec(ODD, "a"), rec(BIG, "a"), rec(None, "a")]
    specs = ["exact", "contains", "regex", "starts_with", "json_valid", "numeric", "fuzzy",
             "not_contains", "tool_selection"]  # fmt: skip
    t = time.process_time()
    await score_records(cases, records, specs)
    assert time.process_time() - t < FAST
    for r in records:
        assert set(r.scores) == set(specs)
        assert all(s["label"] != "error" for s in r.scores.values()), r.scores
    assert records_to_frame([records[2]])["score_json_valid_explanation"][0] == (
        "invalid JSON: output is empty"
    )


async def test_async_scorers_bounded_concurrency() -> None:
    in_flight = peak = 0

    async def slow(case: Any, record: Any) -> float:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        if record.output_text == "bad":
            raise ValueError("no good")
        return 0.25

    cases = [Case(str(i), expected="x") for i in range(40)]
    records = [rec("bad" if i == 3 else "ok", str(i)) for i in range(40)]
    await score_records(cases, records, [slow], concurrency=5)
    assert peak == 5  # five at once, never more (a wall-clock bound fails on a loaded machine)
    assert records[0].scores["slow"]["value"] == 0.25
    assert records[3].scores["slow"] == {
        "value": None,
        "label": "error",
        "explanation": "ValueError: no good",
    }


async def test_score_record_and_result_adaptation() -> None:
    def as_dict(case: Any, record: Any) -> dict[str, Any]:
        return {"value": 0.5, "label": "meh"}

    def out_of_range(case: Any, record: Any) -> float:
        return 7

    def wrong_type(case: Any, record: Any) -> str:
        return "yes"

    r = await score_record(
        Case(expected="x"), rec("x"), [as_dict, out_of_range, wrong_type, "exact"]
    )
    assert r.scores["as_dict"] == {"value": 0.5, "label": "meh", "explanation": None}
    assert r.scores["out_of_range"]["label"] == "error"
    assert "0..1" in r.scores["out_of_range"]["explanation"]
    assert r.scores["wrong_type"]["explanation"].startswith("TypeError: scorer returned str")
    assert r.scores["exact"]["value"] == 1.0
    r = await score_record(Case(expected="x"), rec("x"), "exact")  # a single spec is fine
    assert r.scores["exact"]["value"] == 1.0
    r = CallRecord.from_dict({**rec("x").to_dict(), "scores": None})
    assert (await score_record(Case(expected="x"), r, ["exact"])).scores["exact"]["value"] == 1.0


async def test_cancelled_scoring_leaves_no_unawaited_coroutines() -> None:
    started = asyncio.Event()

    async def hang(case: Any, record: Any) -> float:
        started.set()
        await asyncio.sleep(10)
        return 1.0

    records = [rec("x", "a") for _ in range(20)]
    task = asyncio.create_task(score_records({"a": Case("a")}, records, [hang], concurrency=2))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert all("hang" not in r.scores for r in records)


def test_real_case_class() -> None:
    from benchwork import suite

    case = suite.Case(id="q1", input="2+2?", expected=4)
    r = asyncio.run(score_records([case], [rec("It is 4", "q1")], ["numeric"]))
    assert r[0].scores["numeric"]["value"] == 1.0
