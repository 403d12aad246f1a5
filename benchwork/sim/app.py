"""The simulator's aiohttp application: routes, request parsing, the request log and faults.

Everything runs on the server's event loop, so the per-model counters and fault RNGs need no
locks; only the request log, which other threads read, is guarded.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import random
import secrets
import threading
import time
from collections.abc import Iterable
from typing import Any

from aiohttp import web

from benchwork.sim.call import Call, schedule
from benchwork.sim.judge import judge_reply
from benchwork.sim.models import Fault, SimModel
from benchwork.sim.replies import count_words, last_user_text, message_text, pieces, reply_text
from benchwork.sim.rewriter import rewrite_reply
from benchwork.sim.send import Wire, drop, respond, stream
from benchwork.sim.tokenize import prompt_tokens as count_prompt
from benchwork.sim.tokenize import tokenize_answer
from benchwork.sim.tools import normalize_answer, tool_pieces, tool_reply
from benchwork.sim.wire_anthropic import AnthropicWire
from benchwork.sim.wire_openai import OpenAIWire

__all__ = ["SimApp"]

_HANG_S = 3600.0
_PARAMS = ("temperature", "max_tokens", "max_completion_tokens", "seed", "top_p")


class _Reject(Exception):
    """A request the simulator answers with an error status before any model work."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class _ModelState:
    """Per-model request counter and fault RNG (touched only on the server loop)."""

    __slots__ = ("count", "rng")

    def __init__(self, model: SimModel) -> None:
        self.count = 0
        self.rng = random.Random(f"faults:{model.name}:{model.seed}")


