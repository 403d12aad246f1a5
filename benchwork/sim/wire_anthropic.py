"""Anthropic Messages wire format: ``event: X`` / ``data: {json}`` SSE events and error bodies.

A stub just wide enough to prove benchwork's litellm path against the same models, timing and
faults as the OpenAI endpoint.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii as _q
from typing import Any

from benchwork.sim.call import Call
from benchwork.sim.tools import arguments_sent

__all__ = ["AnthropicWire"]

_STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    429: "rate_limit_error",
    500: "api_error",
}


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


class AnthropicWire:
    """Renders a ``Call`` as Anthropic Messages API bytes."""

    name = "anthropic"
    malformed = b"event: content_block_delta\ndata: {not json\n\n"
    malformed_body = b"{not json"

    def start(self, call: Call) -> bytes:
        """``message_start`` and ``content_block_start``, sent as soon as the request arrives."""
        message = {
            "id": f"msg_{call.id}",
            "type": "message",
            "role": "assistant",
            "model": call.model.name,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": call.prompt_tokens, "output_tokens": 0},
        }
        block = {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "text", "text": ""},
        }
        return (
            _event("message_start", {"type": "message_start", "message": message})
            + _event("content_block_start", block)
        ).encode()

    def token_affixes(self, call: Call) -> tuple[str, str]:
        """Text before and after a JSON-quoted token in a ``content_block_delta`` event."""
        pre = (
            'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
            '"delta":{"type":"text_delta","text":'
        )
        return pre, "}}\n\n"

    def token(self, pre: str, post: str, piece: str) -> bytes:
        """One ``content_block_delta`` event carrying one token."""
        return (pre + _q(piece) + post).encode()

    def tool_chunk(self, call: Call, k: int) -> bytes:
        """Token ``k`` of a tool-call reply: a call's first token closes the previous content
        block and opens its ``tool_use`` block; the rest are ``input_json_delta`` events."""
        assert call.tool_calls is not None and call.tool_index is not None
        i = call.tool_index[k]
        block = i + 1  # block 0 is the (empty) text block opened by start()
        if k == 0 or call.tool_index[k - 1] != i:
            tc = call.tool_calls[i]
            use = {"type": "tool_use", "id": tc.id, "name": tc.name, "input": {}}
            return (
                _event("content_block_stop", {"type": "content_block_stop", "index": block - 1})
                + _event(
                    "content_block_start",
                    {"type": "content_block_start", "index": block, "content_block": use},
                )
            ).encode()
        delta = {"type": "input_json_delta", "partial_json": call.pieces[k]}
        return _event(
            "content_block_delta", {"type": "content_block_delta", "index": block, "delta": delta}
        ).encode()

    def end(self, call: Call, sent: int) -> bytes:
        """``content_block_stop``, ``message_delta`` (stop reason, output tokens), ``message_stop``."""
        last = 0
        if call.tool_index and sent:
            last = call.tool_index[sent - 1] + 1
        delta = {
            "type": "message_delta",
            "delta": {"stop_reason": _STOP_REASONS[call.finish], "stop_sequence": None},
            "usage": {
                "output_tokens": call.completion_tokens if sent == len(call.pieces) else sent
            },
        }
        return (
            _event("content_block_stop", {"type": "content_block_stop", "index": last})
            + _event("message_delta", delta)
            + _event("message_stop", {"type": "message_stop"})
        ).encode()

    def body(self, call: Call) -> dict[str, Any]:
        """The whole non-streamed ``message`` response."""
        content: list[dict[str, Any]] = [{"type": "text", "text": "".join(call.pieces)}]
        if call.tool_calls is not None and call.tool_index is not None:
            content = []
            for i, tc in enumerate(call.tool_calls):
                try:
                    args = json.loads(arguments_sent(call.pieces, call.tool_index, i))
                except ValueError:  # cut short by max_tokens
                    args = {}
                content.append({"type": "tool_use", "id": tc.id, "name": tc.name, "input": args})
        return {
            "id": f"msg_{call.id}",
            "type": "message",
            "role": "assistant",
            "model": call.model.name,
            "content": content,
            "stop_reason": _STOP_REASONS[call.finish],
            "stop_sequence": None,
            "usage": {"input_tokens": call.prompt_tokens, "output_tokens": call.completion_tokens},
        }

    def error(self, status: int, message: str) -> dict[str, Any]:
        """An Anthropic-style error body: ``{"type": "error", "error": {"type", "message"}}``."""
        return {
            "type": "error",
            "error": {"type": _ERROR_TYPES.get(status, "api_error"), "message": message},
        }
