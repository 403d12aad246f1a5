"""The client: the one place that talks to providers and takes timestamps.

OpenAI-compatible endpoints go through a lean aiohttp path; everything else through
litellm. Retries (exponential backoff with jitter, honouring ``Retry-After``) live here,
in the harness, with litellm's and the OpenAI SDK's own retries turned off.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import Any

import polars as pl

from benchwork.client._converse import DEFAULT_MAX_TURNS, MockTools
from benchwork.client._discover import known_models, list_models, list_models_sync
from benchwork.client._errors import CallError
from benchwork.client._http import HttpPath
from benchwork.client._stream import StreamResult, percentile
from benchwork.client._tiers import TIER_COLUMNS, parse_tiers, run_tiers, summarize_tiers
from benchwork.client._tokens import TokenCounter
from benchwork.client._via_litellm import LitellmPath
from benchwork.errors import BenchworkError
from benchwork.results import CallRecord, clean_text
from benchwork.target import Prices, ResolvedTarget, Target, call_cost

__all__ = [
    "DEFAULT_MAX_TURNS",
    "TIER_COLUMNS",
    "CallError",
    "CallRequest",
    "Client",
    "MockTools",
    "RetryPolicy",
    "StreamResult",
    "context_tiers",
    "context_tiers_sync",
    "known_models",
    "list_models",
    "list_models_sync",
    "parse_tiers",
    "percentile",
    "summarize_tiers",
]


@dataclass(frozen=True)
class RetryPolicy:
    """How the harness retries: attempts, backoff base/cap, jitter fraction."""

    max_attempts: int = 4
    backoff_s: float = 0.5
    max_backoff_s: float = 30.0
    jitter: float = 0.25
    #: a 429 is retried, past ``max_attempts``, as long as the waits add up to at most this
    #: (providers' rate limits clear with time; a fixed count gave up on busy providers)
    max_wait_s: float = 300.0

    def __post_init__(self) -> None:
        if isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int):
            raise BenchworkError(
                f"retry: 'max_attempts' must be an integer >= 1, got {self.max_attempts!r}"
            )
        if self.max_attempts < 1:
            raise BenchworkError("retry: 'max_attempts' must be an integer >= 1")
        for name in ("backoff_s", "max_backoff_s", "jitter", "max_wait_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
                raise BenchworkError(f"retry: {name!r} must be a number >= 0, got {value!r}")

    def with_overrides(self, overrides: Mapping[str, Any] | None) -> RetryPolicy:
        """This policy with a target's own settings (``Target.retry``) on top."""
        if not overrides:
            return self
        unknown = sorted(set(overrides) - {f.name for f in fields(self)})
        if unknown:
            allowed = ", ".join(f.name for f in fields(self))
            raise BenchworkError(f"retry: unknown setting(s) {unknown}; allowed: {allowed}")
        return replace(self, **overrides)

    def next_delay(self, attempt: int, error: CallError, waited: float) -> float | None:
        """The wait before attempt ``attempt + 1``, or None to give up.

        A 429 is retried while the total wait stays within ``max_wait_s``; any other
        retryable error up to ``max_attempts`` attempts in all.
        """
        if not error.retryable:
            return None
        delay = self.delay(attempt, error)
        if error.error_type == "rate_limit":
            return delay if waited + delay <= self.max_wait_s else None
        return delay if attempt < self.max_attempts else None

    def delay(self, attempt: int, error: CallError) -> float:
        """Seconds to wait before attempt ``attempt + 1``; never sooner than Retry-After."""
        base = min(self.max_backoff_s, self.backoff_s * (2 ** (attempt - 1)))
        base *= 1 + random.uniform(0, self.jitter)
        if error.retry_after is not None:
            return max(error.retry_after, min(base, error.retry_after + self.backoff_s))
        return base


@dataclass
class AttemptLog:
    """What the retries of one call went through: each failed attempt, and the time waited."""

    errors: list[str] = field(default_factory=list)
    waited_s: float = 0.0


