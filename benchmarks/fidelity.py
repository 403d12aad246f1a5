"""Timing fidelity: TTFT and latency error against the sim's schedule at 1, 10 and 50 streams.

Compares benchwork, a raw aiohttp client (baseline) and ``litellm.acompletion`` in one run,
all against one `benchwork sim` process (first token at +200 ms, then every 20 ms, 50 tokens).
Prints median errors in ms and benchwork's ratio to raw aiohttp (target: ratio <= 1.5), and
benchwork's output tok/s error against the schedule's 50 tok/s (target: <= 5 %).
Raw and benchwork are measured in alternation for ``--rounds`` rounds and each figure is the
median over rounds: on 2 shared cores a single round swings by 2x either way.

    python benchmarks/fidelity.py [--levels 1,10,50] [--calls 50] [--rounds 3]
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
from _common import env_for_bench, median, raw_aiohttp_call, sim_process

TTFT, ITL, TOKENS = 0.200, 0.020, 50
EXPECTED_LATENCY = TTFT + (TOKENS - 1) * ITL
#: benchwork's output tok/s per call, per level (the schedule's rate is 1 / ITL = 50 tok/s)
RATES: list[float] = []


async def run_raw(base: str, streams: int, calls: int) -> list[tuple[float, float]]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as s:
        sem = asyncio.Semaphore(streams)

        async def one(i: int) -> tuple[float, float]:
            async with sem:
                return await raw_aiohttp_call(s, base, "m", f"prompt {i}")

        return await asyncio.gather(*(one(i) for i in range(calls)))


async def run_litellm(base: str, streams: int, calls: int) -> list[tuple[float, float]]:
    from benchwork._util.litellm import get_litellm

    litellm = get_litellm()
    sem = asyncio.Semaphore(streams)

    async def one(i: int) -> tuple[float, float]:
        async with sem:
            t0 = time.perf_counter()
            first = None
            resp = await litellm.acompletion(
                model="openai/m",
                api_base=base,
                api_key="x",
                stream=True,
                max_retries=0,
                messages=[{"role": "user", "content": f"prompt {i}"}],
            )
            async for chunk in resp:
                if first is None and chunk.choices and chunk.choices[0].delta.content:
                    first = time.perf_counter()
            return (first or time.perf_counter()) - t0, time.perf_counter() - t0

    return await asyncio.gather(*(one(i) for i in range(calls)))


async def run_benchwork(
    base: str, streams: int, calls: int, home: str
) -> list[tuple[float, float]]:
    import benchwork as bw

    suite = bw.Suite(
        name="fidelity", cases=[bw.Case(id=str(i), input=f"prompt {i}") for i in range(calls)]
    )
    target = bw.Target("openai/m", api_base=base, concurrency=streams)
    run = await bw.run(suite, [target], cache="off", home=home, progress=False)
    df = run.results
    RATES.extend(x for x in df["output_tps"].to_list() if x is not None)
    return list(zip(df["ttft_s"].to_list(), df["latency_s"].to_list(), strict=True))


def errors_ms(samples: list[tuple[float, float]]) -> tuple[float, float]:
    return (
        median([abs(t - TTFT) for t, _ in samples]) * 1000,
        median([abs(lat - EXPECTED_LATENCY) for _, lat in samples]) * 1000,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1,10,50")
    parser.add_argument("--calls", type=int, default=50, help="calls per level (>= streams)")
    parser.add_argument("--no-litellm", action="store_true")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    env_for_bench()
    levels = [int(x) for x in args.levels.split(",")]
    model = {"name": "m", "ttft_s": TTFT, "itl_s": ITL, "tokens": TOKENS}
    print(
        f"sim schedule: TTFT {TTFT * 1000:.0f} ms, {TOKENS} tokens every {ITL * 1000:.0f} ms "
        f"(latency {EXPECTED_LATENCY * 1000:.0f} ms); median |error| in ms"
    )
    print(f"{'streams':>7} {'client':<10} {'TTFT err':>9} {'latency err':>12} {'TTFT ratio':>11}")
    with sim_process([model]) as base, tempfile.TemporaryDirectory() as home:
        asyncio.run(run_raw(base, 1, 2))  # warm the sim process
        for streams in levels:
            calls = max(args.calls, streams)
            raws, bws = [], []
            for _ in range(args.rounds):  # alternate, so drifts in the machine hit both alike
                raws.append(errors_ms(asyncio.run(run_raw(base, streams, calls))))
                bws.append(errors_ms(asyncio.run(run_benchwork(base, streams, calls, home))))
            raw = (median([r[0] for r in raws]), median([r[1] for r in raws]))
            bwk = (median([b[0] for b in bws]), median([b[1] for b in bws]))
            rows = [("raw-aiohttp", raw), ("benchwork", bwk)]
            if not args.no_litellm:
                rows.append(("litellm", errors_ms(asyncio.run(run_litellm(base, streams, calls)))))
            for name, (ttft_e, lat_e) in rows:
                ratio = ttft_e / raw[0] if raw[0] > 0 else float("nan")
                print(f"{streams:>7} {name:<10} {ttft_e:>9.1f} {lat_e:>12.1f} {ratio:>10.2f}x")
            rate_err = median([abs(r * ITL - 1) for r in RATES]) * 100
            print(f"{'':>7} benchwork output tok/s: median |error| {rate_err:.1f} % of 1/ITL")
            RATES.clear()


if __name__ == "__main__":
    main()
