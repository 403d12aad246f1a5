"""Case-level scorer input is checked when scoring is set up, before any call (issue 9, item
12, scorer part): an invalid regex in ``expected``, an invalid schema in ``metadata.schema``,
a wrong ``expected`` type for ``numeric``, malformed expected tool calls. Each is an error
naming the case and the field, never a null score on every row of the case."""

from __future__ import annotations

from typing import Any

import pytest

import benchwork as bw
from benchwork.errors import SuiteError
from benchwork.scoring import (
    Contains,
    Exact,
    Fuzzy,
    JsonSchema,
    Numeric,
    Regex,
    StartsWith,
    ToolArgs,
    ToolSelection,
    check_cases,
)
from benchwork.sim import SimModel, SimServer

BAD = [
    (Regex(), {"expected": "(unclosed"}, "expected", "invalid pattern '(unclosed'"),
    (Regex(), {"expected": ["ok", "[a-"]}, "expected", "invalid pattern '[a-'"),
    (Numeric(), {"expected": "forty-two"}, "expected", "is not a number"),
    (Numeric(), {"expected": True}, "expected", "(bool) is not a number"),
    (Numeric(), {"expected": [1, 2]}, "expected", "(list) is not a number"),
    (Numeric(), {"expected": float("nan")}, "expected", "is not a number"),
    (Numeric(), {"expected": "0x1G"}, "expected", "is not a number"),
    (Exact(), {"expected": {"a": 1}}, "expected", "must be a string, a number or a list"),
    (Contains(), {"expected": [["nested"]]}, "expected", "must be a string, a number or a list"),
    (StartsWith(), {"expected": {"a": 1}}, "expected", "must be a string"),
    (Fuzzy(), {"expected": [{"a": 1}]}, "expected", "must be a string"),
    (
        JsonSchema(),
        {"metadata": {"schema": {"type": "nonsense"}}},
        "metadata.schema",
        "invalid schema",
    ),
    (JsonSchema(), {"metadata": {"schema": "object"}}, "metadata.schema", "must be a dict"),
    (
        JsonSchema(),
        {"metadata": {"schema": {"$ref": "https://example.com/s.json"}}},
        "metadata.schema",
        "never fetched",
    ),
    (
        ToolSelection(),
        {"metadata": {"expected_tool_calls": "not json"}},
        "metadata.expected_tool_calls",
        "not valid JSON",
    ),
    (
        ToolArgs(),
        {"metadata": {"expected_tool_calls": [{"name": "f", "arguments": "[1]"}]}},
        "metadata.expected_tool_calls",
        "arguments must be an object",
    ),
    (
        ToolArgs(),
        {
            "metadata": {
                "expected_tool_calls": [{"name": "f", "arguments": {"a": "x"}}],
                "tool_arg_rules": {"a": "bogus"},
            }
        },
        "metadata.tool_arg_rules",
        "rule 'bogus'",
    ),
    (
        ToolArgs(),
        {
            "metadata": {
                "expected_tool_calls": [{"name": "f", "arguments": {"a": "(x"}}],
                "tool_arg_rules": {"f.a": "regex"},
            }
        },
        "metadata.expected_tool_calls",
        "bad regex '(x'",
    ),
]


@pytest.mark.parametrize(("scorer", "case", "field", "why"), BAD)
def test_bad_case_input_names_the_case_and_field(
    scorer: Any, case: dict, field: str, why: str
) -> None:
    with pytest.raises(SuiteError) as e:
        check_cases([scorer], [{"id": "q7", **case}])
    message = str(e.value)
    assert message.startswith(f"case 'q7': field '{field}': "), message
    assert why in message
    assert e.value.case_id == "q7" and e.value.field == field


GOOD = [
    (Regex(), {"expected": r"\d+"}),
    (Regex(), {}),  # nothing expected: skipped with a reason, not an error
    (Numeric(), {"expected": "1 000"}),
    (Numeric(), {"expected": 3}),
    (Exact(), {"expected": ["a", 1, 2.5, True]}),
    (JsonSchema(), {"metadata": {"schema": {"$defs": {"n": {}}, "$ref": "#/$defs/n"}}}),
    (ToolArgs(), {"metadata": {"expected_tool_calls": [{"name": "f", "arguments": {"a": 1}}]}}),
]


@pytest.mark.parametrize(("scorer", "case"), GOOD)
def test_good_case_input_passes(scorer: Any, case: dict) -> None:
    check_cases([scorer], [{"id": "q7", **case}])


def test_several_problems_are_one_error_listing_them() -> None:
    cases = [{"id": f"c{i}", "expected": "("} for i in range(8)]
    with pytest.raises(SuiteError) as e:
        check_cases([Regex(), Exact()], cases)
    message = str(e.value)
    assert message.startswith("8 problems with the input scorers need: case 'c0': field")
    assert message.endswith("and 3 more")


@pytest.mark.parametrize(
    ("scorers", "case", "field"),
    [
        (["regex"], bw.Case(id="r1", input="q", expected="(unclosed"), "expected"),
        (["numeric"], bw.Case(id="n1", input="q", expected="many"), "expected"),
        (
            ["json_schema"],
            bw.Case(id="j1", input="q", metadata={"schema": {"type": 5}}),
            "metadata.schema",
        ),
    ],
)
def test_a_run_with_bad_scorer_input_fails_before_any_call(
    tmp_path, scorers: list[str], case: bw.Case, field: str
) -> None:
    good = bw.Case(id="ok", input="fine", expected="1")
    suite = bw.Suite(name="s", cases=[good, case])
    with SimServer([SimModel("m", ttft_s=0.0, itl_s=0.0, tokens=3)]) as sim:
        target = bw.Target("openai/m", api_base=sim.base_url)
        with pytest.raises(SuiteError) as e:
            bw.run_sync(
                suite, target, scorers=scorers, home=tmp_path / "runs", cache="off", progress=False
            )
        assert sim.requests == []
    assert e.value.case_id == case.id and e.value.field == field
    assert not (tmp_path / "runs" / "runs").exists() or not any(
        (tmp_path / "runs" / "runs").iterdir()
    )
