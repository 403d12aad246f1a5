"""Shared helpers for benchmarks: a sim in its own process, and a raw aiohttp baseline."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def sim_process(models: list[dict]) -> Iterator[str]:
    """Run `benchwork sim` in its own process (so it does not share our GIL); yield base URL."""
    import yaml

    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "models.yaml"
        path.write_text(yaml.safe_dump(models))
        proc = subprocess.Popen(
            [sys.executable, "-m", "benchwork.sim", "--port", str(port), "--models", str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            line = proc.stdout.readline() if proc.stdout else ""
            if "serving" not in line:
                raise RuntimeError(f"sim did not start: {line}")
            yield f"http://127.0.0.1:{port}/v1"
        finally:
            proc.terminate()
            proc.wait(10)


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
