"""Multi-turn tool conversations: call, feed mock tool results back, repeat, one record.

A case with ``tools`` and ``metadata["tool_responses"]`` is run as a conversation: each turn
is one model call (with the harness's retries); when the model asks for tools, the assistant
message with its ``tool_calls`` and one ``tool`` message per call (the mock result) are
appended and the model is called again, until it answers without tool calls or
``metadata["max_turns"]`` (default 5) calls have been made.

The conversation's record (one row, like any call):

- ``tool_calls``: every call the model made, across turns, in order (OpenAI list form);
- ``output_text``, ``finish_reason``, ``http_status``: the last turn's (``finish_reason`` is
  ``"tool_calls"`` when the turn limit cut the conversation short);
- ``turns``: model calls made; ``attempts``: HTTP attempts over all turns (retries included);
- ``input_tokens``, ``output_tokens``, ``cost_usd``: summed over turns (null if any is null);
- ``ttft_s``, ``prefill_tps``: the first turn's; ``latency_s``: the whole conversation;
- ``chunks``, ``itl_*``: over every turn's token chunks, gaps between turns excluded;
- ``output_tps``: Σ(tokens − 1) / Σ(first-to-last-token span), per turn, waits excluded.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from benchwork.client._errors import CallError
from benchwork.client._stream import StreamResult, percentile
from benchwork.errors import SuiteError
from benchwork.results import CallRecord, clean_text

if TYPE_CHECKING:
    from benchwork.client import CallRequest, Client, RetryHook
    from benchwork.target import Prices

__all__ = ["DEFAULT_MAX_TURNS", "MockTools", "converse"]

#: Model calls a conversation may make when the case sets no ``max_turns``.
DEFAULT_MAX_TURNS = 5


def _as_content(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class MockTools:
    """Mock tool results for a conversation and its turn limit.

    ``responses`` is a mapping of tool name → result (the same result for every call of that
    tool) or a list of results handed out in call order. A result that is not a string is sent
    as JSON. A call with no mock result gets ``{"error": "no mock response for tool ..."}``.
    """

    responses: Mapping[str, Any] | list[Any]
    max_turns: int = DEFAULT_MAX_TURNS

    @classmethod
    def from_metadata(
        cls, metadata: Mapping[str, Any], case_id: str | None = None
    ) -> MockTools | None:
        """Read ``tool_responses`` and ``max_turns`` from case metadata; None without responses."""
        responses = metadata.get("tool_responses")
        if responses is None:
            return None
        if not isinstance(responses, Mapping | list):
            raise SuiteError(
                "'metadata.tool_responses' must map tool names to results, or list results "
                f"in call order; got {type(responses).__name__}",
                case_id=case_id,
                field="metadata",
            )
        turns = metadata.get("max_turns", DEFAULT_MAX_TURNS)
        if not isinstance(turns, int) or isinstance(turns, bool) or turns < 1:
            raise SuiteError(
                f"'metadata.max_turns' must be an integer >= 1, got {turns!r}",
                case_id=case_id,
                field="metadata",
            )
        return cls(responses, turns)

    def result_for(self, name: str, n: int) -> str:
        """The mock result of the ``n``-th call (0-based, whole conversation), to tool ``name``."""
        if isinstance(self.responses, list):
            if n < len(self.responses):
                return _as_content(self.responses[n])
            return _as_content({"error": f"no mock response for call #{n + 1} ({name})"})
        if name in self.responses:
            return _as_content(self.responses[name])
        return _as_content({"error": f"no mock response for tool {name!r}"})

    def key_components(self) -> dict[str, Any]:
        """What the cache key adds for a conversation: the mock results and the turn limit."""
        responses = self.responses if isinstance(self.responses, list) else dict(self.responses)
        return {"tool_responses": responses, "max_turns": self.max_turns}


def _sum(values: list[Any]) -> Any:
    return None if any(v is None for v in values) else sum(values)


async def converse(
    client: Client,
    req: CallRequest,
    mock: MockTools,
    prices: Prices | None = None,
    on_retry: RetryHook | None = None,
) -> CallRecord:
    """Run ``req`` as a tool conversation with ``mock`` results; one record (module docstring)."""
    started = datetime.now(UTC)
    messages = list(req.messages)
    turns: list[tuple[CallRecord, StreamResult]] = []
    made: list[dict[str, Any]] = []
    attempts = 0
    for turn in range(1, mock.max_turns + 1):
        turn_req = dataclasses.replace(req, messages=messages)
        outcome, tries = await client.call_result(turn_req, on_retry)
        attempts += tries
        if isinstance(outcome, CallError):
            rec = client._error_record(req, outcome, attempts, started)
            rec.tool_calls = json.dumps(made, ensure_ascii=False) if made else None
            rec.turns = turn
            return rec
        await client.count_tokens(turn_req, outcome)
        turns.append((client._ok_record(turn_req, outcome, tries, started, prices), outcome))
        calls = [outcome.tool_calls[i] for i in sorted(outcome.tool_calls)]
        for k, call in enumerate(calls):
            call["id"] = call.get("id") or f"call_{turn}_{k}"
        first = len(made)
        made += calls
        if not calls or turn == mock.max_turns:
            break
        messages = [
            *messages,
            {"role": "assistant", "content": outcome.text or None, "tool_calls": calls},
            *(
                {
                    "role": "tool",
                    "tool_call_id": call["id"],
                    "content": mock.result_for(call["function"]["name"], first + k),
                }
                for k, call in enumerate(calls)
            ),
        ]
    return _merge(turns, made, attempts)


def _merge(
    turns: list[tuple[CallRecord, StreamResult]], made: list[dict[str, Any]], attempts: int
) -> CallRecord:
    records = [r for r, _ in turns]
    results = [s for _, s in turns]
    first, last = records[0], records[-1]
    rec = dataclasses.replace(first)
    rec.attempts = attempts
    rec.turns = len(turns)
    rec.http_status, rec.finish_reason = last.http_status, last.finish_reason
    rec.output_text = last.output_text
    rec.tool_calls = clean_text(json.dumps(made, ensure_ascii=False)) if made else None
    rec.input_tokens = _sum([r.input_tokens for r in records])
    rec.output_tokens = _sum([r.output_tokens for r in records])
    rec.tokens_estimated = any(r.tokens_estimated for r in records)
    sources = {r.tokens_source for r in records}
    rec.tokens_source = sources.pop() if len(sources) == 1 else "mixed"
    rec.cost_usd = _sum([r.cost_usd for r in records])
    end = results[-1].t_end
    rec.latency_s = (end if end is not None else results[-1].t0) - results[0].t0
    gaps = [b - a for s in results for a, b in itertools.pairwise(s.token_times)]
    rec.chunks = sum(len(s.token_times) for s in results)
    rec.itl_mean_s = sum(gaps) / len(gaps) if gaps else None
    rec.itl_p50_s, rec.itl_p95_s = percentile(gaps, 50), percentile(gaps, 95)
    generated = span = 0.0
    for r, s in zip(records, results, strict=True):
        if r.output_tokens is None:
            generated = span = 0.0
            break
        turn_span = s.token_times[-1] - s.token_times[0] if s.token_times else 0.0
        if r.output_tokens >= 2 and turn_span > 0:
            generated += r.output_tokens - 1
            span += turn_span
    rec.output_tps = generated / span if span > 0 else None
    return rec
