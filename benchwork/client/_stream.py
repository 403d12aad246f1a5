"""What one streamed response produced, and the metrics DESIGN.md defines over it.

Timestamps are ``time.perf_counter()`` taken by the client as each chunk is parsed.
Only chunks carrying non-empty content, reasoning or a tool-call delta count as tokens.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["StreamResult", "percentile"]


def percentile(values: list[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100) of a list; None when empty."""
    if not values:
        return None
    s = sorted(values)
    if len(s) == 1:
        return s[0]
    pos = (len(s) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


@dataclass
class StreamResult:
    """Accumulates one response: text, tool calls, token times, usage, finish reason."""

    t0: float
    t_end: float | None = None
    http_status: int | None = None
    text_parts: list[str] = field(default_factory=list)
    #: what the provider says it ran: its model id and ``system_fingerprint`` (reports cite them)
    response_model: str | None = None
    system_fingerprint: str | None = None
    token_times: list[float] = field(default_factory=list)
    tool_calls: dict[int, dict[str, Any]] = field(default_factory=dict)
    finish_reason: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_chars: int = 0
    input_source: str | None = None  # where input_tokens came from (see client/_tokens.py)
    output_source: str | None = None  # where output_tokens came from

    @property
    def tokens_source(self) -> str | None:
        """``"usage"`` when both counts share a source, else ``"<input>/<output>"``."""
        a, b = self.input_source, self.output_source
        if a is None and b is None:
            return None
        return a if a == b else f"{a or 'none'}/{b or 'none'}"

    @property
    def tokens_estimated(self) -> bool:
        """Whether a count is a guess (a tokenizer other than the model's, or missing)."""
        return any(s in (None, "litellm") for s in (self.input_source, self.output_source))

    def add_delta(self, delta: dict[str, Any], now: float) -> None:
        """Fold one OpenAI-style ``delta`` into the result; time it if it carries output."""
        content = delta.get("content")
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        tool_deltas = delta.get("tool_calls")
        if content or reasoning or tool_deltas:
            self.token_times.append(now)
        if content:
            self.text_parts.append(content)
        if reasoning:
            self.reasoning_chars += len(reasoning)
        if tool_deltas:
            for td in tool_deltas:
                self.add_tool_delta(td)

    def add_tool_delta(self, td: dict[str, Any]) -> None:
        """Merge a streamed tool-call fragment (by index) into the accumulated calls."""
        index = td.get("index", len(self.tool_calls))
        call = self.tool_calls.setdefault(
            index, {"id": None, "type": "function", "function": {"name": "", "arguments": ""}}
        )
        if td.get("id"):
            call["id"] = td["id"]
        fn = td.get("function") or {}
        if fn.get("name"):
            call["function"]["name"] += fn["name"]
        if fn.get("arguments"):
            call["function"]["arguments"] += fn["arguments"]

    @property
    def output_text_for_count(self) -> str:
        """What the model wrote that a tokenizer can count: content and tool-call arguments."""
        calls = "".join(
            self.tool_calls[i]["function"]["arguments"] for i in sorted(self.tool_calls)
        )
        return self.text + calls

    @property
    def text(self) -> str:
        return "".join(self.text_parts)

    def tool_calls_json(self) -> str | None:
        if not self.tool_calls:
            return None
        return json.dumps([self.tool_calls[i] for i in sorted(self.tool_calls)], ensure_ascii=False)

    def metrics(self) -> dict[str, Any]:
        """TTFT, latency, ITL stats, chunk count and output tok/s, per DESIGN.md."""
        times = self.token_times
        end = self.t_end if self.t_end is not None else (times[-1] if times else self.t0)
        out: dict[str, Any] = {
            "latency_s": end - self.t0,
            "ttft_s": times[0] - self.t0 if times else None,
            "chunks": len(times),
            "itl_mean_s": None,
            "itl_p50_s": None,
            "itl_p95_s": None,
            "output_tps": None,
        }
        if len(times) >= 2:
            gaps = [b - a for a, b in itertools.pairwise(times)]
            out["itl_mean_s"] = sum(gaps) / len(gaps)
            out["itl_p50_s"] = percentile(gaps, 50)
            out["itl_p95_s"] = percentile(gaps, 95)
            span = times[-1] - times[0]
            n = self.output_tokens
            if n is not None and n >= 2 and span > 0:
                out["output_tps"] = (n - 1) / span
        return out
