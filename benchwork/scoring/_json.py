"""JSON scorers: json_valid and json_schema (Draft 2020-12).

Output is read as strict JSON (RFC 8259): ``NaN`` and ``Infinity`` are not JSON. Integers of
any length parse (Python's 4,300-digit limit for ``int(str)`` does not apply here). Output
may be bare JSON or sit in a fenced block; with several fences, ```json blocks are tried
first, then unlabelled ones, then the rest, and the first that parses is used.

Schemas never reach the network: ``$ref`` resolves inside the schema only (``$defs``,
JSON pointers, anchors, embedded ``$id``), and a remote or dangling ``$ref`` is an error
when the scorer is built or the case is checked. Schema regexes (``pattern``,
``patternProperties``) run with a time limit, so a catastrophic pattern cannot hang scoring.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from decimal import Decimal
from itertools import islice
from typing import Any
from urllib.parse import urljoin

from benchwork.errors import BenchworkError
from benchwork.scoring._registry import register_scorer
from benchwork.scoring._score import (
    BaseScorer,
    Score,
    case_field,
    clip,
    regex_search,
    regex_timeout,
)

__all__ = ["MAX_INT_DIGITS", "JsonSchema", "JsonValid", "check_schema", "parse_json_output"]

#: json_schema checks integers of up to this many digits (exact conversion is quadratic).
MAX_INT_DIGITS = 100_000
#: At most this many ``` fences are tried.
MAX_FENCES = 50
_STR_DIGITS = 4_000  # below Python's int/str conversion limit (4,300)


class _LongInt(int):
    """An integer too long for ``repr`` (Python's int/str limit): repr gives its length."""

    digits: int

    def __new__(cls, value: int, digits: int) -> _LongInt:
        obj = super().__new__(cls, value)
        obj.digits = digits
        return obj

    def __repr__(self) -> str:
        return f"<integer of {self.digits} digits>"

    __str__ = __repr__


class _NotJson(ValueError):
    """A token Python's json accepts but JSON does not: NaN, Infinity."""


class _TooLong(ValueError):
    """An integer too long to convert exactly (see ``MAX_INT_DIGITS``)."""


def _reject_constant(name: str) -> Any:
    raise _NotJson(f"{name} is not valid JSON (JSON has no NaN or Infinity)")


def _int_parser(exact: bool) -> Any:
    def parse(text: str) -> int:
        if len(text) <= _STR_DIGITS:
            return int(text)
        digits = len(text.lstrip("-"))
        if not exact:  # json_valid: only the shape matters, not the value
            return _LongInt(0, digits)
        if digits > MAX_INT_DIGITS:
            raise _TooLong(
                f"holds an integer of {digits} digits, too long to check "
                f"(json_schema reads integers of up to {MAX_INT_DIGITS} digits)"
            )
        return _LongInt(int(Decimal(text)), digits)  # no int/str limit on this path

    return parse


def _loads(text: str, exact: bool) -> Any:
    return json.loads(text, parse_constant=_reject_constant, parse_int=_int_parser(exact))


def _fences(text: str) -> Iterator[tuple[str, str]]:
    """(language tag, body) of each ``` fence (an unclosed fence runs to the end)."""
    pos = 0
    for _ in range(MAX_FENCES):
        start = text.find("```", pos)
        if start < 0:
            return
        newline = text.find("\n", start + 3)
        if newline < 0:
            return
        tag = text[start + 3 : newline].strip().lower()
        end = text.find("```", newline + 1)
        yield tag, text[newline + 1 : end if end >= 0 else len(text)]
        if end < 0:
            return
        pos = end + 3


def _rank(tag: str) -> int:
    return 0 if tag.startswith("json") else 1 if not tag else 2


def _describe(e: json.JSONDecodeError) -> str:
    near = e.doc[max(0, e.pos - 20) : e.pos + 20]
    return f"{e.msg} at line {e.lineno} column {e.colno} (char {e.pos}), near {clip(near)}"


def _parse(text: str, exact: bool) -> tuple[Any, str | None]:
    """(value, None), or (None, why it is not JSON); ``_TooLong`` passes through."""
    try:
        return _loads(text, exact), None
    except json.JSONDecodeError as e:
        return None, _describe(e)
    except _NotJson as e:
        return None, str(e)
    except RecursionError:
        return None, "JSON nested too deeply"


def parse_json_output(text: str, *, exact_ints: bool = True) -> tuple[Any, str | None, str]:
    """Parse model output as JSON, bare or in a ``` fence (```json fences first).

    Returns ``(value, error, where)``: ``error`` is None on success, else a message with the
    position of the parse error; ``where`` says which fence was used, if any.
    ``exact_ints=False`` skips converting very long integers (only validity is wanted).
    """
    stripped = text.strip()
    if not stripped:
        return None, "output is empty", ""
    value, error = _parse(stripped, exact_ints)
    if error is None:
        return value, None, ""
    fences = list(_fences(stripped))
    order = sorted(range(len(fences)), key=lambda i: _rank(fences[i][0]))
    first_error = None
    for i in order:
        where = " inside ``` fence" + (f" {i + 1}" if i else "")
        value, fence_error = _parse(fences[i][1], exact_ints)
        if fence_error is None:
            return value, None, where
        if first_error is None:
            first_error = (fence_error, where)
    if first_error is not None:
        return None, first_error[0], first_error[1]
    return None, error, ""


def _type_name(value: Any) -> str:
    return "int" if isinstance(value, _LongInt) else type(value).__name__


class JsonValid(BaseScorer):
    """The output parses as JSON (bare or in a ```json fence)."""

    default_name = "json_valid"
    needs_expected = False

    def __init__(self, *, name: str | None = None) -> None:
        super().__init__(name=name)

    def score(self, output: str, expected: Any, case: Any, record: Any) -> Score:
        value, error, where = parse_json_output(output, exact_ints=False)
        if error is not None:
            return Score.passed(False, f"invalid JSON{where}: {error}")
        return Score.passed(True, f"valid JSON{where} ({_type_name(value)})")


# -- schemas: no network, regexes with a time limit ------------------------------------------


class RemoteRefError(LookupError):
    """Raised by the registry's ``retrieve``: scoring never fetches a schema."""


def _refuse(uri: str) -> Any:
    raise RemoteRefError(f"{uri!r} is not in the schema, and scoring never fetches schemas")


@functools.cache
def _offline_registry() -> Any:
    from referencing import Registry

    return Registry(retrieve=_refuse)  # type: ignore[call-arg]


def _pattern(validator: Any, patrn: str, instance: Any, schema: Any) -> Iterator[Any]:
    from jsonschema.exceptions import ValidationError

    if validator.is_type(instance, "string") and not regex_search(patrn, instance):
        yield ValidationError(f"{instance!r} does not match {patrn!r}")


def _pattern_properties(validator: Any, patterns: Any, instance: Any, schema: Any) -> Iterator[Any]:
    if not validator.is_type(instance, "object"):
        return
    for patrn, subschema in patterns.items():
        for k, v in instance.items():
            if regex_search(patrn, k):
                yield from validator.descend(v, subschema, path=k, schema_path=patrn)


def _extra_properties(instance: Any, schema: Any) -> list[Any]:
    properties = schema.get("properties", {})
    patterns = "|".join(schema.get("patternProperties", {}))
    return [
        p for p in instance if p not in properties and not (patterns and regex_search(patterns, p))
    ]


def _additional_properties(validator: Any, ap: Any, instance: Any, schema: Any) -> Iterator[Any]:
    from jsonschema.exceptions import ValidationError

    if not validator.is_type(instance, "object"):
        return
    extras = _extra_properties(instance, schema)
    if validator.is_type(ap, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], ap, path=extra)
    elif not ap and extras:
        joined = ", ".join(repr(e) for e in sorted(extras, key=str))
        if "patternProperties" in schema:
            verb = "does" if len(extras) == 1 else "do"
            patterns = ", ".join(repr(p) for p in sorted(schema["patternProperties"]))
            yield ValidationError(f"{joined} {verb} not match any of the regexes: {patterns}")
        else:
            verb = "was" if len(extras) == 1 else "were"
            yield ValidationError(
                f"Additional properties are not allowed ({joined} {verb} unexpected)"
            )