@dataclass
class CallRequest:
    """Everything needed to make one call and label its record."""

    run_id: str
    case_id: str
    resolved: ResolvedTarget
    messages: list[dict[str, Any]]
    repeat: int = 0
    warmup: bool = False
    tools: list[dict[str, Any]] | None = None
    tool_choice: Any = None
    response_format: Any = None
    cache_key: str | None = None

    def body(self) -> dict[str, Any]:
        """The chat-completions request body (no key, no timeouts)."""
        params = dict(self.resolved.target.params)
        stream = params.pop("stream", True)
        body: dict[str, Any] = {"model": self.resolved.model_name, "messages": self.messages}
        body.update(params)
        body["stream"] = bool(stream)
        if stream:
            body["stream_options"] = {"include_usage": True}
        if self.tools:
            body["tools"] = self.tools
        if self.tool_choice is not None:
            body["tool_choice"] = self.tool_choice
        if self.response_format is not None:
            body["response_format"] = self.response_format
        return body


RetryHook = Callable[[CallRequest, int, float, CallError], Awaitable[None] | None]


class Client:
    """Makes calls and turns each into a CallRecord (an error row on failure, never a raise)."""

    def __init__(self, retry: RetryPolicy | None = None) -> None:
        self.retry = retry or RetryPolicy()
        self._http = HttpPath()
        self._litellm = LitellmPath()
        self._tokens = TokenCounter(self._http)

    async def close(self) -> None:
        await self._http.close()

    async def attempt(self, req: CallRequest) -> StreamResult:
        """One attempt, bounded by the target's timeout; raises CallError."""
        resolved = req.resolved
        timeout = resolved.target.timeout_s
        body = req.body()
        try:
            async with asyncio.timeout(timeout):
                if resolved.lean:
                    assert resolved.api_base is not None
                    return await self._http.stream_chat(resolved.api_base, body, resolved.api_key())
                return await self._litellm.stream_chat(resolved, body, resolved.api_key(), timeout)
        except TimeoutError:
            raise CallError("timeout", f"no complete response within {timeout:g} s") from None

    async def call(
        self, req: CallRequest, prices: Prices | None = None, on_retry: RetryHook | None = None
    ) -> CallRecord:
        """Make the call with retries; return its record (status "ok" or "error")."""
        started = datetime.now(UTC)
        log = AttemptLog()
        outcome, attempts = await self.call_result(req, on_retry, log)
        if isinstance(outcome, CallError):
            record = self._error_record(req, outcome, attempts, started)
        else:
            await self.count_tokens(req, outcome)
            record = self._ok_record(req, outcome, attempts, started, prices)
        if log.errors:  # every attempt stays visible in the row
            record.retry_wait_s = round(log.waited_s, 6) if attempts > 1 else None
            record.attempt_errors = ", ".join(log.errors)
        return record

    async def count_tokens(self, req: CallRequest, result: StreamResult) -> None:
        """Fill in token counts the response did not carry, from the best source there is.

        See ``benchwork.client._tokens``: the server's tokenizer, ``max_tokens`` at a
        ``length`` finish, one token per chunk, a non-streamed usage probe, and litellm's
        tokenizer last (the only source flagged ``tokens_estimated``). Runs after the stream.
        """
        await self._tokens.fill(req, result)

    async def call_result(
        self,
        req: CallRequest,
        on_retry: RetryHook | None = None,
        log: AttemptLog | None = None,
    ) -> tuple[StreamResult | CallError, int]:
        """Attempt with retries: the StreamResult (or the last CallError) and the attempts made.

        The target's ``retry`` settings override the client's policy; ``log`` collects each
        failed attempt and the time waited, for the record.
        """
        policy = self.retry.with_overrides(req.resolved.target.retry)
        log = log if log is not None else AttemptLog()
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self.attempt(req), attempt
            except CallError as err:
                log.errors.append(
                    f"{err.http_status} {err.error_type}" if err.http_status else err.error_type
                )
                delay = policy.next_delay(attempt, err, log.waited_s)
                if delay is None:
                    return err, attempt
                if on_retry is not None:
                    maybe = on_retry(req, attempt, delay, err)
                    if maybe is not None:
                        await maybe
                await asyncio.sleep(delay)
                log.waited_s += delay

    async def converse(
        self,
        req: CallRequest,
        mock: MockTools,
        prices: Prices | None = None,
        on_retry: RetryHook | None = None,
    ) -> CallRecord:
        """A multi-turn tool conversation as ONE record (see ``benchwork.client._converse``)."""
        from benchwork.client._converse import converse

        return await converse(self, req, mock, prices, on_retry)

    def _base(self, req: CallRequest, attempt: int, started: datetime) -> CallRecord:
        t = req.resolved
        return CallRecord(
            run_id=req.run_id,
            case_id=req.case_id,
            target=t.target.name or t.target.model,
            model=t.target.model,
            provider=t.provider,
            repeat=req.repeat,
            warmup=req.warmup,
            attempts=attempt,
            started_at=started,
            cache_key=req.cache_key,
        )

    def _error_record(
        self, req: CallRequest, err: CallError, attempt: int, started: datetime
    ) -> CallRecord:
        rec = self._base(req, attempt, started)
        rec.status = "error"
        rec.http_status = err.http_status
        rec.error_type = err.error_type
        rec.error_message = clean_text(err.message)
        return rec

    def _ok_record(
        self,
        req: CallRequest,
        result: StreamResult,
        attempt: int,
        started: datetime,
        prices: Prices | None,
    ) -> CallRecord:
        rec = self._base(req, attempt, started)
        m = result.metrics()
        rec.http_status = result.http_status
        rec.finish_reason = result.finish_reason
        rec.response_model = result.response_model
        rec.system_fingerprint = result.system_fingerprint
        rec.output_text = clean_text(result.text)
        rec.tool_calls = clean_text(result.tool_calls_json())
        rec.tokens_estimated = result.tokens_estimated
        rec.tokens_source = result.tokens_source
        rec.input_tokens = result.input_tokens
        rec.output_tokens = result.output_tokens
        rec.latency_s = m["latency_s"]
        rec.ttft_s = m["ttft_s"]
        rec.chunks = m["chunks"]
        rec.itl_mean_s, rec.itl_p50_s, rec.itl_p95_s = (
            m["itl_mean_s"],
            m["itl_p50_s"],
            m["itl_p95_s"],
        )
        rec.output_tps = m["output_tps"]
        if rec.ttft_s and rec.input_tokens:
            rec.prefill_tps = rec.input_tokens / rec.ttft_s
        rec.cost_usd = call_cost(prices, rec.input_tokens, rec.output_tokens)
        return rec


