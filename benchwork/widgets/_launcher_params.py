"""The Launcher's parameter fields: parse what is typed, and say what is wrong with a value.

Kept apart from the widget so the parsing (``key=value, ...`` with JSON values) and the checks
of the standard sampling parameters are plain functions, tested on their own.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from benchwork.errors import BenchworkError

__all__ = ["OWN_FIELDS", "STANDARD_PARAMS", "parse_other", "parse_value", "value_problem"]

#: the parameters with their own input in the widget; anything else goes in "other"
STANDARD_PARAMS = ("temperature", "top_p", "max_tokens", "seed")
#: benchwork's own request fields, never flagged (see benchwork.tuning._params)
OWN_FIELDS = frozenset({"stream", "stream_options", "extra_headers"})
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def parse_value(text: Any) -> Any:
    """A parameter value typed in the widget: '' -> None, numbers and JSON parsed, else text."""
    if not isinstance(text, str):
        return text
    text = text.strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_other(text: str) -> dict[str, Any]:
    """``"top_k=40, stop=["\\n"]"`` -> ``{"top_k": 40, "stop": ["\\n"]}``; a bad pair is an error.

    Pairs are split on commas outside brackets and quotes, so JSON values may hold commas.
    """
    out: dict[str, Any] = {}
    depth, quote, escaped, start, parts = 0, "", False, 0, []
    for i, ch in enumerate(text):
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = ""
        elif ch == '"':
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch in ",;\n" and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    for part in (p.strip() for p in parts):
        if not part:
            continue
        key, eq, value = part.partition("=")
        key = key.strip()
        if not eq or not _KEY.fullmatch(key):
            raise BenchworkError(
                f'other parameters: {part!r} is not key=value (write e.g. top_k=40, stop=["\\n"])'
            )
        out[key] = parse_value(value)
    return out


def value_problem(key: str, value: Any) -> str | None:
    """Why *value* is not a valid *key*, or None; only the standard parameters are typed."""
    real = isinstance(value, int | float) and not isinstance(value, bool)
    if key == "temperature" and not (real and math.isfinite(value) and 0 <= value <= 2):
        return f"temperature must be a number from 0 to 2, got {value!r}"
    if key == "top_p" and not (real and math.isfinite(value) and 0 <= value <= 1):
        return f"top_p must be a number from 0 to 1, got {value!r}"
    if key == "max_tokens" and not (isinstance(value, int) and not isinstance(value, bool)
                                    and value >= 1):  # fmt: skip
        return f"max_tokens must be a whole number >= 1, got {value!r}"
    if key == "seed" and not (isinstance(value, int) and not isinstance(value, bool)):
        return f"seed must be a whole number, got {value!r}"
    return None
