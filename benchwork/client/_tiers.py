"""Context tiers: one model at growing prompt sizes, showing how TTFT and prefill rate degrade.

Each tier's prompt is built to an exact token length with the server's own tokenizer (see
``_tokens``): the chat template's share is measured once on a short calibration prompt, then
filler words are added until the text's own count makes up the rest. Every repeat of every
tier gets its own filler (seeded by tier and repeat), so no prompt shares a cacheable prefix
with another unless ``shared_prefix=True``. The input tokens actually sent are recorded per
call, from the same sources as any call, so an off-by-one shows.

The context window comes from the ``window`` argument, the server (llama.cpp ``/props``,
vLLM's ``/v1/models`` ``max_model_len``), litellm, or a server's "exceeds context window of
N" error; tiers that do not fit (prompt + ``max_tokens``) are skipped with a note.
"""

from __future__ import annotations

import dataclasses
import random
import re
import statistics
from collections.abc import Callable, Sequence
from typing import Any

import polars as pl

from benchwork.client._errors import CallError
from benchwork.client._tokens import TokenCounter, server_root
from benchwork.target import ResolvedTarget, Target

__all__ = ["TIER_COLUMNS", "parse_tiers", "run_tiers", "summarize_tiers"]

_WORDS = (
    "river stone lantern orchard meadow harbor copper velvet thunder maple quiet ember "
    "glacier canyon willow saffron marble falcon compass island cedar prairie beacon "
    "crystal summit garden timber violet anchor ribbon meadowlark pepper silver autumn "
    "window candle forest valley planet bridge market winter signal pocket basket mirror "
    "harvest shadow feather ladder marsh tunnel garnet pebble sparrow cobalt lemon ocean"
).split()
_PAD = " the"  # added one at a time to close the last few tokens of a tier
_WINDOW_ERROR = re.compile(r"context (?:window|length)[^0-9]{0,40}(\d{3,7})", re.IGNORECASE)

#: Columns of the per-call frame ``context_tiers`` returns.
TIER_COLUMNS: dict[str, pl.DataType] = {
    "target": pl.String(),
    "tier": pl.Int64(),
    "case_id": pl.String(),
    "repeat": pl.Int64(),
    "warmup": pl.Boolean(),
    "cached": pl.Boolean(),
    "status": pl.String(),
    "note": pl.String(),
    "input_tokens": pl.Int64(),
    "tokens_source": pl.String(),
    "ttft_s": pl.Float64(),
    "prefill_tps": pl.Float64(),
    "output_tokens": pl.Int64(),
    "output_tps": pl.Float64(),
    "itl_mean_s": pl.Float64(),
    "latency_s": pl.Float64(),
}


def parse_tiers(text: str) -> list[int]:
    """``"1k,4k,16k"`` -> ``[1000, 4000, 16000]`` (``k`` = 1000, ``m`` = 1000000)."""
    out: list[int] = []
    for part in text.split(","):
        part = part.strip().lower().replace("_", "")
        scale = 1_000 if part.endswith("k") else 1_000_000 if part.endswith("m") else 1
        digits = part[:-1] if scale > 1 else part
        try:
            value = int(float(digits) * scale)
        except ValueError:
            raise ValueError(f"bad tier {part!r}: expected a token count like 1000 or 4k") from None
        if value < 1:
            raise ValueError(f"bad tier {part!r}: a tier must be at least 1 token")
        out.append(value)
    return out


def _filler(tier: int, repeat: int, shared: bool) -> random.Random:
    return random.Random("shared" if shared else f"tier:{tier}:{repeat}")


async def run_tiers(
    client: Any,
    request: Callable[..., Any],
    target: Target,
    tiers: Sequence[int],
    *,
    repeats: int = 3,
    max_tokens: int = 16,
    window: int | None = None,
    shared_prefix: bool = False,
) -> pl.DataFrame:
    """Run ``target`` at each prompt size in ``tiers`` with ``client`` (a ``Client``), making
    requests with ``request`` (``CallRequest``); one row per call (``TIER_COLUMNS``).

    The rows carry ``target``, ``case_id``, ``warmup`` and ``cached`` like a run's results, so
    ``benchwork.analysis.leaderboard(rows, by="tier")`` gives each tier's TTFT, latency and
    output tok/s with their intervals.
    """
    if repeats < 1 or max_tokens < 1:
        raise ValueError("repeats and max_tokens must be at least 1")
    resolved = dataclasses.replace(target, params={**target.params, "max_tokens": max_tokens})
    resolved = resolved.resolve()
    counter: TokenCounter = client._tokens
    rows: list[dict[str, Any]] = []
    probe = request("tiers", "calibrate", resolved, [_user("calibrate")])
    window = window or await _window(client, resolved)
    exact = await counter.server_kind(probe) is not None
    overhead = await _overhead(counter, probe) if exact else None
    for tier in sorted(tiers):
        for repeat in range(repeats):
            row: dict[str, Any] = {
                "target": target.name or target.model,
                "tier": tier,
                "case_id": f"tier-{tier}",
                "repeat": repeat,
                "warmup": False,
                "cached": False,
            }
            if window is not None and tier + max_tokens > window:
                row.update(status="skipped", note=f"beyond the context window ({window})")
                rows.append(row)
                continue
            text, note = await _prompt(counter, probe, tier, repeat, shared_prefix, overhead)
            req = request("tiers", f"tier-{tier}", resolved, [_user(text)], repeat=repeat)
            rec = await client.call(req)
            row.update(
                status=rec.status,
                note=note if rec.ok else rec.error_message,
                input_tokens=rec.input_tokens,
                tokens_source=rec.tokens_source,
                ttft_s=rec.ttft_s,
                prefill_tps=rec.prefill_tps,
                output_tokens=rec.output_tokens,
                output_tps=rec.output_tps,
                itl_mean_s=rec.itl_mean_s,
                latency_s=rec.latency_s,
            )
            rows.append(row)
            match = None if rec.ok else await _window_error(client, req, rec.error_message)
            if match is not None:
                window = int(match.group(1))
                row.update(status="skipped", note=f"beyond the context window ({window})")
    return pl.DataFrame(
        [{c: r.get(c) for c in TIER_COLUMNS} for r in rows], schema=TIER_COLUMNS, orient="row"
    )


