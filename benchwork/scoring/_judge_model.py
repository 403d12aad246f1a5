"""A judge model: a ``Target`` called through the ``Client`` and the ``CallCache``, re-asked once.

Judge calls take the candidates' path exactly (same client, retries, prices, cache key
rules, and the same ``CachePolicy``: modes mean the same, and identical judge prompts in
flight are sent once), so a rescore or rerun answers from the cache and costs nothing. Inside
a run the runner hands its cache policy to the judge (``bind_run``); on its own a judge uses
``cache_dir`` or the default cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import weakref
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchwork._util.pace import Pacer
from benchwork.errors import BenchworkError
from benchwork.target import Target

if TYPE_CHECKING:
    from benchwork.cache import CachePolicy

__all__ = [
    "JUDGE_API_BASE_ENV",
    "JUDGE_MODEL_ENV",
    "JudgeModel",
    "JudgeReply",
    "JudgeSpec",
    "judge_target",
]

JUDGE_MODEL_ENV = "BENCHWORK_JUDGE_MODEL"
JUDGE_API_BASE_ENV = "BENCHWORK_JUDGE_API_BASE"

#: What a judge can be given as: a Target, a target dict, a model id, or a JudgeModel.
JudgeSpec = Any

#: Reads a reply: ``(value, reasoning, problem)``; value None means unusable.
Reader = Callable[[str | None], tuple[Any, str | None, str | None]]


def judge_target(
    judge: JudgeSpec = None,
    *,
    model: str | None = None,
    api_base: str | None = None,
    api_key_env: str | None = None,
) -> Target:
    """A Target from ``judge`` (Target, dict, model id) or ``model``/``api_base``, else the
    ``BENCHWORK_JUDGE_MODEL`` / ``BENCHWORK_JUDGE_API_BASE`` environment variables.

    A judge given as a model id is called at temperature 0.
    """
    if isinstance(judge, JudgeModel):
        return judge.target
    if isinstance(judge, Target):
        return judge
    if isinstance(judge, Mapping):
        data = dict(judge)
        if api_base is not None:
            data.setdefault("api_base", api_base)
        if api_key_env is not None:
            data.setdefault("api_key_env", api_key_env)
        return Target.from_dict(data, source="judge")
    if judge is not None and not isinstance(judge, str):
        raise BenchworkError(
            f"judge must be a Target, a target dict or a model id, not {type(judge).__name__}"
        )
    model = judge or model or os.environ.get(JUDGE_MODEL_ENV)
    if not model:
        raise BenchworkError(
            "an LLM judge needs a judge model: pass judge='openai/gpt-4o-mini' (plus api_base=... "
            f"for a local server), a Target, or set {JUDGE_MODEL_ENV}"
        )
    if api_base is None and not judge and os.environ.get(JUDGE_API_BASE_ENV):
        api_base = os.environ[JUDGE_API_BASE_ENV]
    return Target(model, api_base=api_base, api_key_env=api_key_env, params={"temperature": 0})


@dataclass
class JudgeReply:
    """The outcome of one judgement (one ask, plus the re-ask if the first reply was unusable)."""

    value: Any = None
    reasoning: str | None = None
    error: str | None = None
    raw: str | None = None
    asks: int = 0
    requests: int = 0  #: asks that were not answered from the cache
    cost_usd: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    records: list[Any] = field(default_factory=list, repr=False)

    def add(self, record: Any) -> None:
        """Count one judge call's tokens and cost (cost unknown if any call's is)."""
        first = not self.records
        self.records.append(record)
        self.asks += 1
        self.requests += not record.cached
        for name in ("cost_usd", "input_tokens", "output_tokens"):
            mine, theirs = getattr(self, name), getattr(record, name)
            if theirs is None:
                setattr(self, name, None)
            elif first or mine is not None:
                setattr(self, name, (mine or 0) + theirs)


class _Slot:
    """One event loop's client and concurrency limit, closed when its last user leaves."""

    def __init__(self, client: Any, limit: int) -> None:
        self.client, self.sem, self.users = client, asyncio.Semaphore(limit), 0


_UNSET: Any = object()


