"""True token counts when a response carries no usage: the best source there is, named.

Local servers (llama.cpp, llama-cpp-python, LM Studio, some Ollama and vLLM versions) and
many proxies stream without ``usage`` even when asked. A guess from another model's
tokenizer inflated ``output_tps`` by up to 26 % on a real llama.cpp server, so the counts
come from these sources, best first, and ``tokens_source`` names the one used:

output tokens
  ``usage``       the provider's own count;
  ``max_tokens``  ``finish_reason == "length"`` at a known ``max_tokens``: exact by definition;
  ``chunks``      one token per content chunk, where the server is known to stream that way
                  (llama.cpp, llama-cpp-python) or was seen to (a ``length`` finish whose chunk
                  count equals ``max_tokens``, from a real call or one short streamed probe);
  ``tokenize``    the server's tokenizer on the output text (asked once per distinct text;
                  plus the stop string, when one ended the reply: the server counts the
                  token that completed it, which no chunk carries);
  ``local``       the model's own tokenizer installed here (``Target(tokenizer=...)``: a
                  ``.gguf`` or a ``tokenizer.json``), when the server has no tokenizer;
  ``litellm``     litellm's tokenizer: a guess, flagged ``tokens_estimated``.

input tokens (the chat template counts: that is what the model reads)
  ``usage``;
  ``tokenize``    the server's tokenizer over the templated conversation (vLLM's ``/tokenize``
                  with ``messages``; llama.cpp's ``/apply-template`` then ``/tokenize``);
  ``probe``       the same request once without streaming and ``max_tokens=1``, whose
                  ``usage.prompt_tokens`` is the server's own count (llama-cpp-python's
                  tokenizer endpoint applies no template, so this is its exact source);
  ``litellm``     a guess, flagged.

Side requests happen after the measured stream has ended, once per server (detection) and
once per distinct text or conversation (cached), never inside a timed span.
"""

from __future__ import annotations

import asyncio
import collections
import copy
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from benchwork.client._errors import CallError
from benchwork.client._http import HttpPath
from benchwork.client._local_tokenizer import local_counter
from benchwork.client._stream import StreamResult

if TYPE_CHECKING:
    from benchwork.client import CallRequest

__all__ = ["SOURCES", "TokenCounter", "server_root"]

#: Every value ``input_source`` / ``output_source`` may take, best first.
SOURCES = ("usage", "max_tokens", "chunks", "tokenize", "probe", "local", "litellm")

#: Servers that stream exactly one token per content chunk (plain text, no stop-string hold).
_ONE_PER_CHUNK = frozenset({"llama.cpp", "llama-cpp-python"})
_DETECT_MAX_TOKENS = 8  # length of the streamed probe that checks one-token-per-chunk
_CACHE_SIZE = 20_000


def server_root(api_base: str) -> str:
    """The server root of an OpenAI base URL: ``http://h:8080/v1`` -> ``http://h:8080``."""
    base = api_base.rstrip("/")
    return base[:-3] if base.endswith("/v1") else base


def _max_tokens(body: dict[str, Any]) -> int | None:
    value = body.get("max_completion_tokens", body.get("max_tokens"))
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


@dataclass
class _Server:
    """What one (server, model) offers for counting, learned once."""

    kind: str | None = None  # "llama.cpp" | "llama-cpp-python" | "vllm" | None
    bos: int = 0  # tokens llama-cpp-python's count adds to any text (its BOS)
    one_per_chunk: bool | None = None  # None: not known yet
    detect_tries: int = 0
    probe_ok: bool = True  # False once a probe came back without usage


