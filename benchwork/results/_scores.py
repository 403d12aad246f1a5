"""Scores in one form: a record's ``scores`` dict, and the one codec to and from frame columns.

A call record holds ``scores = {name: value}`` where *value* is a bare number (a plain scorer)
or a dict ``{"value", "explanation", "cost_usd", "meta": {"agreement", ...}}`` (a scorer that
explains itself, an LLM judge, a judge panel). That dict is what the journal stores and the
only form scores have. The results frame shows it wide, one ``score_<name>`` column per
scorer plus ``score_<name>_<field>`` for the fields in :data:`SCORE_FIELDS`; every place that
reads or writes those columns goes through the functions here, so the column rule exists once
and :func:`fold_scores` is the exact inverse of :func:`flatten_scores` (property-tested).

Scorer names may not end in ``_<field>`` for a field here, so a column name always says
which scorer and which field it holds (:func:`check_score_name`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from benchwork.errors import BenchworkError

__all__ = [
    "SCORE_FIELDS",
    "SCORE_NUMBERS",
    "check_score_name",
    "flatten_scores",
    "fold_scores",
    "is_score_value_column",
    "score_column",
    "score_names",
    "score_value_columns",
]

#: Numbers a scorer may report beside its value (path inside the stored score dict): an LLM
#: judge's own cost, a judge panel's agreement. Float64 ``score_<name>_<field>`` columns.
SCORE_NUMBERS: dict[str, tuple[str, ...]] = {
    "cost_usd": ("cost_usd",),
    "agreement": ("meta", "agreement"),
}

#: Every ``score_<name>_<field>`` suffix: the explanation (String) and the numbers (Float64).
SCORE_FIELDS: tuple[str, ...] = ("explanation", *SCORE_NUMBERS)

_PREFIX = "score_"
_SUFFIXES = tuple(f"_{f}" for f in SCORE_FIELDS)


def check_score_name(name: str) -> str:
    """*name* if it can name a scorer's columns; else a BenchworkError saying what to change."""
    if not isinstance(name, str) or not name:
        raise BenchworkError(f"a scorer name must be a non-empty string, got {name!r}")
    if name.endswith(_SUFFIXES):
        raise BenchworkError(
            f"scorer name {name!r} ends in {name[name.rindex('_') :]!r}, which the results "
            f"frame uses for a score's own fields ({', '.join(_SUFFIXES)}); rename the scorer"
        )
    return name


def score_column(name: str, field: str | None = None) -> str:
    """The column of scorer *name*: its value (``score_<name>``) or one of its SCORE_FIELDS."""
    if field is None:
        return f"{_PREFIX}{name}"
    if field not in SCORE_FIELDS:
        raise BenchworkError(f"unknown score field {field!r}; expected one of {SCORE_FIELDS}")
    return f"{_PREFIX}{name}_{field}"


def is_score_value_column(column: str) -> bool:
    """True for ``score_<name>``, False for its fields and for every other column."""
    return column.startswith(_PREFIX) and not column.endswith(_SUFFIXES)


def score_value_columns(columns: Iterable[str]) -> list[str]:
    """The ``score_<name>`` value columns among *columns*, in order."""
    return [c for c in columns if is_score_value_column(c)]


def score_names(columns: Iterable[str]) -> list[str]:
    """The scorer names whose value columns are among *columns*, in order."""
    return [c[len(_PREFIX) :] for c in score_value_columns(columns)]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(value) else float(value)


def _field(score: Any, field: str) -> Any:
    """The *field* of one stored score (None where it has none)."""
    if not isinstance(score, Mapping):
        return None
    if field == "explanation":
        return score.get("explanation")
    value: Any = score
    for key in SCORE_NUMBERS[field]:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return _number(value)


def flatten_scores(scores: Mapping[str, Any] | None) -> dict[str, Any]:
    """One record's scores as wide columns: ``score_<name>`` and the fields it has.

    A dict score always yields its explanation column (null when it gave none), so a
    column set tells a bare-number scorer from an explaining one.
    """
    out: dict[str, Any] = {}
    for name, score in (scores or {}).items():
        if isinstance(score, Mapping):
            out[score_column(name)] = score.get("value")
            out[score_column(name, "explanation")] = score.get("explanation")
            for field in SCORE_NUMBERS:
                number = _field(score, field)
                if number is not None:
                    out[score_column(name, field)] = number
        else:
            out[score_column(name)] = score
    return out


def fold_scores(row: Mapping[str, Any]) -> dict[str, Any]:
    """The inverse of :func:`flatten_scores`: a row's score columns back to a ``scores`` dict.

    A scorer with an explanation column comes back as a dict (when its value or explanation
    is set); one without as its bare value; a row where the scorer has nothing is left out.
    """
    scores: dict[str, Any] = {}
    for name in score_names(row):
        value = row.get(score_column(name))
        if isinstance(value, float) and math.isnan(value):
            value = None
        if score_column(name, "explanation") not in row:
            if value is not None:
                scores[name] = value
            continue
        explanation = row.get(score_column(name, "explanation"))
        numbers = {f: _number(row.get(score_column(name, f))) for f in SCORE_NUMBERS}
        if value is None and explanation is None and all(v is None for v in numbers.values()):
            continue
        score: dict[str, Any] = {"value": value, "explanation": explanation}
        for field, number in numbers.items():
            if number is None:
                continue
            path = SCORE_NUMBERS[field]
            slot = score
            for key in path[:-1]:
                slot = slot.setdefault(key, {})
            slot[path[-1]] = number
        scores[name] = score
    return scores