class SimApp:
    """Holds the simulator's state and serves it as an ``aiohttp.web.Application``."""

    def __init__(
        self,
        models: Iterable[SimModel],
        answers: dict[str, Any] | None = None,
        require_api_key: str | None = None,
        log_limit: int | None = 100_000,
    ) -> None:
        self.models: dict[str, SimModel] = {}
        for model in models:
            if model.name in self.models:
                raise ValueError(f"model names must be unique; repeated: {model.name!r}")
            self.models[model.name] = model
        if not self.models:
            raise ValueError("the simulator needs at least one model")
        self._names_json = {name: json.dumps(name) for name in self.models}
        self._state = {name: _ModelState(m) for name, m in self.models.items()}
        self.require_api_key = require_api_key
        self.answers: dict[str, str] = {}
        self.tool_answers: dict[str, dict[str, Any]] = {}
        self.set_answers(answers or {})
        self._log: collections.deque[dict[str, Any]] = collections.deque(maxlen=log_limit)
        self._log_lock = threading.Lock()
        self._log_n = 0
        self._ids = itertools.count(1)
        self._id_prefix = secrets.token_hex(4)
        self.closing: asyncio.Event | None = None
        self._openai, self._anthropic = OpenAIWire(), AnthropicWire()

    # ----------------------------------------------------------------- public state
    def set_answers(self, answers: dict[str, Any]) -> None:
        """Replace the prompt → expected answer map (keys also match with whitespace stripped).

        A value may be a tool answer ``{"tool_calls": [...], "final": ...}`` (see sim/tools.py):
        its calls go to ``tool_answers``, its ``final`` text to ``answers``.
        """
        known: dict[str, str] = {}
        tools: dict[str, dict[str, Any]] = {}
        for k, v in answers.items():
            if v is None:
                continue
            v = normalize_answer(v)
            if isinstance(v, dict):
                tools[str(k)] = v
                if v["final"] is not None:
                    known[str(k)] = v["final"]
            else:
                known[str(k)] = v
        table = {k.strip(): v for k, v in known.items()}
        table.update(known)
        tool_table = {k.strip(): v for k, v in tools.items()}
        tool_table.update(tools)
        self.answers, self.tool_answers = table, tool_table  # reference swaps: thread-safe

    @property
    def requests(self) -> list[dict[str, Any]]:
        """A copy of the request log, oldest first."""
        with self._log_lock:
            return [dict(e, params=dict(e["params"])) for e in self._log]

    def reset_log(self) -> None:
        """Forget logged requests and restart their numbering at 1 (fault counters go on)."""
        with self._log_lock:
            self._log.clear()
            self._log_n = 0

    def build(self) -> web.Application:
        """The aiohttp application with every route."""
        app = web.Application(client_max_size=32 * 1024**2)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/chat/completions", self._chat)
        app.router.add_post("/v1/messages", self._messages)
        app.router.add_post("/messages", self._messages)
        app.router.add_get("/v1/models", self._list_models)
        app.router.add_get("/models", self._list_models)
        for path in ("/tokenize", "/apply-template", "/extras/tokenize/count"):
            app.router.add_post(path, self._tokenize)
        app.router.add_get("/_sim/requests", self._get_log)
        app.router.add_post("/_sim/reset", self._reset)
        app.router.add_route("*", "/{tail:.*}", self._no_route)
        app.on_shutdown.append(self._on_shutdown)
        return app

    # ----------------------------------------------------------------- small routes
    async def _on_shutdown(self, app: web.Application) -> None:
        if self.closing is not None:
            self.closing.set()  # wakes hanging requests so shutdown is prompt

    async def _no_route(self, request: web.Request) -> web.Response:
        message = f"No route {request.method} {request.path}."
        if request.path.endswith("/v1/v1/messages"):
            message += (
                " litellm's anthropic route appends /v1/messages: pass the server root as api_base."
            )
        elif request.path.endswith("/v1/v1/chat/completions"):
            message += " Pass the base URL ending in a single /v1."
        wire = self._anthropic if request.path.endswith("messages") else self._openai
        return self._error(wire, 404, message)

    async def _tokenize(self, request: web.Request) -> web.Response:
        """A local server's tokenizer endpoint, for models that mimic one (sim/tokenize.py)."""
        try:
            body = json.loads(await request.read())
        except ValueError:
            body = None
        answer = tokenize_answer(request.path, body, self.models)
        model = body.get("model") if isinstance(body, dict) else None
        self._record(
            {
                "n": 0,
                "path": request.path,
                "model": model if isinstance(model, str) else None,
                "prompt": None,
                "stream": False,
                "received_at": time.time(),
                "status": 404 if answer is None else 200,
                "fault": None,
                "params": {},
            }
        )
        if answer is None:
            return self._error(self._openai, 404, f"No route POST {request.path}.")
        return web.json_response(answer)

    async def _get_log(self, request: web.Request) -> web.Response:
        return web.json_response(self.requests)

    async def _reset(self, request: web.Request) -> web.Response:
        self.reset_log()
        return web.json_response({"ok": True})

    async def _list_models(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return self._error(self._openai, 401, "Incorrect API key provided.")
        data = [
            {
                "id": m.name,
                "object": "model",
                "created": 0,
                "owned_by": "benchwork-sim",
                **(
                    {"max_model_len": m.context_window}
                    if m.tokenizer == "vllm" and m.context_window
                    else {}
                ),
                "pricing": {
                    "input_per_mtok": m.input_per_mtok,
                    "output_per_mtok": m.output_per_mtok,
                },
            }
            for m in self.models.values()
        ]
        return web.json_response({"object": "list", "data": data})

    # ----------------------------------------------------------------- completions
    async def _chat(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(request, self._openai)

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(request, self._anthropic)

    def _authorized(self, request: web.Request) -> bool:
        key = self.require_api_key
        if key is None:
            return True
        headers = request.headers
        return headers.get("Authorization") == f"Bearer {key}" or headers.get("x-api-key") == key

    def _error(
        self, wire: Wire, status: int, message: str, headers: dict[str, str] | None = None
    ) -> web.Response:
        return web.json_response(wire.error(status, message), status=status, headers=headers)

    def _record(self, entry: dict[str, Any]) -> None:
        with self._log_lock:
            self._log_n += 1
            entry["n"] = self._log_n
            self._log.append(entry)

    async def _handle(self, request: web.Request, wire: Wire) -> web.StreamResponse:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        entry: dict[str, Any] = {
            "n": 0,
            "path": request.path,
            "model": None,
            "prompt": None,
            "stream": False,
            "received_at": time.time(),
            "status": None,
            "fault": None,
            "params": {},
        }
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if isinstance(body, dict):
            model = body.get("model")
            entry["model"] = model if isinstance(model, str) else None
            messages = body.get("messages")
            if isinstance(messages, list):
                entry["prompt"] = last_user_text(messages)
            entry["stream"] = body.get("stream") is True
            entry["params"] = {k: body[k] for k in _PARAMS if k in body}
        self._record(entry)
        try:
            if not self._authorized(request):
                raise _Reject(401, "Incorrect API key provided.")
            call, seed = self._plan(body, wire, t0)
        except _Reject as e:
            entry["status"] = e.status
            return self._error(wire, e.status, e.message)

        assert isinstance(body, dict)  # _plan rejects anything else
        fault = call.fault
        entry["fault"] = fault.kind if fault else None
        if fault is not None and fault.kind in ("429", "500"):
            entry["status"] = int(fault.kind)
            return self._fault_error(wire, fault)
        if fault is not None and fault.kind == "401":  # echoes the key: never logged by us
            entry["status"] = 401
            sent = request.headers.get("Authorization") or request.headers.get("x-api-key")
            return self._error(wire, 401, f"Incorrect API key provided: {sent}.")
        if fault is not None and fault.kind == "hang":
            return await self._hang(request)
        prompt = entry["prompt"]
        if call.model.role == "judge":  # grades the conversation instead (see sim/judge.py)
            verdict = judge_reply(call.model, body["messages"], seed, self.answers)
            call.pieces = pieces(verdict)
        elif call.model.role == "rewriter":  # a prompt tuner's meta-model (see sim/rewriter.py)
            m = call.model
            call.pieces = pieces(rewrite_reply(prompt or "", m.seed, m.malformed_rate))
        else:
            accuracy = call.model.accuracy
            if call.model.prompt_rules:  # a model that reacts to the prompt
                texts = [message_text(body.get("system")) or ""]  # Anthropic's system field
                texts += [
                    message_text(m.get("content")) or ""
                    for m in body["messages"]
                    if isinstance(m, dict)
                ]
                accuracy = call.model.accuracy_for("\n".join(texts), prompt or "")
            call.pieces, _ = reply_text(
                call.model.name, prompt, seed, accuracy, call.model.tokens, self.answers
            )
        call.finish = "stop"
        if call.model.role != "judge" and body.get("tools"):
            self._tool_calls(call, body, prompt, seed)
        cap = _max_tokens(body)
        if cap is not None and len(call.pieces) > cap:
            call.pieces, call.finish = call.pieces[:cap], "length"
        call.deadlines = schedule(
            call.model, t0, len(call.pieces), self._state[call.model.name].count
        )
        group = call.model.tokens_per_chunk
        if group > 1 and call.tool_calls is None:  # a chunk goes out when its last token is due
            n, due = len(call.pieces), call.deadlines
            call.n_tokens = n
            call.pieces = ["".join(call.pieces[i : i + group]) for i in range(0, n, group)]
            call.deadlines = [due[min(i + group, n) - 1] for i in range(0, n, group)]
        entry["status"] = 200
        if entry["stream"]:
            return await stream(request, call, wire)
        return await respond(request, call, wire)

    def _tool_calls(self, call: Call, body: dict[str, Any], prompt: str | None, seed: int) -> None:
        """Replace the reply with tool calls (or the answer after them) when the model makes any."""
        answer = None
        if prompt is not None:
            answer = self.tool_answers.get(prompt) or self.tool_answers.get(prompt.strip())
        reply = tool_reply(call.model, body, answer, prompt, seed, call.id)
        if reply is None:
            return
        text, calls = reply
        if calls:
            call.pieces, call.tool_index = tool_pieces(calls)
            call.tool_calls, call.finish = calls, "tool_calls"
        else:
            call.pieces = text

    def _plan(self, body: Any, wire: Wire, t0: float) -> tuple[Call, int]:
        if not isinstance(body, dict):
            raise _Reject(400, "The request body must be a JSON object.")
        name = body.get("model")
        model = self.models.get(name) if isinstance(name, str) else None
        if model is None:
            known = ", ".join(self.models)
            raise _Reject(404, f"The model {name!r} does not exist. Known models: {known}.")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise _Reject(400, "'messages' must be a non-empty list.")
        _max_tokens(body)  # validates
        seed = body.get("seed", 0)
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise _Reject(400, "'seed' must be an integer.")
        prompt_tokens = count_prompt(model, messages)
        window = model.context_window
        if window is not None and prompt_tokens + (_max_tokens(body) or 0) > window:
            requested = prompt_tokens + (_max_tokens(body) or 0)
            raise _Reject(400, f"Requested tokens ({requested}) exceed context window of {window}")
        if wire is self._anthropic:
            prompt_tokens += count_words(message_text(body.get("system")))
        options = body.get("stream_options")
        include_usage = (
            model.sends_usage and isinstance(options, dict) and options.get("include_usage") is True
        )
        fault = self._pick_fault(model)
        call = Call(
            id=f"{self._id_prefix}{next(self._ids)}",
            created=int(time.time()),
            model=model,
            model_json=self._names_json[model.name],
            pieces=[],
            finish="stop",
            prompt_tokens=prompt_tokens,
            fault=fault,
            t0=t0,
            deadlines=[],
            include_usage=include_usage,
        )
        return call, seed

    def _pick_fault(self, model: SimModel) -> Fault | None:
        """The fault for the model's next request: the first listed one that fires, if any."""
        state = self._state[model.name]
        state.count += 1
        chosen = None
        for fault in model.faults:
            draw = state.rng.random()  # drawn for every fault so the sequence never shifts
            if (
                chosen is None
                and (fault.first is None or state.count <= fault.first)
                and draw < fault.rate
            ):
                chosen = fault
        return chosen

    def _fault_error(self, wire: Wire, fault: Fault) -> web.Response:
        if fault.kind == "429":
            headers = None
            if fault.retry_after is not None:
                headers = {"Retry-After": _seconds(fault.retry_after)}
            return self._error(wire, 429, "Rate limit reached (simulated).", headers)
        return self._error(wire, 500, "The server had an error (simulated).")

    async def _hang(self, request: web.Request) -> web.StreamResponse:
        """Send nothing until the client leaves, an hour passes or the server shuts down."""
        try:
            if self.closing is None:
                await asyncio.sleep(_HANG_S)
            else:
                await asyncio.wait_for(self.closing.wait(), _HANG_S)
        except TimeoutError:
            pass
        await drop(request)
        return web.Response(status=204)


def _seconds(value: float) -> str:
    """``1`` for 1.0, ``0.5`` for 0.5: how Retry-After values are written."""
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def _max_tokens(body: dict[str, Any]) -> int | None:
    value = body.get("max_completion_tokens")
    if value is None:
        value = body.get("max_tokens")
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise _Reject(400, "'max_tokens' must be an integer >= 1.")
    return value