class TokenCounter:
    """Fills in missing token counts of a ``StreamResult`` (see the module docstring)."""

    def __init__(self, http: HttpPath) -> None:
        self._http = http
        self._servers: dict[tuple[str, str], _Server] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._counts: collections.OrderedDict[tuple[str, ...], tuple[int, str]] = (
            collections.OrderedDict()
        )
        self._pending: dict[tuple[str, ...], asyncio.Future[tuple[int, str] | None]] = {}

    async def fill(self, req: CallRequest, result: StreamResult) -> None:
        """Set the missing counts and both sources on ``result``; never raises."""
        if result.input_tokens is not None and result.input_source is None:
            result.input_source = "usage"
        if result.output_tokens is not None and result.output_source is None:
            result.output_source = "usage"
        if result.input_tokens is not None and result.output_tokens is not None:
            return
        body = req.body()
        resolved = req.resolved
        key = _key(req)
        server = None if key is None else await self._server(key, resolved.api_key())
        self._learn_from(result, body, server)
        if result.output_tokens is None:
            await self._fill_output(req, body, result, server, key)
        if result.input_tokens is None and server is not None and key is not None:
            await self._fill_input(req, body, result, server, key)
        if result.input_tokens is None or result.output_tokens is None:
            _litellm_counts(req, result)

    # ----------------------------------------------------------------- public helpers
    async def server_kind(self, req: CallRequest) -> str | None:
        """Which tokenizer endpoint the target's server offers (None: none, or not lean)."""
        key = _key(req)
        return None if key is None else (await self._server(key, req.resolved.api_key())).kind

    async def text_tokens(self, req: CallRequest, text: str) -> int | None:
        """Tokens of ``text`` alone (no BOS, no template) by the server's tokenizer, cached."""
        key = _key(req)
        if key is None:
            return None
        server = await self._server(key, req.resolved.api_key())
        return None if server.kind is None else await self._count_text(key, server, text, req)

    async def prompt_tokens(self, req: CallRequest) -> tuple[int, str] | None:
        """``req``'s input tokens as the server counts them (template included) and the source.

        A ``probe`` sends the conversation once: a server with a prompt cache then holds it.
        """
        key = _key(req)
        if key is None:
            return None
        server = await self._server(key, req.resolved.api_key())
        result = StreamResult(t0=0.0)
        await self._fill_input(req, req.body(), result, server, key)
        if result.input_tokens is None or result.input_source is None:
            return None
        return result.input_tokens, result.input_source

    # ----------------------------------------------------------------- output
    async def _fill_output(
        self,
        req: CallRequest,
        body: dict[str, Any],
        result: StreamResult,
        server: _Server | None,
        key: tuple[str, str] | None,
    ) -> None:
        cap = _max_tokens(body)
        if result.finish_reason == "length" and cap is not None:
            result.output_tokens, result.output_source = cap, "max_tokens"
            return
        # a stop string ends the reply inside a token the server counts but never streams
        # (llama-cpp-python: 10 tokens, 9 chunks), so chunks undercount by about one there
        stops = _stops(body) if result.finish_reason == "stop" else []
        plain = not result.tool_calls and not result.reasoning_chars and not stops
        if server is not None and key is not None and plain and body.get("stream"):
            if server.one_per_chunk is None:
                await self._detect_chunks(req, body, server, key)
            # llama-cpp-python holds back a token that ends inside a UTF-8 character and sends
            # it with the next: non-ASCII text goes to the tokenizer when there is one
            if server.one_per_chunk and (server.kind is None or result.text.isascii()):
                result.output_tokens, result.output_source = len(result.token_times), "chunks"
                return
        if server is not None and server.kind is not None and key is not None:
            if not result.reasoning_chars:
                text = result.output_text_for_count + (stops[0] if len(stops) == 1 else "")
                n = await self._count_text(key, server, text, req)
                if n is not None:
                    result.output_tokens, result.output_source = n, "tokenize"
                    return
        local = req.resolved.target.tokenizer
        if local and not result.reasoning_chars:
            text = result.output_text_for_count + (stops[0] if len(stops) == 1 else "")
            try:
                count = local_counter(local)
                result.output_tokens = await asyncio.to_thread(count, text)
                result.output_source = "local"
            except Exception:  # a broken tokenizer file: the next source takes over
                result.output_tokens = None

    def _learn_from(
        self, result: StreamResult, body: dict[str, Any], server: _Server | None
    ) -> None:
        """A ``length`` finish shows whether the server streams one token per chunk."""
        cap = _max_tokens(body)
        if (
            server is None
            or cap is None
            or result.finish_reason != "length"
            or not body.get("stream")
        ):
            return
        if result.tool_calls or result.reasoning_chars:
            return
        seen = len(result.token_times) == cap
        server.one_per_chunk = (
            seen if server.one_per_chunk is None else server.one_per_chunk and seen
        )

    async def _detect_chunks(
        self, req: CallRequest, body: dict[str, Any], server: _Server, key: tuple[str, str]
    ) -> None:
        """One short streamed probe: a ``length`` finish in exactly N chunks at max N."""
        async with self._lock(key):
            if server.one_per_chunk is not None or server.detect_tries >= 2:
                return
            server.detect_tries += 1
            probe = copy.deepcopy(body)
            probe.pop("max_completion_tokens", None)
            probe["max_tokens"] = _DETECT_MAX_TOKENS
            probe.pop("tools", None)
            probe.pop("tool_choice", None)
            probe.pop("response_format", None)
            try:
                async with asyncio.timeout(req.resolved.target.timeout_s):
                    got = await self._http.stream_chat(key[0], probe, req.resolved.api_key())
            except (CallError, TimeoutError):
                return
            if got.output_tokens is not None or got.finish_reason != "length":
                return  # usage now present, or it stopped early: no verdict
            self._learn_from(got, probe, server)

    async def _count_text(
        self, key: tuple[str, str], server: _Server, text: str, req: CallRequest
    ) -> int | None:
        if not text:
            return 0
        found = await self._once(
            ("out", *key, text), lambda: self._tokenize(key, server, text, req)
        )
        return None if found is None else found[0]

    async def _tokenize(
        self, key: tuple[str, str], server: _Server, text: str, req: CallRequest
    ) -> tuple[int, str] | None:
        root, model, api_key = server_root(key[0]), key[1], req.resolved.api_key()
        n: int | None = None
        if server.kind == "llama-cpp-python":
            got = await self._http.post_json(
                f"{root}/extras/tokenize/count", {"input": text, "model": model}, api_key
            )
            n = _int(got, "count")
            n = None if n is None else n - server.bos
        elif server.kind == "vllm":
            payload = {"model": model, "prompt": text, "add_special_tokens": False}
            n = _int(await self._http.post_json(f"{root}/tokenize", payload, api_key), "count")
        elif server.kind == "llama.cpp":
            payload = {"content": text, "add_special": False, "parse_special": False}
            n = _len(await self._http.post_json(f"{root}/tokenize", payload, api_key), "tokens")
        return None if n is None else (n, "tokenize")

    # ----------------------------------------------------------------- input
    async def _fill_input(
        self,
        req: CallRequest,
        body: dict[str, Any],
        result: StreamResult,
        server: _Server,
        key: tuple[str, str],
    ) -> None:
        conversation = json.dumps(
            [body.get("messages"), body.get("tools")], sort_keys=True, ensure_ascii=False
        )

        async def count() -> tuple[int, str] | None:
            n = await self._templated(req, body, server, key)
            if n is not None:
                return n, "tokenize"
            if server.probe_ok:
                n = await self._probe(req, body, server, key)
            return None if n is None else (n, "probe")

        found = await self._once(("in", *key, conversation), count)
        if found is not None:
            result.input_tokens, result.input_source = found

    async def _templated(
        self, req: CallRequest, body: dict[str, Any], server: _Server, key: tuple[str, str]
    ) -> int | None:
        root, api_key = server_root(key[0]), req.resolved.api_key()
        if server.kind == "vllm":
            payload: dict[str, Any] = {
                "model": key[1],
                "messages": body["messages"],
                "add_generation_prompt": True,
            }
            if body.get("tools"):
                payload["tools"] = body["tools"]
            return _int(await self._http.post_json(f"{root}/tokenize", payload, api_key), "count")
        if server.kind == "llama.cpp":
            payload = {"messages": body["messages"]}
            if body.get("tools"):
                payload["tools"] = body["tools"]
            got = await self._http.post_json(f"{root}/apply-template", payload, api_key)
            prompt = got.get("prompt") if isinstance(got, dict) else None
            if not isinstance(prompt, str):
                return None
            # what llama.cpp's completion does with a templated prompt: specials on, parsed
            tok = {"content": prompt, "add_special": True, "parse_special": True}
            return _len(await self._http.post_json(f"{root}/tokenize", tok, api_key), "tokens")
        return None

    async def _probe(
        self, req: CallRequest, body: dict[str, Any], server: _Server, key: tuple[str, str]
    ) -> int | None:
        probe = copy.deepcopy(body)
        probe["stream"] = False
        probe.pop("stream_options", None)
        probe.pop("max_completion_tokens", None)
        probe["max_tokens"] = 1
        try:
            async with asyncio.timeout(req.resolved.target.timeout_s):
                got = await self._http.stream_chat(key[0], probe, req.resolved.api_key())
        except (CallError, TimeoutError):
            return None
        if got.input_tokens is None:
            server.probe_ok = False
        return got.input_tokens

    # ----------------------------------------------------------------- detection and cache
    def _lock(self, key: tuple[str, str]) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock

    async def _server(self, key: tuple[str, str], api_key: str | None) -> _Server:
        server = self._servers.get(key)
        if server is not None:
            return server
        async with self._lock(key):
            server = self._servers.get(key)
            if server is None:
                server = self._servers[key] = await self._detect(key, api_key)
        return server

    async def _detect(self, key: tuple[str, str], api_key: str | None) -> _Server:
        """Which tokenizer endpoint the server has (two small POSTs, once per server+model)."""
        root, model = server_root(key[0]), key[1]
        got = await self._http.post_json(
            f"{root}/extras/tokenize/count", {"input": "", "model": model}, api_key
        )
        bos = _int(got, "count")
        if bos is not None:
            return _Server("llama-cpp-python", bos=bos, one_per_chunk=True)
        got = await self._http.post_json(
            f"{root}/tokenize", {"model": model, "prompt": "", "add_special_tokens": False}, api_key
        )
        if _int(got, "count") is not None:
            return _Server("vllm")
        if isinstance(got, dict) and isinstance(got.get("tokens"), list):
            return _Server("llama.cpp", one_per_chunk=True)
        return _Server()

    async def _once(
        self, ckey: tuple[str, ...], count: Callable[[], Awaitable[tuple[int, str] | None]]
    ) -> tuple[int, str] | None:
        """``count()`` once per distinct key (concurrent askers share it); answers are kept."""
        if ckey in self._counts:
            self._counts.move_to_end(ckey)
            return self._counts[ckey]
        pending = self._pending.get(ckey)
        if pending is not None:
            return await asyncio.shield(pending)
        task = asyncio.ensure_future(count())
        self._pending[ckey] = task
        try:
            found = await asyncio.shield(task)
        finally:
            self._pending.pop(ckey, None)
        if found is not None:
            self._counts[ckey] = found
            while len(self._counts) > _CACHE_SIZE:
                self._counts.popitem(last=False)
        return found


