"""The scorer registry: ``@scorer``, ``register_scorer`` and resolving specs (``get_scorer``).

A spec is a registered name (``"exact"``), a dict (``{"type": "numeric", "tolerance": 0.01}``),
a Scorer object, or a function ``(case, record)``, which ``FunctionScorer`` adapts.
"""

from __future__ import annotations

import difflib
import functools
import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, overload

from benchwork.errors import BenchworkError
from benchwork.results import check_score_name
from benchwork.scoring._score import BaseScorer, Scorer, ScorerSpec

__all__ = [
    "FunctionScorer",
    "get_scorer",
    "register_scorer",
    "resolve_scorers",
    "scorer",
    "scorer_names",
]


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

    def __getattr__(self, attr: str) -> Any:  # check, offload, ...: the inner scorer's
        if attr == "inner":
            raise AttributeError(attr)
        return getattr(self.inner, attr)

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


@overload
def scorer(fn: Callable[..., Any], *, name: str | None = None) -> FunctionScorer: ...
@overload
def scorer(
    fn: None = None, *, name: str | None = None
) -> Callable[[Callable[..., Any]], FunctionScorer]: ...
def scorer(
    fn: Callable[..., Any] | None = None, *, name: str | None = None
) -> FunctionScorer | Callable[[Callable[..., Any]], FunctionScorer]:
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
        check_score_name(s.name)  # its columns must say which scorer and field they hold
        if s.name in seen:
            raise BenchworkError(
                f"two scorers are named {s.name!r}; give one another name, "
                f"e.g. {{'type': ..., 'name': '{s.name}_2'}}"
            )
        seen.add(s.name)
        out.append(s)
    return out
