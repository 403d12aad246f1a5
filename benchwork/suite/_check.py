"""Case validation for suites: field checks, chat messages, tool schemas, and error wording.

``Case.__post_init__`` calls :func:`_check_case`; the suite readers use :func:`_kind` and
:func:`_unknown_key_message` for their messages.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from benchwork.errors import SuiteError

if TYPE_CHECKING:
    from benchwork.suite._case import Case

__all__ = ["ROLES"]

ROLES = ("system", "user", "assistant", "tool", "developer")
# Keys people write by habit, mapped to the field they meant.
_ALIASES = {
    "messages": "input",
    "prompt": "input",
    "question": "input",
    "answer": "expected",
    "target": "expected",
    "tag": "tags",
    "variables": "vars",
    "system_prompt": "system",
}


def _kind(value: Any) -> str:
    """A reader-friendly name for a value's type, for error messages."""
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    names |= {list: "a list", dict: "a mapping", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _unknown_key_message(key: Any, allowed: Iterable[str], what: str) -> str:
    """'unknown field 'expcted' (did you mean 'expected'?); allowed: ...' for typos in keys."""
    allowed = list(allowed)
    guess = _ALIASES.get(str(key))
    if guess not in allowed:
        close = difflib.get_close_matches(str(key), allowed, n=1)
        guess = close[0] if close else None
    hint = f" (did you mean {guess!r}?)" if guess else ""
    return f"unknown {what} {key!r}{hint}; allowed: {', '.join(allowed)}"


def _utf8_ok(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _surrogate(text: str) -> str:
    bad = next(c for c in text if "\ud800" <= c <= "\udfff")
    return f"(U+{ord(bad):04X}): save the file as valid UTF-8"


def _json_problem(value: Any, path: str) -> str | None:
    """The path of the first part of *value* that is not plain JSON data, else None.

    Plain means what hashes and caches as UTF-8 JSON: no NaN or infinity, and no lone UTF-16
    surrogate (``"\ud800"`` loads from JSON, then cannot be encoded).
    """
    if isinstance(value, str):
        return None if _utf8_ok(value) else f"{path} holds a lone surrogate {_surrogate(value)}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"{path} is {value!r} (NaN and infinity are not JSON numbers)"
    if value is None or isinstance(value, bool | int | float):
        return None
    if isinstance(value, list):
        items: Iterable[tuple[str, Any]] = ((f"{path}[{i}]", v) for i, v in enumerate(value))
    elif isinstance(value, dict):
        bad = next((k for k in value if not isinstance(k, str)), None)
        if bad is not None:
            return f"{path} has a non-string key {bad!r}"
        bad = next((k for k in value if not _utf8_ok(k)), None)
        if bad is not None:
            return f"{path} has a key with a lone surrogate {_surrogate(bad)}"
        items = ((f"{path}.{k}", v) for k, v in value.items())
    else:
        return f"{path} is {type(value).__name__} {value!r:.40}"
    return next((bad for p, v in items if (bad := _json_problem(v, p))), None)


def _check_case(case: Case) -> None:
    """Raise SuiteError (naming the case and field) for the first invalid field of *case*."""
    cid = case.id if isinstance(case.id, str) and case.id else None

    def fail(message: str, field_name: str) -> SuiteError:
        return SuiteError(message, case_id=cid, field=field_name)

    if not isinstance(case.id, str) or not case.id.strip():
        raise fail(f"'id' must be a non-empty string, got {_kind(case.id)}", "id")
    if isinstance(case.input, str):
        if not case.input.strip():
            raise fail("'input' is empty", "input")
    elif isinstance(case.input, list):
        _check_messages(case.input, fail)
    else:
        raise fail(
            f"'input' must be a string or a list of chat messages, got {_kind(case.input)}",
            "input",
        )
    for name in ("vars", "metadata"):
        value = getattr(case, name)
        if not isinstance(value, dict):
            raise fail(f"{name!r} must be a mapping of names to values, got {_kind(value)}", name)
    if "input" in case.vars:
        raise fail("'vars' may not define 'input': it is the case's own input", "vars")
    if not isinstance(case.tags, list):
        hint = f" (write tags: [{case.tags}])" if isinstance(case.tags, str) else ""
        raise fail(f"'tags' must be a list of strings, got {_kind(case.tags)}{hint}", "tags")
    for i, tag in enumerate(case.tags):
        if not isinstance(tag, str) or not tag.strip():
            raise fail(f"'tags' must be a list of non-empty strings; tags[{i}] is {tag!r}", "tags")
    if case.tools is not None:
        case.tools = _normalize_tools(case.tools, fail)
    for name in ("vars", "expected", "metadata", "input", "tools"):
        problem = _json_problem(getattr(case, name), name)
        if problem:
            raise fail(
                f"{problem}: only JSON data is allowed (text, numbers, lists, mappings)", name
            )


def _check_messages(messages: list[Any], fail: Any) -> None:
    if not messages:
        raise fail("'input' is an empty list of messages", "input")
    for i, m in enumerate(messages, 1):
        where = f"'input' message #{i}"
        if not isinstance(m, dict):
            raise fail(
                f"{where} must be a mapping with 'role' and 'content', got {_kind(m)}", "input"
            )
        if "role" not in m:
            raise fail(f"{where} is missing 'role'", "input")
        role = m["role"]
        if role not in ROLES:
            close = difflib.get_close_matches(str(role), ROLES, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise fail(f"{where} has role {role!r}{hint}; allowed: {', '.join(ROLES)}", "input")
        content = m.get("content")
        if "content" not in m and not (role == "assistant" and m.get("tool_calls")):
            raise fail(f"{where} is missing 'content'", "input")
        if content is None and not (role == "assistant" and m.get("tool_calls")):
            raise fail(f"{where} has null 'content'", "input")
        if content is not None and not isinstance(content, str | list):
            raise fail(f"{where} 'content' must be a string, got {_kind(content)}", "input")
    if not any(m["role"] == "user" for m in messages):
        raise fail("'input' has no 'user' message", "input")


def _normalize_tools(tools: Any, fail: Any) -> list[dict[str, Any]]:
    """Check OpenAI tool schemas; a bare function schema is wrapped as ``{"type": "function"}``."""
    if not isinstance(tools, list):
        raise fail(f"'tools' must be a list of function schemas, got {_kind(tools)}", "tools")
    out = []
    for i, tool in enumerate(tools):
        if isinstance(tool, dict) and "function" not in tool and "name" in tool:
            tool = {"type": "function", "function": tool}
        fn = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise fail(
                f"tools[{i}] must be an OpenAI function schema "
                '({"type": "function", "function": {"name": ..., "parameters": ...}})',
                "tools",
            )
        out.append(tool)
    return out
