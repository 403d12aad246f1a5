"""Cost of watching: TTFT error with a Dashboard attached vs the same runs without one.

One `benchwork sim` process (first token at +200 ms, then every 20 ms, 50 tokens); at each
level of concurrent streams, benchwork runs ``--calls`` calls bare (the baseline, measured in
the same run) and with a ``Dashboard`` following the run: every event flows into the widget's
Python side (aggregation, throttled trait pushes, and the JSON encoding of each pushed state
that a kernel would send; no front end is needed for that). Prints median |TTFT error| and |latency error| in ms, the watched/bare TTFT
ratio (target: <= 1.1), how many states the widget pushed, its Python time per event, the
share of the run's wall time it kept the event loop busy, and its longest single handler call
(the most it can have delayed one token's timestamp).
A third row, the dashboard with throttling off (a push per event), shows what throttling saves.
Bare and watched runs alternate for ``--rounds`` rounds; each figure is the median over rounds
(on 2 shared cores a single round swings by 2x either way).

    python benchmarks/dashboard.py [--levels 10,50] [--calls 100] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _common import env_for_bench, median, raw_aiohttp_call, sim_process

TTFT, ITL, TOKENS = 0.200, 0.020, 50
EXPECTED_LATENCY = TTFT + (TOKENS - 1) * ITL
TARGET_RATIO = 1.1


def _timed_dashboard(max_updates_per_s: float) -> Any:
    """A Dashboard that also adds up the time its event handler takes (pushes included)."""
    from benchwork.widgets import Dashboard

    class Timed(Dashboard):
        def __init__(self, *a: Any, **kw: Any) -> None:
            self.spent_s = 0.0
            self.worst_s = 0.0
            self.events = 0
            super().__init__(*a, max_updates_per_s=max_updates_per_s, **kw)

        def _push(self) -> None:
            super()._push()
            # what the kernel's session does with the change (no kernel here): JSON-encode it
            json.dumps(self.get_state("runs"))

        def _on_event(self, run_id: str, event: Any) -> None:
            t0 = time.perf_counter()
            super()._on_event(run_id, event)
            took = time.perf_counter() - t0
            self.spent_s += took
            self.worst_s = max(self.worst_s, took)
            self.events += 1

    return Timed


async def run_benchwork(
    base: str, streams: int, calls: int, home: str, watch: float | None
) -> tuple[list[tuple[float, float]], dict[str, float]]:
    """One run; with *watch* (updates per second) a Dashboard follows it."""
    import benchwork as bw

    suite = bw.Suite(
        name="dashboard-bench",
        cases=[bw.Case(id=str(i), input=f"prompt {i}") for i in range(calls)],
    )
    target = bw.Target("openai/m", api_base=base, concurrency=streams)
    t0 = time.perf_counter()
    handle = bw.start(suite, [target], cache="off", home=home, progress=False)
    info: dict[str, float] = {}
    dash = _timed_dashboard(watch)(handle) if watch is not None else None
    run = await handle
    if dash is not None:
        assert dash.runs[0]["done"] == calls, dash.runs  # it really followed the whole run
        info = {
            "pushes": dash.pushes,
            "us_per_event": dash.spent_s / max(dash.events, 1) * 1e6,
            "busy_pct": dash.spent_s / (time.perf_counter() - t0) * 100,
            "worst_ms": dash.worst_s * 1000,
        }
        dash.close()
    df = run.results
    return list(zip(df["ttft_s"].to_list(), df["latency_s"].to_list(), strict=True)), info


def errors_ms(samples: list[tuple[float, float]]) -> tuple[float, float]:
    return (
        median([abs(t - TTFT) for t, _ in samples]) * 1000,
        median([abs(lat - EXPECTED_LATENCY) for _, lat in samples]) * 1000,
    )


async def _warm(base: str) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as s:
        await raw_aiohttp_call(s, base, "m", "warm")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--levels", default="10,50")
    parser.add_argument("--calls", type=int, default=100, help="calls per run (>= streams)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--updates", type=float, default=5.0, help="dashboard updates per s")
    parser.add_argument("--no-unthrottled", action="store_true", help="skip the contrast row")
    args = parser.parse_args()
    env_for_bench()
    levels = [int(x) for x in args.levels.split(",")]
    model = {"name": "m", "ttft_s": TTFT, "itl_s": ITL, "tokens": TOKENS}
    modes: list[tuple[str, float | None]] = [("bare", None), ("dashboard", args.updates)]
    if not args.no_unthrottled:
        modes.append(("unthrottled", 1e9))
    print(
        f"sim schedule: TTFT {TTFT * 1000:.0f} ms, {TOKENS} tokens every {ITL * 1000:.0f} ms "
        f"(latency {EXPECTED_LATENCY * 1000:.0f} ms); median |error| in ms over {args.rounds} "
        f"rounds; dashboard at most {args.updates:g} updates/s"
    )
    print(
        f"{'streams':>7} {'mode':<12} {'TTFT err':>9} {'latency err':>12} {'TTFT ratio':>11} "
        f"{'pushes':>7} {'µs/event':>9} {'busy %':>7} {'worst ms':>9}"
    )
    verdicts = []
    with sim_process([model]) as base, tempfile.TemporaryDirectory() as home:
        asyncio.run(_warm(base))
        asyncio.run(run_benchwork(base, 1, 2, home, None))  # imports, litellm, first connection
        for streams in levels:
            calls = max(args.calls, streams)
            errs: dict[str, list[tuple[float, float]]] = {m: [] for m, _ in modes}
            infos: dict[str, list[dict[str, float]]] = {m: [] for m, _ in modes}
            for _ in range(args.rounds):  # alternate, so drifts in the machine hit all alike
                for name, watch in modes:
                    samples, info = asyncio.run(run_benchwork(base, streams, calls, home, watch))
                    errs[name].append(errors_ms(samples))
                    infos[name].append(info)
            bare_ttft = median([e[0] for e in errs["bare"]])
            for name, _ in modes:
                ttft_e = median([e[0] for e in errs[name]])
                lat_e = median([e[1] for e in errs[name]])
                ratio = ttft_e / bare_ttft if bare_ttft > 0 else float("nan")
                got = [i for i in infos[name] if i]
                extra = (
                    f"{median([i['pushes'] for i in got]):>7.0f} "
                    f"{median([i['us_per_event'] for i in got]):>9.1f} "
                    f"{median([i['busy_pct'] for i in got]):>7.3f} "
                    f"{max(i['worst_ms'] for i in got):>9.2f}"
                    if got
                    else f"{'-':>7} {'-':>9} {'-':>7} {'-':>9}"
                )
                print(
                    f"{streams:>7} {name:<12} {ttft_e:>9.2f} {lat_e:>12.2f} {ratio:>10.2f}x {extra}"
                )
                if name == "dashboard":
                    verdicts.append((streams, ratio))
    for streams, ratio in verdicts:
        ok = "within" if ratio <= TARGET_RATIO else "OVER"
        print(
            f"{streams} streams: TTFT error with the dashboard is {ratio:.2f}x the bare run's "
            f"({ok} the {TARGET_RATIO}x target)"
        )


if __name__ == "__main__":
    main()
