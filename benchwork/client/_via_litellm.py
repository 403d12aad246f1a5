"""The litellm path: providers that are not OpenAI-compatible (Anthropic, Gemini, Bedrock...).

Same StreamResult as the lean path, so both yield the same record fields. litellm's and
the OpenAI SDK's own retries are turned off: the harness retries and counts attempts.
"""

from __future__ import annotations

import time
from typing import Any

from benchwork._util.litellm import get_litellm
from benchwork.client._errors import CallError, error_type_for_status, parse_retry_after
from benchwork.client._stream import StreamResult
from benchwork.target import ResolvedTarget

__all__ = ["LitellmPath"]

_perf = time.perf_counter


class LitellmPath:
    """Streams through ``litellm.acompletion`` and times chunks with the same rules."""

    async def stream_chat(
        self, resolved: ResolvedTarget, body: dict[str, Any], api_key: str | None, timeout: float
    ) -> StreamResult:
        litellm = get_litellm()
        kwargs = {k: v for k, v in body.items() if k != "model"}
        kwargs.update(model=resolved.target.model, num_retries=0, max_retries=0, timeout=timeout)
        if body.get("tools"):
            # litellm 1.106 checks every tool request for its MCP gateway, which imports the
            # optional 'mcp' package (absent here: "No module named 'mcp'"); plain function
            # tools never need it, and litellm strips this internal flag before sending
            kwargs["_skip_mcp_handler"] = True
        if resolved.api_base:
            kwargs["api_base"] = resolved.api_base
        if api_key:
            kwargs["api_key"] = api_key
        result = StreamResult(t0=_perf())
        try:
            response = await litellm.acompletion(**kwargs)
            if body.get("stream"):
                async for chunk in response:
                    now = _perf()
                    _fold_chunk(chunk, result, now)
            else:
                _fold_message(response, result, _perf())
        except CallError:
            raise
        except Exception as exc:
            raise _classify(exc) from None
        result.t_end = _perf()
        result.http_status = 200
        return result


def _fold_chunk(chunk: Any, result: StreamResult, now: float) -> None:
    fingerprint = getattr(chunk, "system_fingerprint", None)
    if isinstance(fingerprint, str) and fingerprint:
        result.system_fingerprint = fingerprint
    if result.response_model is None and isinstance(getattr(chunk, "model", None), str):
        result.response_model = chunk.model
    usage = getattr(chunk, "usage", None)
    if usage:
        result.input_tokens = getattr(usage, "prompt_tokens", None) or result.input_tokens
        result.output_tokens = getattr(usage, "completion_tokens", None) or result.output_tokens
    for choice in getattr(chunk, "choices", None) or ():
        delta = getattr(choice, "delta", None)
        if delta is not None:
            d: dict[str, Any] = {
                "content": getattr(delta, "content", None),
                "reasoning_content": getattr(delta, "reasoning_content", None),
            }
            tcs = getattr(delta, "tool_calls", None)
            if tcs:
                d["tool_calls"] = [_tool_delta(tc, i) for i, tc in enumerate(tcs)]
            result.add_delta(d, now)
        if getattr(choice, "finish_reason", None):
            result.finish_reason = choice.finish_reason


def _tool_delta(tc: Any, fallback_index: int) -> dict[str, Any]:
    fn = getattr(tc, "function", None)
    index = getattr(tc, "index", None)
    return {
        "index": fallback_index if index is None else index,
        "id": getattr(tc, "id", None),
        "function": {
            "name": getattr(fn, "name", None) or "",
            "arguments": getattr(fn, "arguments", None) or "",
        },
    }


def _fold_message(response: Any, result: StreamResult, now: float) -> None:
    choice = response.choices[0]
    message = choice.message
    if message.content:
        result.text_parts.append(message.content)
        result.token_times.append(now)
    for i, tc in enumerate(getattr(message, "tool_calls", None) or ()):
        result.add_tool_delta(_tool_delta(tc, i))
    result.finish_reason = choice.finish_reason
    fingerprint = getattr(response, "system_fingerprint", None)
    result.system_fingerprint = fingerprint if isinstance(fingerprint, str) else None
    model = getattr(response, "model", None)
    result.response_model = model if isinstance(model, str) else None
    usage = getattr(response, "usage", None)
    if usage:
        result.input_tokens = usage.prompt_tokens
        result.output_tokens = usage.completion_tokens


def _classify(exc: Exception) -> CallError:
    """Map litellm exceptions onto benchwork's error classes (see DESIGN.md facts)."""
    name = type(exc).__name__
    message = str(exc).strip() or name
    status = getattr(exc, "status_code", None)
    headers = getattr(exc, "litellm_response_headers", None) or {}
    retry_after = None
    try:
        retry_after = parse_retry_after(headers.get("retry-after") or headers.get("Retry-After"))
    except AttributeError:
        pass
    lowered = message.lower()
    if name in ("Timeout", "TimeoutError") or isinstance(exc, TimeoutError):
        return CallError("timeout", f"timed out: {message[:300]}")
    refused = status in (None, 500) and (
        "connection error" in lowered or "connect call failed" in lowered
    )
    if name == "APIConnectionError" or refused:
        return CallError("transport", f"cannot connect: {message[:300]}")
    if isinstance(status, int) and status >= 400:
        return CallError(
            error_type_for_status(status),
            f"HTTP {status}: {message[:500]}",
            http_status=status,
            retry_after=retry_after,
        )
    return CallError("provider_error", f"{name}: {message[:500]}", retryable=False)