@functools.cache
def _validator_class() -> Any:
    from jsonschema import Draft202012Validator, validators

    return validators.extend(
        Draft202012Validator,
        {
            "pattern": _pattern,
            "patternProperties": _pattern_properties,
            "additionalProperties": _additional_properties,
        },
    )


_DATA_KEYWORDS = frozenset({"enum", "const", "examples", "default"})
_NAME_MAPS = frozenset(
    {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
)


def _check_refs(schema: Any) -> None:
    """Every ``$ref`` resolves inside the schema; a remote or dangling one is an error."""
    from jsonschema_specifications import REGISTRY as SPECS
    from referencing.exceptions import Unresolvable, Unretrievable
    from referencing.jsonschema import DRAFT202012

    if not isinstance(schema, Mapping):
        return
    root_id = schema.get("$id")
    root: str = root_id if isinstance(root_id, str) else ""
    resource = DRAFT202012.create_resource(schema)
    registry = SPECS.combine(_offline_registry().with_resource(root, resource)).crawl()

    def walk(node: Any, base: str, path: str, names: bool = False) -> None:
        if isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, base, f"{path}[{i}]")
            return
        if not isinstance(node, Mapping):
            return
        if names:  # a map of names to schemas ("properties"): every value is a schema
            for key, sub in node.items():
                walk(sub, base, f"{path}.{key}")
            return
        if isinstance(node.get("$id"), str):
            base = urljoin(base, node["$id"])
        ref = node.get("$ref")
        if isinstance(ref, str):
            try:
                registry.resolver(base_uri=base).lookup(ref)
            except Unresolvable as e:
                if isinstance(e, Unretrievable) or isinstance(e.__cause__, Unretrievable):
                    raise BenchworkError(
                        f"json_schema: $ref {ref!r} at {path or '$'} is not in the schema; "
                        "remote references are never fetched: put the referenced schema "
                        "under $defs"
                    ) from None
                raise BenchworkError(
                    f"json_schema: $ref {ref!r} at {path or '$'} points to nothing in the schema"
                ) from None
        for key, sub in node.items():
            if key not in _DATA_KEYWORDS:
                walk(sub, base, f"{path}.{key}", names=key in _NAME_MAPS)

    walk(schema, root, "$")


