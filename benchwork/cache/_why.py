"""Explaining a cache miss: which key components differ from the nearest stored entry."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from benchwork._util.canonical import canonical_value

__all__ = ["CacheWhy", "diff_components"]

_WIDTH = 80


def diff_components(
    stored: dict[str, Any], requested: dict[str, Any]
) -> list[tuple[str, Any, Any]]:
    """``(field, stored, requested)`` for each differing component; ``params`` compared per key.

    Values are compared after canonicalisation (``0`` equals ``0.0``); a missing value is ``None``.
    """
    out: list[tuple[str, Any, Any]] = []
    names = list(requested) + [k for k in stored if k not in requested]
    for name in names:
        a, b = stored.get(name), requested.get(name)
        if name == "params" and isinstance(a or {}, dict) and isinstance(b or {}, dict):
            a, b = a or {}, b or {}
            for p in sorted(set(a) | set(b)):
                if canonical_value(a.get(p)) != canonical_value(b.get(p)):
                    out.append((f"params.{p}", a.get(p), b.get(p)))
        elif canonical_value(a) != canonical_value(b):
            out.append((name, a, b))
    return out


def _show(value: Any) -> str:
    if value is None:
        return "unset"
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= _WIDTH else text[: _WIDTH - 1] + "…"


def _first_difference(a: Any, b: Any, path: str = "") -> tuple[str, Any, Any]:
    """Descend into lists/dicts to the first place where ``a`` and ``b`` differ.

    A list that only grew or shrank gives ``path + " length"`` and the two lengths.
    """
    if isinstance(a, list) and isinstance(b, list):
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            if canonical_value(x) != canonical_value(y):
                return _first_difference(x, y, f"{path}[{i}]")
        if len(a) != len(b):
            return f"{path} length", len(a), len(b)
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(b) + [k for k in a if k not in b]:
            if canonical_value(a.get(k)) != canonical_value(b.get(k)):
                return _first_difference(a.get(k), b.get(k), f"{path}.{k}")
    return path, a, b


def _window(a: str, b: str) -> tuple[str, str]:
    """Show both strings around their first differing character, each within ~80 chars."""
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    start = max(0, i - 30)

    def cut(s: str) -> str:
        part = s[start : start + _WIDTH - 10]
        return ("…" if start else "") + part + ("…" if start + _WIDTH - 10 < len(s) else "")

    return cut(a), cut(b)


def _line(name: str, stored: Any, requested: Any) -> str:
    """One line per differing component, pointing inside lists/dicts at the first change."""
    if not (isinstance(stored, list | dict) and isinstance(requested, list | dict)):
        return _value_line(name, stored, requested)
    where, a, b = _first_difference(stored, requested)
    head = ""
    if isinstance(stored, list) and isinstance(requested, list) and len(stored) != len(requested):
        head = f"{name}: stored {len(stored)} items, requested {len(requested)}"
        if where == " length":
            return head
        head += "; first difference at "
        return head + _value_line(where.lstrip(".") or name, a, b)
    return _value_line(name + where, a, b)


def _value_line(name: str, stored: Any, requested: Any) -> str:
    if isinstance(stored, str) and isinstance(requested, str):
        a, b = _window(stored, requested)
        return f"{name}: stored {json.dumps(a, ensure_ascii=False)}, requested {json.dumps(b, ensure_ascii=False)}"
    return f"{name}: stored {_show(stored)}, requested {_show(requested)}"


@dataclass
class CacheWhy:
    """Why a call hit or missed the cache; ``str()`` is a short human explanation."""

    hit: bool
    nearest_key: str | None
    differences: list[tuple[str, Any, Any]] = field(default_factory=list)
    case_id: str | None = None
    target: str | None = None
    nearest_case_id: str | None = None
    nearest_target: str | None = None

    def __str__(self) -> str:
        who = _who(self.case_id, self.target)
        if self.hit:
            return f"hit: {who}matches stored entry {self.nearest_key}"
        if self.nearest_key is None:
            if self.case_id is None and self.target is None:
                return "no stored entry in the cache"
            return f"no stored entry for {who.strip()}"
        lines = []
        same = (self.nearest_case_id, self.nearest_target) == (self.case_id, self.target)
        if not same and (self.case_id is not None or self.target is not None):
            lines.append(
                f"no stored entry for {who.strip()}; nearest is "
                f"{_who(self.nearest_case_id, self.nearest_target).strip()} "
                f"({self.nearest_key[:12]})"
            )
        else:
            n = len(self.differences)
            lines.append(
                f"miss: nearest stored entry {self.nearest_key[:12]} differs in "
                f"{n} component{'s' if n != 1 else ''}:"
            )
        lines += [f"  {_line(name, a, b)}" for name, a, b in self.differences]
        return "\n".join(lines)


def _who(case_id: str | None, target: str | None) -> str:
    parts = []
    if case_id is not None:
        parts.append(f"case {case_id!r}")
    if target is not None:
        parts.append(f"on target {target!r}")
    return " ".join(parts) + (" " if parts else "")
