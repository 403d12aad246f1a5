"""One simulated call: what is sent, when, and which fault (if any) interrupts it.

Both wire formats (OpenAI chat completions and Anthropic messages) render the same ``Call``, so
timing, answers and faults behave identically on either endpoint.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from benchwork.sim.models import Fault, SimModel
from benchwork.sim.tools import SimToolCall

__all__ = ["Call", "schedule"]


@dataclass(slots=True)
class Call:
    """A planned reply. ``deadlines[i]`` is the event-loop time content token ``i`` goes out."""

    id: str
    created: int
    model: SimModel
    model_json: str  # the model name as a JSON string literal, ready to paste into chunks
    pieces: list[str]  # one per token; joined they are the reply text
    finish: str  # "stop" | "length" (OpenAI names; the Anthropic wire maps them)
    prompt_tokens: int
    fault: Fault | None
    t0: float
    deadlines: list[float]
    include_usage: bool = False
    tool_calls: list[SimToolCall] | None = None  # set when the reply is tool calls (see tools.py)
    tool_index: list[int] | None = None  # for each piece, the index of its tool call
    n_tokens: int | None = None  # tokens in the reply when a piece (chunk) holds several

    @property
    def completion_tokens(self) -> int:
        """Tokens in the whole reply (pieces are chunks of ``tokens_per_chunk`` tokens)."""
        return self.n_tokens if self.n_tokens is not None else len(self.pieces)

    @property
    def first_deadline(self) -> float:
        """When the first token is due (or, with no tokens, when the reply may finish)."""
        return self.deadlines[0] if self.deadlines else self.t0 + self.model.ttft_s

    @property
    def last_deadline(self) -> float:
        """When the last token is due: the time a non-streamed reply is returned."""
        return self.deadlines[-1] if self.deadlines else self.t0 + self.model.ttft_s

    @property
    def stop_after(self) -> int | None:
        """How many tokens go out before a cut or malformed line, None when the call ends well."""
        if self.fault is not None and self.fault.kind in ("cut", "malformed"):
            return min(self.fault.after_tokens, len(self.pieces))
        return None


def schedule(model: SimModel, t0: float, n: int, request_no: int) -> list[float]:
    """Absolute deadlines of ``n`` tokens: ``t0 + ttft + i * itl``, each gap moved by jitter.

    Jitter is uniform in ``±jitter_s`` on every gap (TTFT included), never making a gap negative,
    and seeded by the model's seed and its request number, so a rerun sees the same schedule.
    """
    ttft, itl, jitter = model.ttft_s, model.itl_s, model.jitter_s
    if not jitter:
        first = t0 + ttft
        return [first + i * itl for i in range(n)]
    rng = random.Random(f"{model.seed}:{request_no}")
    out: list[float] = []
    t = t0
    for i in range(n):
        gap = (ttft if i == 0 else itl) + rng.uniform(-jitter, jitter)
        t += gap if gap > 0 else 0.0
        out.append(t)
    return out
