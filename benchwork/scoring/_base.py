"""The scorer protocol: ``Score``, the registry, spec resolution and ``score_records``.

A scorer is any object with a ``name`` and ``__call__(case, record)`` returning a ``Score``
(or an awaitable of one). Built-ins subclass ``BaseScorer``; plain functions are adapted.
"""

from __future__ import annotations

import asyncio
import difflib
import functools
import inspect
import math
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeAlias, runtime_checkable

from benchwork.errors import BenchworkError

__all__ = [
    "BaseScorer",
    "Score",
    "Scorer",
    "ScorerSpec",
    "get_scorer",
    "register_scorer",
    "resolve_scorers",
    "score_record",
    "score_records",
    "scorer",
    "scorer_names",
]

#: Default number of async scorers (LLM judges, embeddings) in flight at once.
DEFAULT_CONCURRENCY = 8


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


class FunctionScorer:
    """Adapts a function ``(case, record) -> Score | float | bool`` (sync or async)."""

    def __init__(self, fn: Callable[[Any, Any], Any], *, name: str | None = None) -> None:
        self.fn = fn
        self.name = name or getattr(fn, "__name__", "")
        if not self.name or self.name == "<lambda>":
            raise BenchworkError(
                "a scorer needs a name: use @scorer(name=...) or a def, not an anonymous lambda"
            )
        functools.update_wrapper(self, fn)  # type: ignore[arg-type]

    def __call__(self, case: Any, record: Any) -> Any:
        return self.fn(case, record)

    def __repr__(self) -> str:
        return f"FunctionScorer(name={self.name!r}, fn={self.fn!r})"


class _Renamed:
    """A scorer under another name (``{"type": "custom", "name": "other"}``)."""

    def __init__(self, inner: Any, name: str) -> None:
        self.inner, self.name = inner, name

    def __call__(self, case: Any, record: Any) -> Any:
        return self.inner(case, record)

    def __repr__(self) -> str:
        return f"{self.inner!r} as {self.name!r}"


_REGISTRY: dict[str, Callable[..., Any]] = {}


def register_scorer(name: str, factory: Callable[..., Any]) -> None:
    """Register ``factory(**options) -> Scorer`` under ``name`` (re-registering replaces it)."""
    if not isinstance(name, str) or not name:
        raise BenchworkError(f"scorer name must be a non-empty string, got {name!r}")
    _REGISTRY[name] = factory


def scorer_names() -> list[str]:
    """Registered scorer names, sorted."""
    return sorted(_REGISTRY)


def scorer(fn: Callable[..., Any] | None = None, *, name: str | None = None) -> Any:
    """Decorator: register a function ``(case, record)`` (sync or async) as a named scorer.

    Use as ``@scorer`` or ``@scorer(name="tone")``; returns the scorer object, callable as before.
    """

    def wrap(f: Callable[..., Any]) -> FunctionScorer:
        obj = FunctionScorer(f, name=name)
        register_scorer(
            obj.name, lambda name=None: obj if name in (None, obj.name) else _Renamed(obj, name)
        )
        return obj

    return wrap(fn) if fn is not None else wrap


