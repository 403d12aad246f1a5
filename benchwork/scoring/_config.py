"""Scorer configurations: ``scorer_config`` (a scorer as JSON) and ``build_scorer`` (back).

A run stores each scorer's full configuration in its manifest (``scorer_configs``), so a
resume or a later rescore rebuilds exactly the scorers it was scored with (a
``Numeric(tolerance=0.5)`` stays 0.5). A configuration is the scorer spec dict that
``get_scorer`` takes: ``{"type": "numeric", "tolerance": 0.5, "name": "num"}``, holding the
options the scorer was built with. Judges hold their judge target (``Target.to_dict``: a key
variable's name, never a key).

A custom scorer (a ``@scorer`` function, a class of your own) is stored as
``{"type": <its name>, "custom": true, "defined_in": ...}``: it is rebuilt only from a scorer
registered under that name in the session that resumes; otherwise ``build_scorer`` raises an
error naming it, never a default.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import PurePath
from typing import Any

from benchwork.errors import BenchworkError
from benchwork.scoring._registry import _REGISTRY, FunctionScorer, _Renamed, get_scorer
from benchwork.scoring._score import BaseScorer, Scorer

__all__ = ["build_scorer", "scorer_config", "scorer_configs"]


class _NotStorable(Exception):
    pass


def _jsonable(value: Any, where: str) -> Any:
    """``value`` as plain JSON data, or ``_NotStorable`` saying why it cannot be."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _NotStorable(f"option {where!r} is {value!r}, which JSON cannot hold")
        return value
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise _NotStorable(f"option {where!r} has a key {k!r} that is not a string")
            out[k] = _jsonable(v, f"{where}.{k}")
        return out
    if isinstance(value, list | tuple):
        return [_jsonable(v, f"{where}[{i}]") for i, v in enumerate(value)]
    to_dict = getattr(value, "to_dict", None)  # a Target
    if callable(to_dict):
        return _jsonable(to_dict(), where)
    raise _NotStorable(f"option {where!r} is a {type(value).__name__}, which cannot be stored")


def _is_builtin(factory: Any) -> bool:
    return isinstance(factory, type) and factory.__module__.startswith("benchwork.")


def _registered_type(scorer: BaseScorer) -> str | None:
    cls = type(scorer)
    names = [n for n, factory in _REGISTRY.items() if factory is cls]
    default = getattr(cls, "default_name", None)
    return default if default in names else (names[0] if names else None)


def _origin(obj: Any) -> str:
    target = getattr(obj, "fn", None) or type(obj)
    module = getattr(target, "__module__", None) or "?"
    return f"{module}.{getattr(target, '__qualname__', type(target).__name__)}"


def _custom(scorer: Any) -> dict[str, Any]:
    return {"type": scorer.name, "custom": True, "defined_in": _origin(scorer)}


def scorer_config(scorer: Scorer) -> dict[str, Any]:
    """The full configuration of a resolved scorer, as JSON data (see the module docstring).

    ``build_scorer(scorer_config(s))`` builds a scorer equal to ``s``; a custom scorer gives
    a configuration that only a registered scorer of that name can rebuild.
    """
    if isinstance(scorer, _Renamed):
        return {**scorer_config(scorer.inner), "name": scorer.name}
    own = getattr(scorer, "to_config", None)
    if callable(own):  # a scorer class of your own may say how it is stored
        stored: Any = own()
        return dict(stored)
    if isinstance(scorer, FunctionScorer) or not isinstance(scorer, BaseScorer):
        return _custom(scorer)
    type_ = _registered_type(scorer)
    if type_ is None:
        return _custom(scorer)
    config: dict[str, Any] = {"type": type_}
    try:
        for key, value in scorer.config_options().items():
            config[key] = _jsonable(value, key)
    except _NotStorable as e:
        config = {"type": type_, "unstorable": str(e)}
    if "name" in config or scorer.name != scorer.default_name:
        config["name"] = scorer.name
    if not _is_builtin(type(scorer)):
        config["custom"] = True
        config["defined_in"] = _origin(scorer)
    return config


def scorer_configs(scorers: Iterable[Scorer]) -> list[dict[str, Any]]:
    """``scorer_config`` of each scorer."""
    return [scorer_config(s) for s in scorers]


def _masked_judge(scorer: Any) -> str | None:
    members = getattr(scorer, "members", None) or [scorer]
    for member in members:
        judge = getattr(member, "judge", None)
        target = getattr(judge, "target", None)
        if target is not None and getattr(target, "holds_masked_secret", False):
            return f"judge {getattr(judge, 'model', '?')}"
    api_base = getattr(scorer, "api_base", None)
    if isinstance(api_base, str) and "***" in api_base:
        return f"endpoint {api_base}"
    return None


def build_scorer(config: Mapping[str, Any] | str) -> Scorer:
    """A scorer from a stored configuration (``scorer_config``), or a registered name.

    Raises a BenchworkError naming the scorer when it cannot be rebuilt exactly: a custom
    scorer this session has not registered, an option that could not be stored, a judge
    whose key was in its ``api_base`` or headers (never stored).
    """
    if isinstance(config, str):
        return get_scorer(config)
    if not isinstance(config, Mapping):
        raise BenchworkError(
            f"a stored scorer configuration must be an object, got {type(config).__name__}"
        )
    options = dict(config)
    custom = options.pop("custom", False)
    origin = options.pop("defined_in", None)
    unstorable = options.pop("unstorable", None)
    type_ = options.get("type")
    label = options.get("name") or type_ or "?"
    if unstorable:
        raise BenchworkError(
            f"scorer {label!r} cannot be rebuilt from the run's manifest: {unstorable}; "
            "pass the scorers again (scorers=[...])"
        )
    if custom:
        factory = _REGISTRY.get(type_) if isinstance(type_, str) else None
        if factory is None or _is_builtin(factory):
            where = f" ({origin})" if origin else ""
            raise BenchworkError(
                f"scorer {label!r} is a custom scorer{where}, and no scorer named {type_!r} "
                "is registered in this session, so it cannot be rebuilt: define it again "
                "(@bw.scorer or register_scorer) before resuming, or pass scorers=[...]"
            )
    scorer = get_scorer(options)
    masked = _masked_judge(scorer)
    if masked is not None:
        raise BenchworkError(
            f"scorer {label!r}: its {masked} had a key in its api_base or headers, which is "
            "never stored: pass the scorers again (scorers=[...]), or keep keys in api_key_env"
        )
    return scorer