@functools.lru_cache(maxsize=256)
def _validator_for(canonical: str) -> Any:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    schema = json.loads(canonical)
    try:
        Draft202012Validator.check_schema(schema)
        _check_refs(schema)
    except SchemaError as e:
        raise BenchworkError(f"json_schema: invalid schema at {e.json_path}: {e.message}") from None
    except RecursionError:
        raise BenchworkError("json_schema: schema nested too deeply") from None
    return _validator_class()(schema, registry=_offline_registry())


def _validator(schema: Any) -> Any:
    if not isinstance(schema, Mapping | bool):
        raise BenchworkError(f"json_schema: schema must be a dict, got {type(schema).__name__}")
    try:
        canonical = json.dumps(schema, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise BenchworkError(f"json_schema: schema is not JSON-serializable: {e}") from None
    except RecursionError:
        raise BenchworkError("json_schema: schema nested too deeply") from None
    return _validator_for(canonical)


def check_schema(schema: Any) -> None:
    """Raise a BenchworkError if ``schema`` is not a valid, self-contained JSON Schema."""
    _validator(schema)


class JsonSchema(BaseScorer):
    """The output is JSON that validates against ``schema`` or ``case.metadata["schema"]``."""

    default_name = "json_schema"
    needs_expected = False
    offload = "always"  # schema regexes can be slow on short outputs

    def __init__(self, schema: Mapping[str, Any] | None = None, *, name: str | None = None) -> None:
        super().__init__(name=name)
        self.schema = schema
        if schema is not None:
            _validator(schema)  # fail at construction, not per call

    def _schema(self, case: Any) -> Any:
        if self.schema is not None:
            return self.schema
        metadata = case_field(case, "metadata") or {}
        return metadata.get("schema") if isinstance(metadata, Mapping) else None

    def check(self, case: Any) -> None:
        if self.schema is None:
            schema = self._schema(case)
            if schema is not None:
                self.field_error(case, "metadata.schema", _validator, schema)

    def score(self, output: str, expected: Any, case: Any, record: Any) -> Score:
        schema = self._schema(case)
        if schema is None:
            return Score.skipped(
                "json_schema: no schema; pass schema=... or set case.metadata['schema']"
            )
        validator = _validator(schema)
        try:
            value, error, where = parse_json_output(output)
        except _TooLong as e:
            return Score.error(f"json_schema: the output {e}")
        if error is not None:
            return Score.passed(False, f"invalid JSON{where}: {error}")
        from referencing.exceptions import Unresolvable

        try:
            errors = list(islice(validator.iter_errors(value), 100))
        except Unresolvable as e:  # checked when the schema was read; never fetched
            return Score.error(f"json_schema: $ref {str(e)!r} cannot be resolved offline")
        except TimeoutError:
            return Score.error(
                f"json_schema: a schema regex took over {regex_timeout():g} s on this output "
                "(catastrophic backtracking?)"
            )
        except RecursionError:
            return Score.error(f"json_schema: JSON{where} nested too deeply to validate")
        except Exception as e:
            import regex

            if not isinstance(e, regex.error):
                raise
            return Score.error(f"json_schema: a schema regex cannot be used: {e}")
        if not errors:
            return Score.passed(True, f"matches the schema{where}")
        from jsonschema.exceptions import best_match

        first = best_match(errors)
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        message = first.message if len(first.message) <= 200 else first.message[:200] + "…"
        return Score.passed(False, f"at {first.json_path}: {message}{more}")


register_scorer("json_valid", JsonValid)
register_scorer("json_schema", JsonSchema)