def summarize_tiers(frame: pl.DataFrame) -> pl.DataFrame:
    """One line per tier: medians (and ranges) of TTFT, prefill and output tok/s over ok calls."""
    out = []
    for tier in sorted(set(frame["tier"].to_list())):
        part = frame.filter(pl.col("tier") == tier)
        ok = part.filter(pl.col("status") == "ok")

        def med(col: str, ok: pl.DataFrame = ok) -> float | None:
            vals = [v for v in ok[col].to_list() if v is not None]
            return statistics.median(vals) if vals else None

        def span(col: str, ok: pl.DataFrame = ok) -> tuple[float | None, float | None]:
            vals = [v for v in ok[col].to_list() if v is not None]
            return (min(vals), max(vals)) if vals else (None, None)

        notes = sorted({n for n in part["note"].to_list() if n})
        out.append(
            {
                "tier": tier,
                "calls": ok.height,
                "input_tokens": med("input_tokens"),
                "ttft_p50_s": med("ttft_s"),
                "ttft_min_s": span("ttft_s")[0],
                "ttft_max_s": span("ttft_s")[1],
                "prefill_tps_p50": med("prefill_tps"),
                "output_tps_p50": med("output_tps"),
                "note": "; ".join(notes) or None,
            }
        )
    return pl.DataFrame(out)


def _user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


async def _overhead(counter: TokenCounter, probe: Any) -> int | None:
    """Tokens the chat template (and BOS) add around a user message, from a short prompt."""
    whole = await counter.prompt_tokens(probe)
    text = await counter.text_tokens(probe, "calibrate")
    return None if whole is None or text is None else whole[0] - text


async def _prompt(
    counter: TokenCounter, probe: Any, tier: int, repeat: int, shared: bool, overhead: int | None
) -> tuple[str, str | None]:
    """Filler text whose conversation is ``tier`` tokens, and a note when it is not exact."""
    rng = _filler(tier, repeat, shared)
    words = [rng.choice(_WORDS) for _ in range(tier + 8)]
    if overhead is None:  # no server tokenizer: about one token per word, and said so
        return " ".join(words[: max(1, tier - 8)]), "approximate length (no server tokenizer)"
    goal = tier - overhead

    async def count(text: str) -> int:
        n = await counter.text_tokens(probe, text)
        return n if n is not None else len(text.split())

    lo, hi = 0, len(words)  # the most words whose text fits in ``goal`` tokens
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if await count(" ".join(words[:mid])) <= goal:
            lo = mid
        else:
            hi = mid - 1
    text = " ".join(words[:lo])
    have = await count(text)
    while have < goal:
        longer = text + _PAD
        n = await count(longer)
        if n > goal:
            break
        text, have = longer, n
    return text, None if have == goal else f"prompt is {have + overhead} tokens, not {tier}"


async def _window_error(client: Any, req: Any, message: str | None) -> re.Match[str] | None:
    """The context window named by a failed call's error, asking once more without streaming
    when the stream just broke off (llama-cpp-python fails a too-long prompt mid-stream, but
    answers the same request unstreamed with a 400 naming its window)."""
    match = _WINDOW_ERROR.search(message or "")
    resolved = req.resolved
    if match is not None or not (resolved.lean and resolved.api_base):
        return match
    body = req.body()
    body["stream"] = False
    body.pop("stream_options", None)
    for _ in range(2):  # the pooled connection may be the one the broken stream left dead
        try:
            await client._http.stream_chat(resolved.api_base, body, resolved.api_key())
        except CallError as err:
            match = _WINDOW_ERROR.search(err.message)
            if match is not None or err.http_status is not None:
                return match
        else:
            return None
    return None


async def _window(client: Any, resolved: ResolvedTarget) -> int | None:
    """The context window: the server's (llama.cpp /props, vLLM /v1/models), else litellm's."""
    if resolved.lean and resolved.api_base:
        http, key = client._http, resolved.api_key()
        props = await http.post_json(f"{server_root(resolved.api_base)}/props", None, key)
        if isinstance(props, dict):
            settings = props.get("default_generation_settings") or {}
            n = settings.get("n_ctx") or props.get("n_ctx")
            if isinstance(n, int) and n > 0:
                return n
        models = await http.post_json(f"{resolved.api_base}/models", None, key)
        for m in (models or {}).get("data") or () if isinstance(models, dict) else ():
            if isinstance(m, dict) and m.get("id") == resolved.model_name:
                n = m.get("max_model_len") or m.get("context_length")
                if isinstance(n, int) and n > 0:
                    return n
    try:
        from benchwork._util.litellm import get_litellm

        info = get_litellm().get_model_info(resolved.target.model)
        n = info.get("max_input_tokens") or info.get("max_tokens")
        return int(n) if n else None
    except Exception:
        return None