class JudgeModel:
    """A judge target plus how it is called: client per event loop, cache, concurrency."""

    def __init__(
        self,
        target: Target,
        *,
        cache_dir: str | Path | None = None,
        cache: str = "use",
        retry: Any = None,
    ) -> None:
        from benchwork.cache import check_mode

        self.target = target
        self.cache_mode = check_mode(cache)
        self.retry = retry
        self._cache_dir = cache_dir
        self._policy: CachePolicy | None = None  # opened lazily, or the run's (bind_run)
        self._resolved: Any = None
        self._prices: Any = _UNSET
        self._slots: dict[asyncio.AbstractEventLoop, _Slot] = {}
        #: the target's rpm, per event loop (kept between calls, unlike the slots)
        self._pacers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Pacer] = (
            weakref.WeakKeyDictionary()
        )

    @property
    def name(self) -> str:
        return self.target.name or self.target.model

    @property
    def model(self) -> str:
        return self.target.model

    def bind_run(self, policy: CachePolicy) -> None:
        """Use a run's cache policy (its cache and mode) unless this judge has a ``cache_dir``.

        Also resolves the target and its prices now, so nothing slow happens mid-run.
        """
        if self._cache_dir is None:
            self._policy, self.cache_mode = policy, policy.mode
        self.prepare()

    def prepare(self) -> None:
        """Resolve the target (provider, base URL) and look up its prices."""
        from benchwork.target import prices_for

        if self._resolved is None:
            self._resolved = self.target.resolve()
        if self._prices is _UNSET:
            self._prices = prices_for(self.target)

    def _cache_policy(self) -> CachePolicy:
        if self._policy is None:
            from benchwork._util.redact import Redactor
            from benchwork.cache import CachePolicy, CallCache

            env = self.target.api_key_env
            redactor = Redactor.from_env_names([env] if env else [])
            for secret in self.target.secrets():
                redactor.add(secret)
            cache = (
                None if self.cache_mode == "off" else CallCache(self._cache_dir, redactor=redactor)
            )
            self._policy = CachePolicy(cache, self.cache_mode)
        return self._policy

    @contextlib.asynccontextmanager
    async def _client(self) -> AsyncIterator[Any]:
        from benchwork.client import Client

        loop = asyncio.get_running_loop()
        slot = self._slots.get(loop)
        if slot is None:
            slot = self._slots[loop] = _Slot(Client(self.retry), self.target.concurrency)
        slot.users += 1
        pacer = self._pacers.get(loop)
        if pacer is None:
            pacer = self._pacers[loop] = Pacer(self.target.rpm)
        try:
            async with slot.sem:
                await pacer.wait()
                yield slot.client
        finally:
            slot.users -= 1
            if slot.users == 0 and self._slots.get(loop) is slot:
                del self._slots[loop]
                await slot.client.close()

    async def call(self, messages: list[dict[str, Any]], case_id: str) -> Any:
        """One judge call (a CallRecord), answered from the cache when it can be."""
        from benchwork.cache import cache_key
        from benchwork.client import CallRequest
        from benchwork.results import CallRecord

        self.prepare()
        t = self.target
        key, components = cache_key(
            model=t.model,
            api_base=t.cache_endpoint or self._resolved.api_base,
            messages=messages,
            params=t.params,
            tool_choice=t.params.get("tool_choice"),
            response_format=t.params.get("response_format"),
            repeat=0,
        )
        policy = self._cache_policy()
        hit = policy.get(key)
        if hit is not None:
            return CallRecord.from_dict({**hit, "run_id": "judge", "cached": True})
        if policy.replay:
            return CallRecord(
                run_id="judge",
                case_id=case_id,
                target=self.name,
                model=t.model,
                status="error",
                error_type="cache_miss",
                error_message="replay mode: this judge call is not in the cache",
            )
        shared = policy.join(key)  # an identical judge prompt in flight: share its answer
        if shared is not None:
            row = await shared
            if row is not None:
                return CallRecord.from_dict({**row, "run_id": "judge", "cached": True})
            shared = policy.join(key)
        req = CallRequest("judge", case_id, self._resolved, messages, cache_key=key)
        record = None
        try:
            async with self._client() as client:
                record = await client.call(req, self._prices)
        finally:
            if shared is None:
                policy.land(key, record.to_dict() if record is not None else None)
        assert record is not None  # set unless the call raised (then the finally re-raises)
        put = policy.writer(
            key, components, record.to_dict(), case_id=case_id, target=f"judge:{self.name}"
        )
        if put is not None:
            await asyncio.to_thread(put)
        return record

    async def ask(
        self,
        messages: list[dict[str, Any]],
        read: Reader,
        correction: Callable[[str], str],
        *,
        case_id: str,
    ) -> JudgeReply:
        """Ask; if the reply is unusable, re-ask ONCE (bad reply + correction appended)."""
        reply = JudgeReply()
        try:
            return await self._ask(reply, messages, read, correction, case_id)
        finally:  # a provider may echo the key in an error: never let it reach a score
            if reply.error:  # a key echoed back (env, .env, api_base or extra_headers)
                from benchwork._util.redact import Redactor

                names = [self.target.api_key_env] if self.target.api_key_env else []
                redactor = Redactor.from_env_names(names)
                for secret in self.target.secrets():
                    redactor.add(secret)
                reply.error = redactor.scrub(reply.error)

    async def _ask(
        self,
        reply: JudgeReply,
        messages: list[dict[str, Any]],
        read: Reader,
        correction: Callable[[str], str],
        case_id: str,
    ) -> JudgeReply:
        convo = list(messages)
        for attempt in range(2):
            record = await self.call(convo, case_id)
            reply.add(record)
            if record.status != "ok":
                detail = record.error_message or record.error_type or "error"
                reply.error = f"judge call failed: {record.error_type}: {detail}"[:500]
                return reply
            reply.raw = record.output_text
            value, reasoning, problem = read(record.output_text)
            if value is not None:
                reply.value, reply.reasoning, reply.error = value, reasoning, None
                return reply
            reply.error = f"judge output unparseable: {problem}"
            if attempt == 0:
                convo = [
                    *convo,
                    {"role": "assistant", "content": record.output_text or ""},
                    {"role": "user", "content": correction(problem or "unusable reply")},
                ]
        return reply

    def to_dict(self) -> dict[str, Any]:
        """The judge's target as a plain dict (how manifests record it)."""
        return self.target.to_dict()

    def __repr__(self) -> str:
        base = f", api_base={self.target.api_base!r}" if self.target.api_base else ""
        return f"JudgeModel({self.target.model!r}{base})"
