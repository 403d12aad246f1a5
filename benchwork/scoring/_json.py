"""JSON scorers: json_valid and json_schema (Draft 2020-12)."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from itertools import islice
from typing import Any

from benchwork.errors import BenchworkError
from benchwork.scoring._registry import register_scorer
from benchwork.scoring._score import BaseScorer, Score, case_field, clip

__all__ = ["JsonSchema", "JsonValid", "parse_json_output"]


def _fenced(text: str) -> str | None:
    """The body of the first ``` fence (language tag ignored; an unclosed fence runs to the end)."""
    start = text.find("```")
    if start < 0:
        return None
    newline = text.find("\n", start + 3)
    if newline < 0:
        return None
    end = text.find("```", newline + 1)
    return text[newline + 1 : end if end >= 0 else len(text)]


def _describe(e: json.JSONDecodeError) -> str:
    near = e.doc[max(0, e.pos - 20) : e.pos + 20]
    return f"{e.msg} at line {e.lineno} column {e.colno} (char {e.pos}), near {clip(near)}"


def parse_json_output(text: str) -> tuple[Any, str | None, str]:
    """Parse model output as JSON, also inside a ```json fence.

    Returns ``(value, error, where)``: ``error`` is None on success, else a message with the
    position of the parse error; ``where`` says whether the fence was used.
    """
    stripped = text.strip()
    if not stripped:
        return None, "output is empty", ""
    try:
        return json.loads(stripped), None, ""
    except json.JSONDecodeError as e:
        error = _describe(e)
    except RecursionError:
        return None, "JSON nested too deeply", ""
    body = _fenced(stripped)
    if body is not None:
        try:
            return json.loads(body), None, " inside ``` fence"
        except json.JSONDecodeError as e:
            return None, _describe(e), " inside ``` fence"
        except RecursionError:
            return None, "JSON nested too deeply", " inside ``` fence"
    return None, error, ""


class JsonValid(BaseScorer):
    """The output parses as JSON (bare or in a ```json fence)."""

    default_name = "json_valid"
    needs_expected = False

    def __init__(self, *, name: str | None = None) -> None:
        super().__init__(name=name)

    def score(self, output: str, expected: Any, case: Any, record: Any) -> Score:
        value, error, where = parse_json_output(output)
        if error is not None:
            return Score.passed(False, f"invalid JSON{where}: {error}")
        return Score.passed(True, f"valid JSON{where} ({type(value).__name__})")


@functools.lru_cache(maxsize=256)
def _validator_for(canonical: str) -> Any:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    schema = json.loads(canonical)
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as e:
        raise BenchworkError(f"json_schema: invalid schema at {e.json_path}: {e.message}") from None
    return Draft202012Validator(schema)


def _validator(schema: Any) -> Any:
    if not isinstance(schema, Mapping | bool):
        raise BenchworkError(f"json_schema: schema must be a dict, got {type(schema).__name__}")
    try:
        canonical = json.dumps(schema, sort_keys=True)
    except (TypeError, ValueError) as e:
        raise BenchworkError(f"json_schema: schema is not JSON-serializable: {e}") from None
    return _validator_for(canonical)


class JsonSchema(BaseScorer):
    """The output is JSON that validates against ``schema`` or ``case.metadata["schema"]``."""

    default_name = "json_schema"
    needs_expected = False

    def __init__(self, schema: Mapping[str, Any] | None = None, *, name: str | None = None) -> None:
        super().__init__(name=name)
        self.schema = schema
        if schema is not None:
            _validator(schema)  # fail at construction, not per call

    def score(self, output: str, expected: Any, case: Any, record: Any) -> Score:
        schema = self.schema
        if schema is None:
            schema = (case_field(case, "metadata") or {}).get("schema")
        if schema is None:
            return Score.skipped(
                "json_schema: no schema; pass schema=... or set case.metadata['schema']"
            )
        validator = _validator(schema)
        value, error, where = parse_json_output(output)
        if error is not None:
            return Score.passed(False, f"invalid JSON{where}: {error}")
        errors = list(islice(validator.iter_errors(value), 100))
        if not errors:
            return Score.passed(True, f"matches the schema{where}")
        from jsonschema.exceptions import best_match

        first = best_match(errors)
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        message = first.message if len(first.message) <= 200 else first.message[:200] + "…"
        return Score.passed(False, f"at {first.json_path}: {message}{more}")


register_scorer("json_valid", JsonValid)
register_scorer("json_schema", JsonSchema)
