"""Type checks for a stored call record (journal line, cache entry, imported row).

A record read back from disk may have been damaged or hand-edited; a wrong type (a string
latency, a list as case id) must be caught where it is read, with the field named, not later
as a Polars error while building the results frame of a run that is half done.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import polars as pl

from benchwork.results._schema import RESULT_SCHEMA

__all__ = ["record_problem"]


def _kind(dtype: pl.DataType) -> str:
    if dtype == pl.String():
        return "text"
    if dtype == pl.Int64():
        return "integer"
    if dtype == pl.Float64():
        return "number"
    if dtype == pl.Boolean():
        return "boolean"
    return "timestamp"


_KINDS: dict[str, str] = {name: _kind(dtype) for name, dtype in RESULT_SCHEMA.items()}
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _fits(kind: str, value: Any) -> bool:
    if kind == "text":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if kind == "integer":  # and within Int64, the column's type
        return isinstance(value, int) and _INT64_MIN <= value <= _INT64_MAX
    if kind == "number":
        return isinstance(value, int | float)
    if not isinstance(value, str):  # timestamp: an ISO-8601 string
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _score_problem(name: Any, value: Any) -> str | None:
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return None
    if not isinstance(value, dict):
        return f"score {name!r}: expected a number or an object, got {type(value).__name__}"
    v, expl = value.get("value"), value.get("explanation")
    if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
        return f"score {name!r}: 'value' must be a number or null, got {_show(v)}"
    if isinstance(v, float) and math.isinf(v):
        return f"score {name!r}: 'value' is infinite"
    if expl is not None and not isinstance(expl, str):
        return f"score {name!r}: 'explanation' must be text or null, got {type(expl).__name__}"
    return None


def record_problem(record: Any, required: Iterable[str] = ()) -> str | None:
    """What is wrong with a record dict (first problem, naming the field), or None if it fits.

    Every known field must be null or of its ``RESULT_SCHEMA`` type (``started_at`` an ISO
    string); ``required`` fields must be present and not null; ``scores`` must be an object
    of numbers or ``{"value", "explanation", ...}`` objects. Unknown keys are allowed (a
    newer version's fields).
    """
    if not isinstance(record, dict):
        return f"expected a JSON object, got {type(record).__name__}"
    for name in required:
        if record.get(name) is None:
            return f"field {name!r} is missing"
    for name, value in record.items():
        kind = _KINDS.get(name)
        if kind is None or value is None:
            continue
        if not _fits(kind, value):
            return f"field {name!r}: expected {kind}, got {_show(value)}"
    scores = record.get("scores")
    if scores is not None:
        if not isinstance(scores, dict):
            return f"field 'scores': expected an object, got {type(scores).__name__}"
        for name, value in scores.items():
            problem = _score_problem(name, value)
            if problem:
                return problem
    return None
