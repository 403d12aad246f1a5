"""JSON scorers (issue 9, item 2): no network for $ref, strict JSON (no NaN/Infinity), integers
of any length, and a ```json fence found after other fences."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from benchwork.errors import BenchworkError, SuiteError
from benchwork.results import CallRecord
from benchwork.scoring import JsonSchema, JsonValid, Score, check_cases, score_record


def rec(output: str) -> CallRecord:
    return CallRecord(run_id="r", case_id="c1", target="t", model="m", output_text=output)


def score(scorer: Any, output: str, **case: Any) -> Score:
    return scorer({"id": "c1", **case}, rec(output))


# ---------------------------------------------------------------- remote $ref: never fetched


@pytest.fixture
def schema_server() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server that serves a schema and logs every request it gets."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            body = json.dumps({"type": "integer"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()


def test_remote_ref_in_a_scorer_schema_is_refused_at_construction(schema_server) -> None:
    base, hits = schema_server
    schema = {"type": "object", "properties": {"n": {"$ref": f"{base}/n.json"}}}
    with pytest.raises(
        BenchworkError, match=r"\$ref .*n\.json.* at \$\.properties\.n .*never fetched"
    ):
        JsonSchema(schema)
    assert hits == []


def test_remote_ref_in_a_case_schema_is_an_error_naming_the_case(schema_server) -> None:
    base, hits = schema_server
    case = {"id": "q7", "metadata": {"schema": {"$ref": f"{base}/s.json"}}}
    with pytest.raises(SuiteError) as e:
        check_cases([JsonSchema()], [case])
    assert "case 'q7'" in str(e.value) and "metadata.schema" in str(e.value)
    assert "never fetched" in str(e.value)
    # scored anyway (no check first): an error score for that row, still no request
    record = rec("5")
    record.case_id = "q7"
    import asyncio

    asyncio.run(score_record(case, record, [JsonSchema()]))
    s = record.scores["json_schema"]
    assert s["value"] is None and s["label"] == "error" and "never fetched" in s["explanation"]
    assert hits == []


def test_local_refs_still_resolve() -> None:
    schema = {
        "$id": "https://example.com/root.json",
        "$defs": {
            "n": {"type": "integer"},
            "p": {"$id": "p.json", "type": "string"},
            "a": {"$anchor": "pos", "minimum": 0},
        },
        "properties": {
            "n": {"$ref": "#/$defs/n"},
            "p": {"$ref": "p.json"},
            "m": {"$ref": "#pos"},
        },
        "enum": [{"$ref": "https://example.com/not-a-ref-just-data"}, {"n": 1}],
    }
    assert score(JsonSchema(schema), '{"n": 1}').value == 1.0
    s = score(JsonSchema(schema), '{"n": "x", "p": 2}')
    assert s.value == 0.0
    with pytest.raises(BenchworkError, match="points to nothing"):
        JsonSchema({"properties": {"n": {"$ref": "#/$defs/missing"}}})


# ---------------------------------------------------------------- strict JSON


@pytest.mark.parametrize(
    "output", ["NaN", "Infinity", "-Infinity", '{"a": NaN}', "[1, Infinity]", "```json\nNaN\n```"]
)
def test_nan_and_infinity_are_not_json(output: str) -> None:
    s = score(JsonValid(), output)
    assert s.value == 0.0 and "not valid JSON (JSON has no NaN or Infinity)" in s.explanation
    assert score(JsonSchema({}), output).value == 0.0


def test_a_5000_digit_integer_is_valid_json_and_checked_against_a_schema() -> None:
    big = "9" * 5000
    assert score(JsonValid(), big).to_dict() == {
        "value": 1.0,
        "label": "pass",
        "explanation": "valid JSON (int)",
    }
    assert score(JsonSchema({"type": "integer", "minimum": 0}), big).value == 1.0
    s = score(JsonSchema({"properties": {"n": {"maximum": 10}}}), f'{{"n": -{big}}}')
    assert s.value == 1.0
    s = score(JsonSchema({"properties": {"n": {"maximum": 10}}}), f'{{"n": {big}}}')
    assert s.value == 0.0
    assert s.explanation == "at $.n: <integer of 5000 digits> is greater than the maximum of 10"
    s = score(JsonSchema({"type": "string"}), f"[{big}]")
    assert s.value == 0.0 and "<integer of 5000 digits>" in s.explanation


def test_an_integer_too_long_to_check_is_an_explained_error() -> None:
    huge = "1" * 200_000
    assert score(JsonValid(), huge).value == 1.0  # valid JSON all the same
    s = score(JsonSchema({"type": "integer"}), huge)
    assert s.value is None and s.label == "error" and "200000 digits" in s.explanation


# ---------------------------------------------------------------- fences


@pytest.mark.parametrize(
    ("output", "where"),
    [
        ('```python\nprint(1)\n```\n\n```json\n{"a": 1}\n```', "fence 2"),
        ("Run:\n```bash\nls\n```\nthen\n```\nnot json\n```\n```json\n[1, 2]\n```", "fence 3"),
        ('```json\n{"a": 1}\n```\n```python\nx = 1\n```', "fence (list)"),
        ('```\nstill no\n```\n```\n{"b": 2}\n```', "fence 2"),
        ('```text\nhello\n```\n```JSON\n{"c": 3}\n```', "fence 2"),
    ],
)
def test_a_valid_json_fence_after_other_fences_is_found(output: str, where: str) -> None:
    s = score(JsonValid(), output)
    assert s.value == 1.0, s
    assert score(JsonSchema({"type": ["object", "array"]}), output).value == 1.0
    if where != "fence (list)":
        assert f"inside ``` {where}" in s.explanation


def test_no_valid_fence_reports_the_json_fence_error() -> None:
    s = score(JsonValid(), '```python\nx = 1\n```\n```json\n{"a": }\n```')
    assert s.value == 0.0 and "inside ``` fence 2" in s.explanation and "column 7" in s.explanation


# ---------------------------------------------------------------- schema regexes


def test_a_catastrophic_schema_pattern_is_an_error_not_a_hang(monkeypatch) -> None:
    from benchwork.scoring import _score

    monkeypatch.setattr(_score, "REGEX_TIMEOUT_S", 0.2)
    schema = {"type": "string", "pattern": "^(a|aa)+$"}
    s = score(JsonSchema(schema), json.dumps("a" * 40 + "!"))
    assert s.value is None and s.label == "error" and "took over 0.2 s" in s.explanation
    assert score(JsonSchema(schema), '"aaaa"').value == 1.0
    props = {"type": "object", "patternProperties": {"^x": {"type": "integer"}}}
    assert score(JsonSchema({**props, "additionalProperties": False}), '{"xa": 1}').value == 1.0
    s = score(JsonSchema({**props, "additionalProperties": False}), '{"xa": 1, "b": 2}')
    assert s.value == 0.0 and "'b' does not match any of the regexes: '^x'" in s.explanation
