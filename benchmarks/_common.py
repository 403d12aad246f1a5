"""Shared helpers for benchmarks: a sim in its own process, and a raw aiohttp baseline."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp


@contextmanager
def sim_process(models: list[dict]) -> Iterator[str]:
    """`benchwork sim` in its own process (so it does not share our GIL); yields the base URL."""
    from benchwork.sim import SimModel, SimProcess

    with SimProcess([SimModel(**m) for m in models]) as sim:
        yield sim.base_url


async def raw_aiohttp_call(
    session: aiohttp.ClientSession, base: str, model: str, prompt: str
) -> tuple[float, float]:
    """The leanest client we can write: returns (ttft_s, latency_s) by the same definitions."""
    body = json.dumps(
        {
            "model": model,
            "messages": [{"role": "user", "content": prompt}],
            "stream": True,
            "stream_options": {"include_usage": True},
        }
    )
    t0 = time.perf_counter()
    first = None
    async with session.post(
        f"{base}/chat/completions", data=body, headers={"Content-Type": "application/json"}
    ) as resp:
        async for line in resp.content:
            if not line.startswith(b"data:"):
                continue
            data = line[5:].strip()
            if data == b"[DONE]":
                break
            if first is None:
                chunk = json.loads(data)
                choices = chunk.get("choices") or []
                if choices and (choices[0].get("delta") or {}).get("content"):
                    first = time.perf_counter()
    return (first or time.perf_counter()) - t0, time.perf_counter() - t0


def median(xs: list[float]) -> float:
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def env_for_bench() -> None:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
