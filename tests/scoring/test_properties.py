"""Properties of every built-in deterministic scorer and of the number extractor (issue 9,
item 14, scorer part), checked by hypothesis on arbitrary outputs, expected values and cases:

- scoring never raises: every row gets a score in [0, 1], or None with the label "error" or
  "skipped" and an explanation;
- a case that passes the scorer's ``check`` (run before any call) never scores "error" but
  for limits that depend on the output (a time limit, an integer too long to check);
- the number extractor never raises, returns a substring it read, a finite value or the
  reason it could not, and reads back numbers written in the notations it supports.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchwork.errors import BenchworkError
from benchwork.results import CallRecord
from benchwork.scoring import (
    Contains,
    Exact,
    Fuzzy,
    JsonSchema,
    JsonValid,
    NotContains,
    Numeric,
    Regex,
    StartsWith,
    ToolArgs,
    ToolSelection,
    extract_number,
    find_number,
    score_record,
)
from benchwork.scoring._text import normalize_text

#: examples per property; raise for a soak run: BENCHWORK_HYPOTHESIS_EXAMPLES=5000 pytest ...
N = int(os.environ.get("BENCHWORK_HYPOTHESIS_EXAMPLES", "150"))
EXAMPLES = settings(max_examples=N, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- strategies -------------------------------------------------------------------------------

NASTY = [
    *"0123456789 \t\n,.'’_/⁄^*×xX·eE%+-−$€`[]{}():\"\\aAbBsSß½²⁻\u200b\u200d\u00a0\u2009\ufeffﬁＡ１é",
    "```",
    "```json\n",
    "\n```",
    "NaN",
    "Infinity",
    "0x",
    "1e",
    "10^",
    "null",
    "true",
    '{"',
    "\udcff",
]

any_text = st.one_of(
    st.text(st.characters(exclude_categories=()), max_size=80),  # surrogates too
    st.lists(st.sampled_from(NASTY), max_size=40).map("".join),
)
json_value = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False)
    | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)
output = st.one_of(
    st.none(),
    any_text,
    st.binary(max_size=40),
    json_value.map(json.dumps),
    json_value.map(lambda v: f"Here:\n```json\n{json.dumps(v)}\n```"),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.floats().map(str),
    st.integers(min_value=4000, max_value=120_000).map(lambda n: "9" * n),  # int/str limit
)
scalar = st.one_of(
    st.none(),
    any_text,
    st.integers(),
    st.integers(min_value=-(10**5000), max_value=10**5000),
    st.floats(),  # nan and inf too
    st.booleans(),
)
expected = st.one_of(
    scalar,
    st.lists(scalar, max_size=4),
    st.dictionaries(st.text(max_size=5), scalar, max_size=3),
    st.lists(st.lists(scalar, max_size=2), max_size=2),
)
schema = st.one_of(
    st.none(),
    st.just({"type": "object", "required": ["a"]}),
    st.just({"$defs": {"n": {"type": "integer"}}, "items": {"$ref": "#/$defs/n"}}),
    st.just({"properties": {"a": {"$ref": "https://example.com/remote.json"}}}),
    st.just({"type": "string", "pattern": "^(a|b)+$"}),
    st.just({"type": "nonsense"}),
    json_value,
)
tool_call = st.fixed_dictionaries(
    {"name": st.sampled_from(["f", "g", "?"]), "arguments": st.one_of(json_value, any_text)}
)
tool_calls = st.one_of(
    st.none(),
    any_text,
    st.lists(tool_call, max_size=3).map(json.dumps),
    st.lists(tool_call, max_size=3),
)
rules = st.one_of(
    st.none(),
    st.dictionaries(
        st.sampled_from(["a", "f.a", "b"]),
        st.sampled_from(["exact", "fuzzy", "regex", "numeric", "bogus", "present", "ignore"]),
        max_size=2,
    ),
    json_value,
)

SCORERS = [
    Exact(),
    Exact(case_sensitive=True, ignore_punctuation=True, strip=False),
    Contains(),
    Contains(mode="all", case_sensitive=True, collapse_whitespace=False),
    NotContains(),
    StartsWith(),
    StartsWith(strip=False, case_sensitive=True),
    Regex(),
    Regex(r"\d+\s*(?:km|m)", flags="im"),
    Fuzzy(),
    Fuzzy(threshold=0.5),
    Numeric(),
    Numeric(tolerance=0.5, relative=True, pick="first", percent_as_fraction=True),
    JsonValid(),
    JsonSchema(),
    JsonSchema({"type": "object", "properties": {"n": {"type": "integer", "maximum": 10}}}),
    ToolSelection(),
    ToolSelection(order=False),
    ToolArgs(),
    ToolArgs(mode="fuzzy", rules={"a": "regex"}),
]


@st.composite
def rows(draw: Any) -> tuple[dict[str, Any], CallRecord]:
    metadata: dict[str, Any] = {}
    for key, strategy in (
        ("schema", schema),
        ("expected_tool_calls", st.one_of(tool_calls, json_value)),
        ("tool_arg_rules", rules),
    ):
        value = draw(strategy)
        if value is not None:
            metadata[key] = value
    case = {"id": "c1", "expected": draw(expected), "metadata": metadata}
    status = draw(st.sampled_from(["ok", "ok", "ok", "error"]))
    record = CallRecord(
        run_id="r",
        case_id="c1",
        target="t",
        model="m",
        output_text=draw(output),
        tool_calls=draw(tool_calls.map(lambda v: v if not isinstance(v, list) else json.dumps(v))),
        status=status,
        error_type=None if status == "ok" else "server_error",
    )
    return case, record


def _score(case: dict[str, Any], record: CallRecord, scorer: Any) -> dict[str, Any]:
    record.scores = {}
    asyncio.run(score_record(case, record, [scorer]))
    return record.scores[scorer.name]


def _explained(s: dict[str, Any]) -> None:
    value, label, why = s["value"], s["label"], s["explanation"]
    if value is None:
        assert label in ("error", "skipped"), s
        assert isinstance(why, str) and why.strip(), s
    else:
        assert isinstance(value, float) and 0.0 <= value <= 1.0, s
    assert why is None or isinstance(why, str)
    if why is not None:
        why.encode("utf-8")  # storable: lone surrogates escaped


# -- scorers ----------------------------------------------------------------------------------


@EXAMPLES
@given(row=rows(), which=st.integers(min_value=0, max_value=len(SCORERS) - 1))
def test_every_builtin_scorer_never_raises_and_scores_in_range_or_explains(row, which) -> None:
    case, record = row
    _explained(_score(case, record, SCORERS[which]))


@EXAMPLES
@given(row=rows(), which=st.integers(min_value=0, max_value=len(SCORERS) - 1))
def test_a_case_that_passes_check_never_scores_error(row, which) -> None:
    case, record = row
    scorer = SCORERS[which]
    try:
        scorer.check(case)
    except BenchworkError as e:
        assert "case 'c1'" in str(e) and "field '" in str(e)  # names the case and field
        return
    s = _score(case, record, scorer)
    _explained(s)
    if record.status == "ok":  # an output-dependent limit may still give an error, explained
        limits = ("too long to check", "gave up after")
        assert s["label"] != "error" or any(w in s["explanation"] for w in limits), (s, case)


@EXAMPLES
@given(text=any_text, answer=any_text)
def test_text_scorers_agree_when_exact_says_equal(text: str, answer: str) -> None:
    case = {"id": "c1", "expected": answer}
    record = CallRecord(run_id="r", case_id="c1", target="t", model="m", output_text=text)
    if _score(case, record, Exact())["value"] == 1.0 and normalize_text(answer):
        assert _score(case, record, Contains())["value"] == 1.0
        assert _score(case, record, NotContains())["value"] == 0.0
        assert _score(case, record, StartsWith())["value"] == 1.0
        assert _score(case, record, Fuzzy())["value"] == 1.0
    same = {"id": "c1", "expected": text}
    if _score(same, record, Exact())["label"] != "skipped":
        assert _score(same, record, Exact())["value"] == 1.0


# -- the number extractor ---------------------------------------------------------------------


@settings(max_examples=10 * N, deadline=None)
@given(
    text=st.one_of(any_text, st.text(st.characters(exclude_categories=()))),
    pick=st.sampled_from(["first", "last"]),
    percent=st.booleans(),
)
def test_the_number_extractor_reads_or_explains_any_text(
    text: str, pick: str, percent: bool
) -> None:
    found = find_number(text, pick=pick, percent_as_fraction=percent)
    if found is None:
        return
    assert found.span and found.span in text
    if found.value is None:
        assert found.problem
        assert extract_number(text, pick=pick, percent_as_fraction=percent) is None
    else:
        assert math.isfinite(found.value) and found.problem is None


PROSE = st.sampled_from(["", "The answer is ", "≈ ", "answer: ", "It comes to about ", "= "])
END = st.sampled_from(["", ".", " km", "!", " (rounded)", "\n"])


def _written(draw: Any) -> tuple[str, float]:
    """A number and one way of writing it that the extractor supports."""
    kind = draw(st.sampled_from(["int", "grouped", "decimal", "comma", "fraction", "sci", "hex"]))
    n = draw(st.integers(min_value=0, max_value=10**12))
    if kind == "int":
        return str(n), float(n)
    if kind == "grouped":
        sep = draw(st.sampled_from([",", " ", "\u00a0", "\u2009", "\u202f", "'", "_"]))
        return f"{n:,}".replace(",", sep), float(n)
    if kind in ("decimal", "comma"):
        digits = draw(st.integers(min_value=1, max_value=6))
        frac = draw(st.integers(min_value=0, max_value=10**digits - 1))
        text = f"{n}.{frac:0{digits}d}"
        value = float(text)
        if kind == "comma":
            if digits == 3 and n != 0:  # "1,234" reads as one thousand two hundred ...
                return text, value
            text = text.replace(".", ",")
        return text, value
    if kind == "fraction":
        den = draw(st.integers(min_value=1, max_value=1000))
        return f"{n}/{den}", n / den
    if kind == "sci":
        mant = draw(st.integers(min_value=1, max_value=999))
        exp = draw(st.integers(min_value=-30, max_value=30))
        form = draw(st.sampled_from(["{m}e{e}", "{m} × 10^{e}", "{m}x10^{e}", "{m}E{e}"]))
        return form.format(m=mant, e=exp), float(f"{mant}e{exp}")
    return hex(n), float(n)


@st.composite
def written_numbers(draw: Any) -> tuple[str, float]:
    text, value = _written(draw)
    sign = draw(st.sampled_from(["", "-", "−", "+"])) if value else ""
    if sign in ("-", "−"):
        value = -value
    return f"{draw(PROSE)}{sign}{text}{draw(END)}", value


@settings(max_examples=10 * N, deadline=None)
@given(written=written_numbers())
def test_numbers_in_supported_notations_read_back_exactly(written: tuple[str, float]) -> None:
    text, value = written
    for pick in ("first", "last"):
        found = find_number(text, pick=pick)
        assert found is not None and found.value is not None, (text, found)
        assert math.isclose(found.value, value, rel_tol=1e-12, abs_tol=1e-300), (text, found)
