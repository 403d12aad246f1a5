"""Throughput: calls/s at 50 and 200 concurrent streams on a zero-delay sim.

benchwork (cache off, journal on, full records) vs a raw aiohttp client (baseline), both
against one `benchwork sim` process whose model answers 20 tokens with no delay.
Target: benchwork >= 50 % of raw aiohttp's calls/s. The two are measured in alternation for
``--rounds`` rounds and each figure is the median over rounds (one round swings ±25 % here).

    python benchmarks/throughput.py [--calls 3000] [--levels 50,200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import aiohttp
from _common import env_for_bench, raw_aiohttp_call, sim_process


async def raw(base: str, streams: int, calls: int) -> float:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as s:
        sem = asyncio.Semaphore(streams)

        async def one(i: int) -> None:
            async with sem:
                await raw_aiohttp_call(s, base, "z", f"prompt {i}")

        t0 = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(calls)))
        return calls / (time.perf_counter() - t0)


async def bench(base: str, streams: int, calls: int, home: str) -> float:
    import benchwork as bw

    suite = bw.Suite(
        name="tp", cases=[bw.Case(id=str(i), input=f"prompt {i}") for i in range(calls)]
    )
    target = bw.Target("openai/z", api_base=base, concurrency=streams)
    t0 = time.perf_counter()
    run = await bw.run(suite, [target], cache="off", home=home, progress=False)
    rate = calls / (time.perf_counter() - t0)
    assert run.results.height == calls and (run.results["status"] == "ok").all()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--levels", default="50,200")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    env_for_bench()
    model = {"name": "z", "ttft_s": 0.0, "itl_s": 0.0, "tokens": 20}
    print(f"zero-delay sim, 20 tokens per call, {args.calls} calls per measurement")
    print(f"{'streams':>7} {'raw aiohttp':>12} {'benchwork':>10} {'ratio':>7}")
    with sim_process([model]) as base, tempfile.TemporaryDirectory() as home:
        asyncio.run(raw(base, 10, 200))  # warm the sim
        asyncio.run(bench(base, 10, 200, home))  # load the engine outside the timed runs
        for streams in [int(x) for x in args.levels.split(",")]:
            rs, bs = [], []
            for _ in range(args.rounds):
                rs.append(asyncio.run(raw(base, streams, args.calls)))
                bs.append(asyncio.run(bench(base, streams, args.calls, home)))
            r, b = sorted(rs)[len(rs) // 2], sorted(bs)[len(bs) // 2]
            print(f"{streams:>7} {r:>10.0f}/s {b:>8.0f}/s {b / r:>6.2f}x")


if __name__ == "__main__":
    main()
