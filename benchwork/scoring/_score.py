"""The scorer protocol: ``Score``, ``Scorer``, ``BaseScorer`` and the helpers scorers share.

A scorer is any object with a ``name`` and ``__call__(case, record)`` returning a ``Score``
(or an awaitable of one). Built-ins subclass ``BaseScorer``; plain functions are adapted
(see :mod:`benchwork.scoring._registry`).
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeAlias, runtime_checkable

from benchwork.errors import BenchworkError, SuiteError

__all__ = [
    "NO_EXPECTED",
    "OFFLOAD_CHARS",
    "REGEX_TIMEOUT_S",
    "AsyncBaseScorer",
    "BaseScorer",
    "Score",
    "Scorer",
    "ScorerSpec",
    "as_text",
    "case_field",
    "case_label",
    "clip",
    "compile_regex",
    "expected_texts",
    "fmt_number",
    "regex_search",
    "regex_timeout",
    "safe_repr",
]

#: One regex search (the regex scorer, JSON Schema patterns) gives up after this many seconds.
REGEX_TIMEOUT_S = 2.0
#: Built-in scorers score outputs longer than this in a worker thread, off the event loop.
OFFLOAD_CHARS = 20_000


@functools.lru_cache(maxsize=512)
def compile_regex(pattern: str, flags: int = 0) -> Any:
    """``regex.compile`` (the ``regex`` package: its searches take a ``timeout``), cached."""
    import regex

    return regex.compile(pattern, flags)


def regex_search(pattern: str, text: str, flags: int = 0, timeout: float | None = None) -> Any:
    """``search`` with a time limit: raises ``TimeoutError`` after ``timeout`` seconds
    (default ``REGEX_TIMEOUT_S``).

    The regex engine releases the GIL while it matches, so a slow search in a worker thread
    leaves the event loop free.
    """
    limit = REGEX_TIMEOUT_S if timeout is None else timeout
    return compile_regex(pattern, flags).search(text, timeout=limit)


def regex_timeout() -> float:
    """The current default time limit of one regex search (``REGEX_TIMEOUT_S``)."""
    return REGEX_TIMEOUT_S


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


def case_label(case: Any) -> str:
    """The case's id as text, for messages."""
    return str(case_field(case, "id", "?"))


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


def safe_repr(value: Any) -> str:
    """``repr``, or a short stand-in when it cannot be made (an int past 4,300 digits)."""
    try:
        return repr(value)
    except (ValueError, RecursionError):
        return f"<{type(value).__name__} too large to show>"


def fmt_number(x: float) -> str:
    """``42.0`` → ``42``; other floats by ``repr``."""
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e16:
        return str(int(x))
    return repr(x)


def _int_text(n: int) -> str:
    """``str(n)``, also past Python's 4,300-digit limit for int/str conversion."""
    try:
        return str(n)
    except ValueError:
        from decimal import Decimal

        return str(Decimal(n))


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
        elif isinstance(item, float):
            text = fmt_number(item)
        elif isinstance(item, int):
            text = _int_text(item)
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
    #: Where scoring runs: "large" = in a worker thread when the output is longer than
    #: ``OFFLOAD_CHARS``; "always" = always in a worker thread (regexes can be slow on short
    #: outputs); either way with the time limit of ``score_records``.
    offload: ClassVar[str] = "large"

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        self = super().__new__(cls)
        self._init_args = (args, kwargs)  # pyright: ignore[reportAttributeAccessIssue]  (manifest config)
        return self

    def __init__(self, *, name: str | None = None, expected: Any = None) -> None:
        self.name = name or self.default_name
        self.expected = expected

    def config_options(self) -> dict[str, Any]:
        """The options this scorer was built with, by name (defaults left out): what
        ``scorer_config`` stores and ``build_scorer`` passes back. Judges override it."""
        args, kwargs = getattr(self, "_init_args", ((), {}))
        sig = inspect.signature(type(self).__init__)
        bound = sig.bind(self, *args, **kwargs)
        out: dict[str, Any] = {}
        for key, value in list(bound.arguments.items())[1:]:
            if sig.parameters[key].kind is inspect.Parameter.VAR_KEYWORD:
                out.update(value)
            else:
                out[key] = value
        return out

    def expected_for(self, case: Any) -> Any:
        """The ``expected=`` override, else ``case.expected``."""
        return self.expected if self.expected is not None else case_field(case, "expected")

    # -- checked before any call (``check_cases``) ------------------------------------------
    def check(self, case: Any) -> None:
        """Raise a ``SuiteError`` naming the case and field when this scorer could never score
        the case (e.g. an invalid regex in ``expected``), so a run fails before any call
        instead of giving every row a null score. The default checks ``expected``."""
        if not self.needs_expected:
            return
        expected = self.expected_for(case)
        if expected is None or expected == []:
            return  # scored as "skipped", with that reason
        field = "expected" if self.expected is None else f"scorer {self.name!r} option 'expected'"
        self.field_error(case, field, self.check_expected, expected, case)

    def check_expected(self, expected: Any, case: Any) -> None:
        """Raise a BenchworkError if ``expected`` cannot be used (default: text or numbers)."""
        expected_texts(expected, self.name)

    @staticmethod
    def field_error(case: Any, field: str, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)``; a BenchworkError becomes a SuiteError naming the case and field."""
        try:
            return fn(*args)
        except SuiteError:
            raise
        except BenchworkError as e:
            raise SuiteError(
                f"field {field!r}: {e}", case_id=case_label(case), field=field
            ) from None

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

    offload: ClassVar[str] = "never"  # awaited on the loop; it waits, it does not compute

    def __call__(self, case: Any, record: Any) -> Any:
        return self._score(case, record)

    async def _score(self, case: Any, record: Any) -> Score:
        result = BaseScorer.__call__(self, case, record)
        return result if isinstance(result, Score) else await result  # type: ignore[misc]


def _failed_call(record: Any) -> Score:
    kind = getattr(record, "error_type", None) or getattr(record, "status", None) or "error"
    return Score.error(f"call failed: {kind}")
