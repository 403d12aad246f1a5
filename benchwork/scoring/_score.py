"""The scorer protocol: ``Score``, ``Scorer``, ``BaseScorer`` and the helpers scorers share.

A scorer is any object with a ``name`` and ``__call__(case, record)`` returning a ``Score``
(or an awaitable of one). Built-ins subclass ``BaseScorer``; plain functions are adapted
(see :mod:`benchwork.scoring._registry`).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeAlias, runtime_checkable

from benchwork.errors import BenchworkError

__all__ = [
    "NO_EXPECTED",
    "AsyncBaseScorer",
    "BaseScorer",
    "Score",
    "Scorer",
    "ScorerSpec",
    "as_text",
    "case_field",
    "clip",
    "expected_texts",
    "fmt_number",
]


def _safe(text: str | None) -> str | None:
    """Make text encodable as UTF-8 (lone surrogates become ``\\udcff`` escapes)."""
    if text is None:
        return None
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


@dataclass(frozen=True, slots=True)
class Score:
    """One scorer's verdict on one call.

    ``value`` is in 0..1, or None when the call could not be scored (labels ``"error"`` or
    ``"skipped"``). ``label`` is a short verdict (``"pass"``/``"fail"``); ``explanation`` says why.
    Scorers that call a model (LLM judges) also report that model (``judge``), its cost and
    tokens, kept apart from the candidate's; ``meta`` holds other details (e.g. panel votes).
    """

    value: float | None
    label: str | None = None
    explanation: str | None = None
    cost_usd: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    judge: str | None = None
    meta: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        value = self.value
        if value is not None:
            if not isinstance(value, int | float) or math.isnan(value) or not 0 <= value <= 1:
                raise ValueError(f"score value must be a number in 0..1 or None, got {value!r}")
            object.__setattr__(self, "value", float(value))
        object.__setattr__(self, "label", _safe(self.label))
        object.__setattr__(self, "explanation", _safe(self.explanation))

    def to_dict(self) -> dict[str, Any]:
        """``{"value", "label", "explanation"}`` plus the judge fields that are set, as stored
        in ``CallRecord.scores``."""
        out: dict[str, Any] = {
            "value": self.value,
            "label": self.label,
            "explanation": self.explanation,
        }
        for key in _EXTRA_FIELDS:
            extra = getattr(self, key)
            if extra is not None:
                out[key] = extra
        return out

    @classmethod
    def passed(cls, passed: bool, explanation: str | None = None) -> Score:
        """1.0/"pass" or 0.0/"fail"."""
        return cls(1.0 if passed else 0.0, "pass" if passed else "fail", explanation)

    @classmethod
    def skipped(cls, explanation: str) -> Score:
        return cls(None, "skipped", explanation)

    @classmethod
    def error(cls, explanation: str) -> Score:
        return cls(None, "error", explanation)


_EXTRA_FIELDS = ("cost_usd", "input_tokens", "output_tokens", "judge", "meta")


@runtime_checkable
class Scorer(Protocol):
    """Anything with a ``name`` and ``__call__(case, record) -> Score | Awaitable[Score]``."""

    name: str

    def __call__(self, case: Any, record: Any) -> Score | Awaitable[Score]: ...


#: What ``get_scorer`` accepts: a registered name, ``{"type": ..., **options}``, or a callable.
ScorerSpec: TypeAlias = str | Mapping[str, Any] | Scorer | Callable[[Any, Any], Any]

NO_EXPECTED = "case has no expected value"


def case_field(case: Any, name: str, default: Any = None) -> Any:
    """Read a field from a Case object or a plain mapping (duck typing)."""
    if isinstance(case, Mapping):
        return case.get(name, default)
    return getattr(case, name, default)


def as_text(value: Any) -> str:
    """Output text as ``str``: None → "", bytes decoded leniently."""
    if value is None:
        return ""
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    return value if isinstance(value, str) else str(value)


def clip(text: Any, limit: int = 60) -> str:
    """A short quoted snippet of ``text`` for explanations."""
    text = as_text(text)
    return repr(text[:limit] + "…") if len(text) > limit else repr(text)


def fmt_number(x: float) -> str:
    """``42.0`` → ``42``; other floats by ``repr``."""
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e16:
        return str(int(x))
    return repr(x)


def expected_texts(expected: Any, scorer_name: str, *, drop_empty: bool = False) -> list[str]:
    """Expected value(s) as strings: a scalar or a list of acceptable answers."""
    items = list(expected) if isinstance(expected, list | tuple | set | frozenset) else [expected]
    out = []
    for item in items:
        if isinstance(item, Mapping | list | tuple):
            raise BenchworkError(
                f"{scorer_name}: expected must be a string, a number or a list of them, "
                f"got {type(item).__name__}"
            )
        if isinstance(item, bool):
            text = str(item).lower()
        elif isinstance(item, int | float):
            text = fmt_number(float(item)) if isinstance(item, float) else str(item)
        else:
            text = as_text(item)
        if text or not drop_empty:
            out.append(text)
    return out


class BaseScorer:
    """Base for built-in scorers: ``name``, an ``expected`` override, and ``score()``.

    ``__call__`` handles failed calls and missing expected values, then calls
    ``score(output, expected, case, record)`` with the output as ``str``.
    """

    default_name: ClassVar[str] = "scorer"
    needs_expected: ClassVar[bool] = True

    def __init__(self, *, name: str | None = None, expected: Any = None) -> None:
        self.name = name or self.default_name
        self.expected = expected

    def expected_for(self, case: Any) -> Any:
        """The ``expected=`` override, else ``case.expected``."""
        return self.expected if self.expected is not None else case_field(case, "expected")

    def __call__(self, case: Any, record: Any) -> Score | Awaitable[Score]:
        if getattr(record, "status", "ok") != "ok":
            return _failed_call(record)
        expected = self.expected_for(case) if self.needs_expected else None
        if self.needs_expected and (expected is None or expected == []):
            return Score.skipped(NO_EXPECTED)
        return self.score(as_text(getattr(record, "output_text", None)), expected, case, record)

    def score(self, output: str, expected: Any, case: Any, record: Any) -> Score:
        raise NotImplementedError

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({opts})"


class AsyncBaseScorer(BaseScorer):
    """A BaseScorer whose ``score()`` is a coroutine (LLM judges, embeddings).

    Calling it always gives an awaitable, also when the call failed or nothing is expected,
    so callers await every result the same way.
    """

    def __call__(self, case: Any, record: Any) -> Any:
        return self._score(case, record)

    async def _score(self, case: Any, record: Any) -> Score:
        result = BaseScorer.__call__(self, case, record)
        return result if isinstance(result, Score) else await result  # type: ignore[misc]


def _failed_call(record: Any) -> Score:
    kind = getattr(record, "error_type", None) or getattr(record, "status", None) or "error"
    return Score.error(f"call failed: {kind}")