def _stops(body: dict[str, Any]) -> list[str]:
    stop = body.get("stop")
    if isinstance(stop, str):
        return [stop] if stop else []
    return [x for x in stop if isinstance(x, str) and x] if isinstance(stop, list) else []


def _key(req: CallRequest) -> tuple[str, str] | None:
    resolved = req.resolved
    return (resolved.api_base, resolved.model_name) if resolved.lean and resolved.api_base else None


def _int(got: Any, field: str) -> int | None:
    value = got.get(field) if isinstance(got, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _len(got: Any, field: str) -> int | None:
    value = got.get(field) if isinstance(got, dict) else None
    return len(value) if isinstance(value, list) else None


def _litellm_counts(req: CallRequest, result: StreamResult) -> None:
    """Last resort: litellm's tokenizer (often not the model's): flagged as an estimate."""
    from benchwork._util.litellm import get_litellm

    litellm = get_litellm()
    model = req.resolved.target.model
    if result.input_tokens is None:
        try:
            result.input_tokens = int(litellm.token_counter(model=model, messages=req.messages))
            result.input_source = "litellm"
        except Exception:
            result.input_tokens = None
    if result.output_tokens is None:
        text = result.output_text_for_count
        try:
            result.output_tokens = int(litellm.token_counter(model=model, text=text)) if text else 0
            result.output_source = "litellm"
        except Exception:
            result.output_tokens = None
