"""The lean streaming path for OpenAI-compatible endpoints: aiohttp, one pooled session.

litellm costs ~15 ms + 0.5 ms/chunk of client CPU and skewed TTFT by hundreds of ms at
50 streams here; this path costs about what raw aiohttp does, so its timings are exact.
"""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import aiohttp
import orjson

from benchwork.client._errors import CallError, error_type_for_status, parse_retry_after
from benchwork.client._stream import StreamResult

__all__ = ["HttpPath"]

_perf = time.perf_counter
_loads = orjson.loads  # ~3x faster than json.loads on stream chunks (the hot path)


def endpoint(api_base: str, path: str) -> str:
    """``{api_base}/{path}``, keeping a query string (Azure-style ``?api-version=``) at the end."""
    base, sep, query = api_base.partition("?")
    return f"{base.rstrip('/')}/{path}" + (f"?{query}" if sep else "")


class HttpPath:
    """Streams ``POST {api_base}/chat/completions`` and times every chunk."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300, enable_cleanup_closed=True)
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=30),
                auto_decompress=True,
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def post_json(
        self, url: str, payload: dict[str, Any] | None, api_key: str | None, timeout_s: float = 10.0
    ) -> Any:
        """POST JSON (GET when ``payload`` is None) and return the parsed JSON answer; None on
        any error status or fault. For side requests (a server's tokenizer endpoints, its
        ``/props``): a missing endpoint is an answer.
        """
        headers = {"Content-Type": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        session = self._get_session()
        try:
            async with session.request(
                "GET" if payload is None else "POST",
                url,
                data=None if payload is None else orjson.dumps(payload),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=timeout_s),
            ) as resp:
                if resp.status != 200:
                    await resp.read()
                    return None
                return _loads(await resp.read())
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return None

    async def stream_chat(
        self, api_base: str, body: dict[str, Any], api_key: str | None
    ) -> StreamResult:
        """One attempt. Raises CallError for HTTP errors, transport faults, cut/malformed streams."""
        session = self._get_session()
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        extra = body.get("extra_headers")
        if extra:  # litellm's name for them: request headers, never a field of the JSON body
            headers.update({str(k): str(v) for k, v in extra.items()})
            body = {k: v for k, v in body.items() if k != "extra_headers"}
        payload = orjson.dumps(body)
        url = endpoint(api_base, "chat/completions")
        result = StreamResult(t0=_perf())
        try:
            async with session.post(url, data=payload, headers=headers) as resp:
                result.http_status = resp.status
                if resp.status >= 400:
                    raise await _http_error(resp)
                if body.get("stream"):
                    await _consume_sse(resp, result)
                else:
                    _consume_json(await resp.read(), result, _perf())
        except CallError:
            raise
        except aiohttp.InvalidURL as exc:  # retrying cannot help: the address itself is wrong
            raise CallError(
                "bad_url",
                f"invalid URL {str(exc) or url!r}: check the target's api_base",
                retryable=False,
            ) from None
        except aiohttp.ClientConnectorDNSError as exc:
            # a name that does not exist will not start to exist on retry (EAI_NONAME); a
            # resolver that is briefly down (EAI_AGAIN) is retried like any transport error
            permanent = getattr(exc.os_error, "errno", None) == socket.EAI_NONAME
            raise CallError(
                "unknown_host" if permanent else "transport",
                f"cannot resolve the host of {url}: {exc.os_error or exc}",
                retryable=not permanent,
            ) from None
        except aiohttp.ClientConnectorError as exc:
            raise CallError(
                "transport", f"cannot connect to {url}: {exc.os_error or exc}"
            ) from None
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError) as exc:
            raise CallError("stream_cut", f"connection closed mid-response: {exc}") from None
        except aiohttp.ClientError as exc:
            raise CallError("transport", f"{type(exc).__name__}: {exc}") from None
        result.t_end = _perf()
        return result


async def _http_error(resp: aiohttp.ClientResponse) -> CallError:
    raw = await resp.content.read(4096)
    message = raw.decode("utf-8", "replace").strip()
    try:
        err = json.loads(raw).get("error")
        if isinstance(err, dict) and err.get("message"):
            message = str(err["message"])
        elif isinstance(err, str):
            message = err
    except (ValueError, AttributeError):
        pass
    return CallError(
        error_type_for_status(resp.status),
        f"HTTP {resp.status}: {message[:500]}",
        http_status=resp.status,
        retry_after=parse_retry_after(resp.headers.get("Retry-After")),
    )


async def _consume_sse(resp: aiohttp.ClientResponse, result: StreamResult) -> None:
    # Read whatever the socket has and split lines ourselves: cheaper than readline() per
    # line, and every line in one read gets the time it actually arrived.
    done = False
    tail = b""
    async for block in resp.content.iter_any():
        now = _perf()
        lines = (tail + block).split(b"\n") if tail else block.split(b"\n")
        tail = lines.pop()
        for line in lines:
            if line.startswith(b"data:"):
                if _handle_data(line[5:].strip(), result, now):
                    done = True
                    break
        if done:
            break
    if not done and tail.startswith(b"data:"):
        done = _handle_data(tail[5:].strip(), result, _perf())
    if not done and result.finish_reason is None:
        raise CallError("stream_cut", "stream ended before the response was complete")
    if result.finish_reason is None and not result.token_times:
        # llama-cpp-python's server ends a stream this way when another request arrives
        # (its --interrupt_requests, on by default): an empty answer is not a success
        raise CallError(
            "stream_cut",
            "stream ended ([DONE]) with no output and no finish_reason: the server dropped it "
            "(llama-cpp-python does when a second request arrives: use concurrency=1)",
        )


def _handle_data(data: bytes, result: StreamResult, now: float) -> bool:
    """Fold one SSE data payload into the result; True at ``[DONE]``."""
    if data == b"[DONE]":
        return True
    try:
        chunk = _loads(data)
    except ValueError:
        raise CallError(
            "protocol", f"malformed stream chunk: {data[:120]!r}", retryable=False
        ) from None
    if not isinstance(chunk, dict):
        raise CallError("protocol", f"unexpected stream chunk: {data[:120]!r}", retryable=False)
    if "error" in chunk:
        err = chunk["error"]
        msg = err.get("message") if isinstance(err, dict) else str(err)
        raise CallError("server_error", f"error in stream: {msg}", retryable=True)
    fingerprint = chunk.get("system_fingerprint")
    if fingerprint:
        result.system_fingerprint = fingerprint
    if result.response_model is None:
        result.response_model = chunk.get("model")
    usage = chunk.get("usage")
    if usage:
        result.input_tokens = usage.get("prompt_tokens", result.input_tokens)
        result.output_tokens = usage.get("completion_tokens", result.output_tokens)
    for choice in chunk.get("choices") or ():
        delta = choice.get("delta")
        if delta:
            result.add_delta(delta, now)
        if choice.get("finish_reason"):
            result.finish_reason = choice["finish_reason"]
    return False


def _consume_json(raw: bytes, result: StreamResult, now: float) -> None:
    try:
        data = json.loads(raw)
        choice = data["choices"][0]
    except (ValueError, KeyError, IndexError, TypeError):
        raise CallError("protocol", f"malformed response: {raw[:120]!r}", retryable=False) from None
    message = choice.get("message") or {}
    if message.get("content"):
        result.text_parts.append(message["content"])
        result.token_times.append(now)
    for i, tc in enumerate(message.get("tool_calls") or ()):
        result.tool_calls[i] = tc
    result.finish_reason = choice.get("finish_reason")
    result.system_fingerprint = data.get("system_fingerprint")
    result.response_model = data.get("model")
    usage = data.get("usage") or {}
    result.input_tokens = usage.get("prompt_tokens")
    result.output_tokens = usage.get("completion_tokens")