async def context_tiers(
    target: Target,
    tiers: Sequence[int] = (1_000, 4_000, 16_000),
    *,
    repeats: int = 3,
    max_tokens: int = 16,
    window: int | None = None,
    shared_prefix: bool = False,
) -> pl.DataFrame:
    """The same model at growing prompt sizes: one row per call with TTFT and prefill tok/s.

    Prompts are exactly ``tier`` tokens by the server's own tokenizer where it has one (else
    approximate, with a note); each has its own filler, so no call hits a prefix cache unless
    ``shared_prefix``; tiers past the context window are skipped with a note. See
    ``benchwork.client._tiers``; ``summarize_tiers`` gives one line per tier.
    """
    client = Client()
    try:
        return await run_tiers(
            client,
            CallRequest,
            target,
            tiers,
            repeats=repeats,
            max_tokens=max_tokens,
            window=window,
            shared_prefix=shared_prefix,
        )
    finally:
        await client.close()


def context_tiers_sync(
    target: Target,
    tiers: Sequence[int] = (1_000, 4_000, 16_000),
    *,
    repeats: int = 3,
    max_tokens: int = 16,
    window: int | None = None,
    shared_prefix: bool = False,
) -> pl.DataFrame:
    """``context_tiers`` from synchronous code (a script, or a notebook cell)."""
    from benchwork._util.sync import run_blocking

    return run_blocking(
        lambda: context_tiers(
            target,
            tiers,
            repeats=repeats,
            max_tokens=max_tokens,
            window=window,
            shared_prefix=shared_prefix,
        )
    )
