"""The one canonical JSON: the same value always gives the same text (cache keys, suite hashes).

Sorted keys, no whitespace, UTF-8 kept, and integral floats folded to ints, so
``temperature=0`` and ``0.0`` (or ``expected: 4`` and ``4.0``) give the same key and hash.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["canonical_json", "canonical_value"]


def canonical_value(obj: Any) -> Any:
    """A copy in which integral floats become ints, so ``temperature=0`` and ``0.0`` agree."""
    t = type(obj)
    if t is str or t is int or t is bool or obj is None:  # fast path: most leaves
        return obj
    if isinstance(obj, float) and obj.is_integer():
        return int(obj)
    if isinstance(obj, dict):
        return {str(k): canonical_value(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [canonical_value(v) for v in obj]
    return obj


def canonical_json(obj: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 kept: the same value always gives the same text."""
    try:
        return json.dumps(
            canonical_value(obj),
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=False,
        )
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"hashed values must be plain JSON values (dict, list, str, number, bool, None): {exc}"
        ) from exc