def _unknown(kind: str, value: str, known: Iterable[str]) -> str:
    known = sorted(known)
    close = difflib.get_close_matches(value, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown {kind} {value!r}{hint}; known {kind}s: {', '.join(known) or '(none)'}"


def _build(type_: str, options: dict[str, Any]) -> Any:
    factory = _REGISTRY.get(type_)
    if factory is None:
        raise BenchworkError(_unknown("scorer", type_, _REGISTRY))
    params = inspect.signature(factory).parameters
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        allowed = {
            k for k, p in params.items() if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
        }
        allowed.add("name")
        for key in options:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise BenchworkError(
                    f"scorer {type_!r}: unknown option {key!r}{hint}; "
                    f"allowed options: {', '.join(sorted(allowed))}"
                )
    name = options.pop("name", None)
    if name is not None and "name" in params:
        options["name"] = name
    try:
        obj = factory(**options)
    except BenchworkError:
        raise
    except (TypeError, ValueError) as e:
        raise BenchworkError(f"scorer {type_!r}: {e}") from e
    if name is not None and getattr(obj, "name", None) != name:
        obj = _Renamed(obj, name)
    return obj


def get_scorer(spec: ScorerSpec) -> Scorer:
    """Resolve a spec: ``"exact"``, ``{"type": "numeric", "tolerance": 0.01, "name": "num"}``,
    a Scorer object, or a function ``(case, record)``."""
    if isinstance(spec, str):
        return _build(spec, {})
    if isinstance(spec, Mapping):
        options = dict(spec)
        type_ = options.pop("type", None)
        if not isinstance(type_, str):
            raise BenchworkError(
                f"scorer spec {dict(spec)!r} needs a 'type' naming a scorer, "
                "e.g. {'type': 'numeric', 'tolerance': 0.01}"
            )
        return _build(type_, options)
    if isinstance(spec, type) and issubclass(spec, BaseScorer):
        return spec()  # Exact rather than Exact(): the defaults are meant
    if callable(spec):
        if isinstance(getattr(spec, "name", None), str) and spec.name:  # type: ignore[union-attr]
            return spec  # type: ignore[return-value]
        return FunctionScorer(spec)
    raise BenchworkError(
        f"cannot use {spec!r} as a scorer: pass a name like 'exact', a dict with a 'type', "
        "or a function (case, record)"
    )


def resolve_scorers(specs: ScorerSpec | Sequence[ScorerSpec]) -> list[Scorer]:
    """Resolve several specs; names must be unique (they become ``score_<name>`` columns)."""
    if isinstance(specs, str | Mapping) or callable(specs):
        specs = [specs]  # type: ignore[list-item]
    out: list[Scorer] = []
    seen: set[str] = set()
    for spec in specs:  # type: ignore[union-attr]
        s = get_scorer(spec)
        if s.name in seen:
            raise BenchworkError(
                f"two scorers are named {s.name!r}; give one another name, "
                f"e.g. {{'type': ..., 'name': '{s.name}_2'}}"
            )
        seen.add(s.name)
        out.append(s)
    return out


def _failed_call(record: Any) -> Score:
    kind = getattr(record, "error_type", None) or getattr(record, "status", None) or "error"
    return Score.error(f"call failed: {kind}")


def _to_score(result: Any) -> Score:
    if isinstance(result, Score):
        return result
    if isinstance(result, bool):
        return Score.passed(result)
    if isinstance(result, int | float):
        return Score(float(result))
    if result is None:
        return Score.skipped("scorer returned None")
    if isinstance(result, Mapping) and "value" in result:
        return Score(result["value"], result.get("label"), result.get("explanation"))
    raise TypeError(f"scorer returned {type(result).__name__}; return a Score, float or bool")


def _exc_score(e: BaseException) -> Score:
    return Score.error(f"{type(e).__name__}: {e}"[:500])


def _store(record: Any, name: str, score: Score) -> None:
    if record.scores is None:
        record.scores = {}
    record.scores[name] = score.to_dict()


async def _score_pairs(
    pairs: Iterable[tuple[Any, Any]], scorers: list[Scorer], concurrency: int
) -> None:
    # Sync scorers run inline (cheap); awaitables are queued and drained by ``concurrency``
    # workers, so at most that many async scorers (judges, embeddings) are in flight.
    pending: deque[tuple[Any, str, Awaitable[Any]]] = deque()
    for case, record in pairs:
        for s in scorers:
            if case is _NO_CASE:
                score = Score.error(f"no case with id {record.case_id!r} among the given cases")
            elif getattr(record, "status", "ok") != "ok":
                score = _failed_call(record)
            else:
                try:
                    result = s(case, record)
                    if inspect.isawaitable(result):
                        pending.append((record, s.name, result))
                        continue
                    score = _to_score(result)
                except Exception as e:
                    score = _exc_score(e)
            _store(record, s.name, score)

    async def worker() -> None:
        while pending:
            record, name, awaitable = pending.popleft()
            try:
                score = _to_score(await awaitable)
            except Exception as e:
                score = _exc_score(e)
            _store(record, name, score)

    try:
        if pending:
            await asyncio.gather(*(worker() for _ in range(min(max(1, concurrency), len(pending)))))
    finally:  # cancelled: close what never started, without "never awaited" warnings
        for _, _, awaitable in pending:
            if inspect.iscoroutine(awaitable):
                awaitable.close()


_NO_CASE = object()


async def score_record(
    case: Any,
    record: Any,
    scorers: ScorerSpec | Sequence[ScorerSpec],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> Any:
    """Score one record against its case; sets ``record.scores[name]`` and returns the record."""
    await _score_pairs([(case, record)], resolve_scorers(scorers), concurrency)
    return record


async def score_records(
    cases: Mapping[str, Any] | Iterable[Any],
    records: list[Any],
    scorers: ScorerSpec | Sequence[ScorerSpec],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> list[Any]:
    """Score every record (warm-ups too) with every scorer; returns the same, mutated records.

    Failed calls get ``Score(None, "error", ...)`` without running the scorer; a scorer that
    raises gives an error score instead of stopping the run; at most ``concurrency`` async
    scorers run at once.
    """
    resolved = resolve_scorers(scorers)
    if isinstance(cases, Mapping):
        by_id = dict(cases)
    else:
        by_id = {str(case_field(c, "id")): c for c in cases}
    pairs = ((by_id.get(r.case_id, _NO_CASE), r) for r in records)
    await _score_pairs(pairs, resolved, concurrency)
    return records
