"""OpenAI chat-completions wire format: ``chat.completion.chunk`` SSE lines and error bodies.

Chunks are pasted together from precomputed strings (not ``json.dumps`` of dicts) because the
simulator must stream thousands of calls per second on one core.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii as _q
from typing import Any

from benchwork.sim.call import Call
from benchwork.sim.tools import arguments_sent

__all__ = ["OpenAIWire"]

_ERROR_TYPES = {
    400: ("invalid_request_error", "invalid_request"),
    401: ("invalid_request_error", "invalid_api_key"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", "internal_error"),
}


class OpenAIWire:
    """Renders a ``Call`` as OpenAI chat-completions bytes."""

    name = "openai"
    malformed = b"data: {not json\n\n"
    malformed_body = b"{not json"

    @staticmethod
    def _head(call: Call) -> str:
        return (
            f'{{"id":"chatcmpl-{call.id}","object":"chat.completion.chunk","created":{call.created},'
            f'"model":{call.model_json},"system_fingerprint":"fp_sim_{call.model.seed}",'
        )

    def start(self, call: Call) -> bytes:
        """The role-only first chunk, sent as soon as the request arrives."""
        return (
            f'data: {self._head(call)}"choices":[{{"index":0,'
            f'"delta":{{"role":"assistant","content":""}},"finish_reason":null}}]}}\n\n'
        ).encode()

    def token_affixes(self, call: Call) -> tuple[str, str]:
        """Text before and after a JSON-quoted token: a content chunk is ``pre + q(tok) + post``."""
        pre = f'data: {self._head(call)}"choices":[{{"index":0,"delta":{{"content":'
        return pre, '},"finish_reason":null}]}\n\n'

    def token(self, pre: str, post: str, piece: str) -> bytes:
        """One content chunk carrying one token."""
        return (pre + _q(piece) + post).encode()

    def tool_chunk(self, call: Call, k: int) -> bytes:
        """Token ``k`` of a tool-call reply: a call's id and name first, then its arguments."""
        assert call.tool_calls is not None and call.tool_index is not None
        i = call.tool_index[k]
        if k == 0 or call.tool_index[k - 1] != i:
            tc = call.tool_calls[i]
            frag: dict[str, Any] = {
                "index": i,
                "id": tc.id,
                "type": "function",
                "function": {"name": tc.name, "arguments": ""},
            }
        else:
            frag = {"index": i, "function": {"arguments": call.pieces[k]}}
        return (
            f'data: {self._head(call)}"choices":[{{"index":0,"delta":{{"tool_calls":'
            f'[{json.dumps(frag, separators=(",", ":"))}]}},"finish_reason":null}}]}}\n\n'
        ).encode()

    def end(self, call: Call, sent: int) -> bytes:
        """The finish chunk, the usage chunk when asked for, and ``[DONE]``."""
        head = self._head(call)
        out = f'data: {head}"choices":[{{"index":0,"delta":{{}},"finish_reason":"{call.finish}"}}]}}\n\n'
        if call.include_usage:
            p = call.prompt_tokens
            sent = call.completion_tokens if sent == len(call.pieces) else sent
            out += (
                f'data: {head}"choices":[],"usage":{{"prompt_tokens":{p},'
                f'"completion_tokens":{sent},"total_tokens":{p + sent}}}}}\n\n'
            )
        return (out + "data: [DONE]\n\n").encode()

    def body(self, call: Call) -> dict[str, Any]:
        """The whole non-streamed ``chat.completion`` response."""
        n = call.completion_tokens
        message: dict[str, Any] = {"role": "assistant", "content": "".join(call.pieces)}
        if call.tool_calls is not None and call.tool_index is not None:
            message["content"] = None
            message["tool_calls"] = [
                {
                    "id": tc.id,
                    "type": "function",
                    "function": {
                        "name": tc.name,
                        "arguments": arguments_sent(call.pieces, call.tool_index, i),
                    },
                }
                for i, tc in enumerate(call.tool_calls)
            ]
        out: dict[str, Any] = {
            "id": f"chatcmpl-{call.id}",
            "object": "chat.completion",
            "created": call.created,
            "model": call.model.name,
            "system_fingerprint": f"fp_sim_{call.model.seed}",
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": call.finish,
                }
            ],
        }
        if call.model.body_usage:
            out["usage"] = {
                "prompt_tokens": call.prompt_tokens,
                "completion_tokens": n,
                "total_tokens": call.prompt_tokens + n,
            }
        return out

    def error(self, status: int, message: str) -> dict[str, Any]:
        """An OpenAI-style error body: ``{"error": {"message", "type", "code"}}``."""
        kind, code = _ERROR_TYPES.get(status, ("server_error", str(status)))
        return {"error": {"message": message, "type": kind, "param": None, "code": code}}
