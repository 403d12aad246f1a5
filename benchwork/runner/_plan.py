"""Planning: one call per (case, target, repeat), warm-ups first, each with its cache key."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from benchwork.client import CallRequest, MockTools
from benchwork.suite import Case, Suite
from benchwork.target import ResolvedTarget

__all__ = ["PlannedCall", "call_key", "plan_calls"]


@dataclass
class PlannedCall:
    """A call to make: the request, its case, and its cache key components (None for warm-ups).

    ``mock`` is set for a tool conversation (a case with tools and ``tool_responses``).
    """

    request: CallRequest
    case: Case
    components: dict[str, Any] | None = field(default=None, repr=False)
    mock: MockTools | None = None

    @property
    def ident(self) -> tuple[str, str, int, bool]:
        r = self.request
        return (r.case_id, r.resolved.target.name or "", r.repeat, r.warmup)


def call_key(
    rt: ResolvedTarget,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]] | None,
    mock: MockTools | None,
    repeat: int,
) -> tuple[str, dict[str, Any]]:
    """The cache key of one measured call and its components (the planner and ``cache why``)."""
    from benchwork.cache import cache_key, key_for_components

    params = rt.target.params
    key, components = cache_key(
        model=rt.target.model,
        api_base=rt.target.cache_endpoint or rt.api_base,
        messages=messages,
        params=params,
        tools=tools,
        tool_choice=params.get("tool_choice"),
        response_format=params.get("response_format"),
        repeat=repeat,
    )
    if mock is not None:  # a conversation: its mock tool results shape the answer
        components = {**components, **mock.key_components()}
        key = key_for_components(components)
    return key, components


def plan_calls(
    suite: Suite,
    resolved: list[ResolvedTarget],
    *,
    run_id: str,
    repeats: int,
    warmup: int,
) -> dict[str, list[PlannedCall]]:
    """Calls per target name: ``warmup`` warm-ups (cycling cases), then cases × repeats."""
    messages = {case.id: suite.messages(case) for case in suite.cases}
    mocks = {
        case.id: MockTools.from_metadata(case.metadata, case.id) if case.tools else None
        for case in suite.cases
    }
    out: dict[str, list[PlannedCall]] = {}
    for rt in resolved:
        calls: list[PlannedCall] = []
        for i in range(warmup):
            case = suite.cases[i % len(suite.cases)]
            req = CallRequest(
                run_id, case.id, rt, messages[case.id], repeat=i, warmup=True, tools=case.tools
            )
            calls.append(PlannedCall(req, case, mock=mocks[case.id]))
        for repeat in range(repeats):
            for case in suite.cases:
                key, components = call_key(
                    rt, messages[case.id], case.tools, mocks[case.id], repeat
                )
                req = CallRequest(
                    run_id,
                    case.id,
                    rt,
                    messages[case.id],
                    repeat=repeat,
                    tools=case.tools,
                    cache_key=key,
                )
                calls.append(PlannedCall(req, case, components, mocks[case.id]))
        out[rt.target.name or rt.target.model] = calls
    return out
