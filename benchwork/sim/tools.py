"""Simulated tool calling: which calls a sim model makes, and how they are cut into tokens.

A prompt's answer (``SimServer(answers=...)``) may be a dict instead of a string::

    {"tool_calls": [{"name": "web_search", "arguments": {"query": "capital of Japan"}},
                    {"name": "get_weather", "arguments": {"city": "Tokyo"}, "turn": 2}],
     "final": "24"}

``turn`` (1-based, default 1) groups the calls a model makes in one reply; calls without it all
go in the first reply (parallel calls). ``Suite.expected_tools_by_prompt()`` builds these dicts
from ``case.metadata["expected_tool_calls"]`` and ``case.expected``.

When a request carries ``tools``, a model with ``tool_behavior``:

- ``"right"`` makes turn *k*'s expected calls once *k − 1* tool results have come back, then
  answers ``final`` (right with the model's ``accuracy``);
- ``"wrong_tool"`` calls another offered tool (with the expected arguments), and calls a tool
  even when none is expected; its final answer is wrong when it needed a tool;
- ``"wrong_args"`` calls the right tools with the first argument of each call changed;
- ``"none"`` never calls a tool and answers at once (wrong when it needed a tool);
- ``"loop"`` calls tools on every turn and never answers (to test turn limits).

``tool_behavior`` may also be a mapping of behaviours to weights, e.g. ``{"right": 0.8,
"wrong_args": 0.2}``: one is drawn per (model, prompt, seed), the same on every turn and rerun.
With no final answer known, the model answers ``"Result: <last tool result>"``.
Everything is deterministic, so both wire formats and reruns see the same calls.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from benchwork.sim.replies import (
    _unit,
    _wrong_answer,
    is_correct,
    is_tool_results,
    message_text,
    pieces,
)

if TYPE_CHECKING:
    from benchwork.sim.models import SimModel

__all__ = [
    "TOOL_BEHAVIORS",
    "SimToolCall",
    "arguments_sent",
    "check_tool_behavior",
    "normalize_answer",
    "tool_pieces",
    "tool_reply",
]

TOOL_BEHAVIORS: tuple[str, ...] = ("right", "wrong_tool", "wrong_args", "none", "loop")


@dataclass(frozen=True, slots=True)
class SimToolCall:
    """One tool call a sim model makes; ``arguments`` is the JSON text it streams."""

    id: str
    name: str
    arguments: str


def check_tool_behavior(value: Any) -> str | dict[str, float]:
    """Validate a ``SimModel.tool_behavior``: one of TOOL_BEHAVIORS or a mapping to weights."""
    known = ", ".join(TOOL_BEHAVIORS)
    if isinstance(value, str):
        if value not in TOOL_BEHAVIORS:
            raise ValueError(
                f"'tool_behavior' must be one of {known} (or a mapping), not {value!r}"
            )
        return value
    if not isinstance(value, Mapping) or not value:
        raise ValueError(f"'tool_behavior' must be one of {known} or a mapping of them to weights")
    out: dict[str, float] = {}
    for name, weight in value.items():
        if name not in TOOL_BEHAVIORS:
            raise ValueError(f"'tool_behavior' key {name!r} is not one of {known}")
        ok = isinstance(weight, int | float) and not isinstance(weight, bool) and weight >= 0
        if not ok:
            raise ValueError(f"'tool_behavior' weight for {name!r} must be a number >= 0")
        out[str(name)] = float(weight)
    if sum(out.values()) <= 0:
        raise ValueError("'tool_behavior' weights must not all be 0")
    return out


def normalize_answer(value: Any) -> str | dict[str, Any]:
    """A string answer as ``str``; a tool answer as ``{"turns": [[call, ...], ...], "final"}``."""
    if not isinstance(value, Mapping):
        return str(value)
    calls = value.get("tool_calls") or []
    if not isinstance(calls, list):
        raise ValueError("a tool answer's 'tool_calls' must be a list of {name, arguments}")
    turns: dict[int, list[dict[str, Any]]] = {}
    for i, call in enumerate(calls):
        fn = call.get("function", call) if isinstance(call, Mapping) else None
        if not isinstance(fn, Mapping) or not isinstance(fn.get("name"), str):
            raise ValueError(f"tool answer call #{i + 1} needs a 'name'")
        args = fn.get("arguments") or {}
        if isinstance(args, str):
            args = json.loads(args)
        turn = call.get("turn", 1)
        if not isinstance(turn, int) or isinstance(turn, bool) or turn < 1:
            raise ValueError(f"tool answer call #{i + 1}: 'turn' must be an integer >= 1")
        turns.setdefault(turn, []).append({"name": fn["name"], "arguments": dict(args)})
    final = value.get("final")
    return {
        "turns": [turns[t] for t in sorted(turns)],
        "final": None if final is None else str(final),
    }


def _offered(tools: Any) -> list[str]:
    """Tool names in a request: OpenAI ``{"function": {"name"}}`` or Anthropic ``{"name"}``."""
    names = []
    for tool in tools if isinstance(tools, list) else ():
        if isinstance(tool, Mapping):
            inner = tool.get("function")
            fn: Mapping[str, Any] = inner if isinstance(inner, Mapping) else tool
            name = fn.get("name")
            if isinstance(name, str):
                names.append(name)
    return names


def _history(messages: list[Any]) -> tuple[int, list[str]]:
    """Tool-calling replies since the last real user message, and the tool results sent back.

    Reads both the OpenAI form (``tool_calls``, ``role: tool``) and the Anthropic form
    (``tool_use`` blocks, ``tool_result`` blocks in a user message).
    """
    start = 0
    for i, m in enumerate(messages):
        if isinstance(m, Mapping) and m.get("role") == "user":
            if not is_tool_results(m.get("content")):
                start = i + 1
    turns, results = 0, []
    for m in messages[start:]:
        if not isinstance(m, Mapping):
            continue
        role, content = m.get("role"), m.get("content")
        if role == "assistant":
            blocks = content if isinstance(content, list) else ()
            uses = any(isinstance(b, Mapping) and b.get("type") == "tool_use" for b in blocks)
            turns += bool(m.get("tool_calls") or uses)
        elif role == "tool":
            results.append(message_text(content))
        elif role == "user" and isinstance(content, list) and is_tool_results(content):
            results.extend(message_text(p.get("content")) for p in content)
    return turns, results


def _behavior(model: SimModel, prompt: str, seed: int) -> str:
    behavior = model.tool_behavior
    if isinstance(behavior, str):
        return behavior
    draw = _unit("tools", model.name, prompt, seed) * sum(behavior.values())
    for name, weight in behavior.items():
        draw -= weight
        if draw < 0:
            return name
    return next(iter(behavior))


def _wrong_value(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1 if isinstance(value, int) else round(value * 1.5 + 1, 3)
    if isinstance(value, str):
        return "unknown" if value.strip().lower() != "unknown" else "something else"
    return "unknown"


def _made(want: list[dict[str, Any]], call_id: str) -> list[SimToolCall]:
    return [
        SimToolCall(
            f"call_{call_id}_{k}", c["name"], json.dumps(c["arguments"], ensure_ascii=False)
        )
        for k, c in enumerate(want)
    ]


def _spoil(want: list[dict[str, Any]], behavior: str, offered: list[str]) -> list[dict[str, Any]]:
    """The calls a ``wrong_tool`` or ``wrong_args`` model makes instead of ``want``."""
    out = []
    names = {c["name"] for c in want}
    for c in want:
        name, args = c["name"], dict(c["arguments"])
        if behavior == "wrong_tool":
            name = next((n for n in offered if n not in names), f"{name}_v2")
        elif behavior == "wrong_args":
            if args:
                first = next(iter(args))
                args[first] = _wrong_value(args[first])
            else:
                args = {"unexpected": True}
        out.append({"name": name, "arguments": args})
    return out


def tool_reply(
    model: SimModel,
    body: Mapping[str, Any],
    answer: Any,
    prompt: str | None,
    seed: int,
    call_id: str,
) -> tuple[list[str], list[SimToolCall]] | None:
    """What ``model`` replies to a request with ``tools``: ``(text pieces, [])`` for a text
    answer, ``([], calls)`` for tool calls, or None to answer as if there were no tools."""
    offered = _offered(body.get("tools"))
    messages = body.get("messages")
    if not offered or not isinstance(messages, list):
        return None
    spec = answer if isinstance(answer, Mapping) else None
    prompt = prompt or ""
    behavior = _behavior(model, prompt, seed)
    turns: list[list[dict[str, Any]]] = spec["turns"] if spec else []
    if behavior == "loop":
        want = turns[0] if turns else [{"name": offered[0], "arguments": {}}]
        return [], _made(want, call_id)
    if spec is None:
        return None
    done, results = _history(messages)
    if behavior != "none" and done < len(turns):
        want = turns[done]
        if behavior in ("wrong_tool", "wrong_args"):
            want = _spoil(want, behavior, offered)
        return [], _made(want, call_id)
    if behavior == "wrong_tool" and not turns and done == 0:
        return [], _made([{"name": offered[0], "arguments": {}}], call_id)
    informed = behavior in ("right", "wrong_args") or not turns
    final = spec.get("final")
    if final is None:
        text = "Result: " + results[-1] if results and informed else "I don't know."
    elif informed and is_correct(model.name, prompt, seed, model.accuracy):
        text = final
    else:
        text = _wrong_answer(model.name, prompt, seed, final)
    return pieces(text), []


def tool_pieces(calls: list[SimToolCall]) -> tuple[list[str], list[int]]:
    """The tokens of ``calls`` and, for each, the index of its call.

    A call's first token is ``""`` (the fragment carrying its id and name), then its arguments
    JSON in word-sized fragments (at least one, ``"{}"`` when there are no arguments).
    """
    out: list[str] = []
    index: list[int] = []
    for i, call in enumerate(calls):
        frags = [""] + (pieces(call.arguments) or [call.arguments or "{}"])
        out += frags
        index += [i] * len(frags)
    return out, index


def arguments_sent(call_pieces: list[str], index: list[int], i: int) -> str:
    """The arguments text of call ``i`` as far as it was sent (a cap may cut it short)."""
    return "".join(p for p, j in zip(call_pieces, index, strict=False) if j == i)
