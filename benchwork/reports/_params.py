"""Report parameters, checked before a kernel starts: a bad one names itself and what it expects."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from benchwork.errors import BenchworkError

__all__ = ["as_run_ids", "check_params"]

_CACHE_MODES = ("use", "refresh", "off", "replay")


def as_run_ids(value: object) -> list[str]:
    """One id, ``"id1,id2"``, a JSON list in a string (``papermill -p``), or a list of ids."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                raise BenchworkError(f"run_ids: {text!r} is not a JSON list of ids") from None
        else:
            value = [part.strip() for part in text.split(",") if part.strip()]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v for v in value):
        raise BenchworkError(f"run_ids must be a run id, 'id1,id2' or a list of ids, not {value!r}")
    return list(value)


def _coerce(name: str, value: Any, kind: str) -> Any:
    """A value given as text (the command line) turned into the parameter's type."""
    if not isinstance(value, str) or kind in ("str", "None"):
        return value
    try:
        if kind == "float":
            return float(value)
        if kind == "int":
            return int(value)
        if kind == "bool":
            lowered = value.strip().lower()
            if lowered in ("true", "1", "yes"):
                return True
            if lowered in ("false", "0", "no"):
                return False
            raise ValueError(value)
        if kind in ("list", "dict"):
            return json.loads(value)
    except ValueError:
        raise BenchworkError(f"parameter {name!r} expects {kind}, got {value!r}") from None
    return value


def check_params(
    template: str | Path,
    params: Mapping[str, Any],
    known: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The parameters to inject, checked against the template's own parameters cell
    (``known``: that cell as ``template_parameters`` read it, when the caller has it)."""
    from benchwork.reports._templates import template_parameters

    if known is None:
        known = template_parameters(template)
    out: dict[str, Any] = {}
    for name, value in params.items():
        if name not in known:
            listing = "; ".join(
                f"{n} ({k['type']}{': ' + k['help'] if k['help'] else ''})"
                for n, k in known.items()
            )
            raise BenchworkError(
                f"unknown report parameter {name!r}; this template takes: {listing}"
            )
        out[name] = _coerce(name, value, known[name]["type"])
    if "run_ids" in out:
        out["run_ids"] = as_run_ids(out["run_ids"])
    if "alpha" in out:
        alpha = out["alpha"]
        if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha < 1:
            raise BenchworkError(
                f"parameter 'alpha' expects a number between 0 and 1, got {alpha!r}"
            )
    if "cache" in out and out["cache"] not in _CACHE_MODES:
        raise BenchworkError(
            f"parameter 'cache' expects one of {', '.join(_CACHE_MODES)}, got {out['cache']!r}"
        )
    return out
