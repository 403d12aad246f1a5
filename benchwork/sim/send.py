"""Sending a planned ``Call``: tokens at their absolute deadlines, faults that cut or garble.

The hot path of the simulator: chunks are pre-rendered strings, already-due chunks are written
together, and a zero-delay model never sleeps.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from benchwork.sim.call import Call
from benchwork.sim.wire_anthropic import AnthropicWire
from benchwork.sim.wire_openai import OpenAIWire

__all__ = ["Wire", "drop", "respond", "stream"]

Wire = OpenAIWire | AnthropicWire
_SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}


async def _sleep_until(loop: asyncio.AbstractEventLoop, deadline: float) -> None:
    delay = deadline - loop.time()
    if delay > 0:
        await asyncio.sleep(delay)


async def drop(request: web.Request) -> None:
    """Drop the connection, after what was written has left (abort discards the buffer)."""
    transport = request.transport
    if transport is None:
        return
    for _ in range(200):
        if transport.get_write_buffer_size() == 0:
            break
        await asyncio.sleep(0.001)
    transport.abort()


async def stream(request: web.Request, call: Call, wire: Wire) -> web.StreamResponse:
    """Stream ``call``: the opening chunk at once, then each token at its absolute deadline.

    Tokens that are already due are written together (a zero-delay model writes its whole
    reply at once and never sleeps); a token is written as soon as its deadline passes.
    """
    loop = asyncio.get_running_loop()
    resp = web.StreamResponse(headers=_SSE_HEADERS)
    try:
        await resp.prepare(request)
    except ConnectionError:  # the client went away before the headers (e.g. a cancelled run)
        return resp
    stop_after = call.stop_after
    pieces = call.pieces if stop_after is None else call.pieces[:stop_after]
    deadlines = call.deadlines
    pre, post = wire.token_affixes(call)
    tools = call.tool_calls is not None  # tool-call tokens are rendered by the wire one by one
    out: list[bytes] = [wire.start(call)]
    try:
        for i, piece in enumerate(pieces):
            delay = deadlines[i] - loop.time()
            if delay > 0:
                if out:
                    await resp.write(b"".join(out))
                    out.clear()
                await asyncio.sleep(delay)
            out.append(wire.tool_chunk(call, i) if tools else wire.token(pre, post, piece))
        if stop_after is None:
            if not pieces and call.model.ttft_s > 0:
                await resp.write(b"".join(out))
                out.clear()
                await _sleep_until(loop, call.first_deadline)
            out.append(wire.end(call, len(pieces)))
        elif call.fault is not None and call.fault.kind == "malformed":
            out.append(wire.malformed)
        if out:
            await resp.write(b"".join(out))
        if stop_after is not None and call.fault is not None and call.fault.kind == "cut":
            await drop(request)
            return resp
        await resp.write_eof()
    except ConnectionError:
        pass  # the client went away
    return resp


async def respond(request: web.Request, call: Call, wire: Wire) -> web.StreamResponse:
    """Answer without streaming, at the time the last token would have gone out."""
    loop = asyncio.get_running_loop()
    stop_after = call.stop_after
    if stop_after is None:
        await _sleep_until(loop, call.last_deadline)
        return web.json_response(wire.body(call))
    if stop_after > 0:
        await _sleep_until(loop, call.deadlines[stop_after - 1])
    if call.fault is not None and call.fault.kind == "cut":
        await drop(request)
        return web.Response(status=204)
    return web.Response(body=wire.malformed_body, content_type="application/json")
