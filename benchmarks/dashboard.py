"""Cost of watching: TTFT error with a Dashboard attached vs the same runs without one.

One `benchwork sim` process (first token at +200 ms, then every 20 ms, 50 tokens); at each
level of concurrent streams, benchwork runs ``--calls`` calls bare (the baseline, measured in
the same run) and with a ``Dashboard`` following the run: every event flows into the widget's
Python side (aggregation, throttled trait pushes, and the JSON encoding of each pushed state
that a kernel would send; no front end is needed for that).

The design resolves a sub-millisecond difference on a shared 2-core machine: ``--rounds``
rounds, each running every mode once in an order that alternates (AB, BA, ...) so a drift of
the machine hits all modes alike. Each round gives a watched/bare ratio of median |TTFT
error|; the figure is their geometric mean with a 95 % t-interval on the mean log ratio
(paired by round: what a round's runs share, the machine's load then, cancels). Verdict:
*within* when the interval's upper end is <= 1.1, *over* when its lower end is > 1.1,
otherwise *not resolved* (run more rounds). The error columns are medians over all calls.
Also printed: how many states the widget pushed, its Python time per event (pushes
included), the share of the run's wall time it kept the event loop busy, and its longest
single handler or push (the most it can have delayed one token's timestamp). With
``--unthrottled`` a third row, the dashboard with throttling off (a push on the loop's next
turn after any event), shows what throttling saves.

    python benchmarks/dashboard.py [--levels 10,50] [--calls 50] [--rounds 40] [--unthrottled]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
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
    """A Dashboard that also adds up the time it keeps the loop busy: its event handler and its
    (timer-driven) pushes, each timed once at the outermost call."""
    from benchwork.widgets import Dashboard

    class Timed(Dashboard):
        def __init__(self, *a: Any, **kw: Any) -> None:
            self.spent_s = 0.0
            self.worst_s = 0.0
            self.events = 0
            self._depth = 0
            super().__init__(*a, max_updates_per_s=max_updates_per_s, **kw)

        def _timed(self, fn: Any, *args: Any) -> None:
            self._depth += 1
            t0 = time.perf_counter()
            try:
                fn(*args)
            finally:
                self._depth -= 1
                if self._depth == 0:
                    took = time.perf_counter() - t0
                    self.spent_s += took
                    self.worst_s = max(self.worst_s, took)

        def _push(self) -> None:
            def push() -> None:
                super(Timed, self)._push()
                # what the kernel's session does with the change (no kernel here): encode it
                json.dumps(self.get_state("runs"))

            self._timed(push)

        def _on_event(self, run_id: str, event: Any) -> None:
            self.events += 1
            self._timed(super()._on_event, run_id, event)

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


def ttft_errors_ms(samples: list[tuple[float, float]]) -> list[float]:
    return [abs(t - TTFT) * 1000 for t, _ in samples]


def latency_errors_ms(samples: list[tuple[float, float]]) -> list[float]:
    return [abs(lat - EXPECTED_LATENCY) * 1000 for _, lat in samples]


def ratio_interval(
    watched: list[list[float]], bare: list[list[float]]
) -> tuple[float, float, float]:
    """Watched/bare ratio of median |TTFT error|, paired by round, with a 95 % interval.

    Each round gives one ratio (its watched run's median over its bare run's); the estimate
    is their geometric mean and the interval a t-interval on the mean log ratio. Pairing by
    round removes what the two runs of a round share (the machine's load at the time), which
    is most of the run-to-run spread on a shared machine.
    """
    import numpy as np
    from scipy import stats

    logs = np.log([median(w) / median(b) for w, b in zip(watched, bare, strict=True)])
    n = len(logs)
    mean = float(logs.mean())
    half = float(stats.t.ppf(0.975, n - 1) * logs.std(ddof=1) / np.sqrt(n)) if n > 1 else np.inf
    return math.exp(mean), math.exp(mean - half), math.exp(mean + half)


async def _warm(base: str) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as s:
        await raw_aiohttp_call(s, base, "m", "warm")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--levels", default="10,50")
    parser.add_argument("--calls", type=int, default=50, help="calls per run (at least 4x streams)")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--updates", type=float, default=5.0, help="dashboard updates per s")
    parser.add_argument(
        "--unthrottled", action="store_true", help="add the contrast row: a push per event"
    )
    args = parser.parse_args()
    env_for_bench()
    levels = [int(x) for x in args.levels.split(",")]
    model = {"name": "m", "ttft_s": TTFT, "itl_s": ITL, "tokens": TOKENS}
    modes: list[tuple[str, float | None]] = [("bare", None), ("dashboard", args.updates)]
    if args.unthrottled:
        modes.append(("unthrottled", 1e9))
    print(
        f"sim schedule: TTFT {TTFT * 1000:.0f} ms, {TOKENS} tokens every {ITL * 1000:.0f} ms "
        f"(latency {EXPECTED_LATENCY * 1000:.0f} ms); {args.rounds} rounds, modes in "
        f"alternating order; median |error| in ms over all calls of a mode; ratio to bare "
        f"paired by round, with a 95 % interval; dashboard at most {args.updates:g} updates/s"
    )
    print(
        f"{'streams':>7} {'mode':<12} {'calls':>6} {'TTFT err':>9} {'latency err':>12} "
        f"{'TTFT ratio [95 % CI]':>22} {'pushes':>7} {'µs/event':>9} {'busy %':>7} "
        f"{'worst ms':>9}"
    )
    verdicts = []
    with sim_process([model]) as base, tempfile.TemporaryDirectory() as home:
        asyncio.run(_warm(base))
        asyncio.run(run_benchwork(base, 1, 2, home, None))  # imports, litellm, first connection
        # the first Dashboard imports the widget stack: its garbage (100 gen-0 and 9 gen-1
        # collections, ~40 ms) was collected during the first watched round
        asyncio.run(run_benchwork(base, 1, 2, home, args.updates))
        for streams in levels:
            calls = max(args.calls, 4 * streams)  # the first of the waves is connecting
            samples: dict[str, list[list[tuple[float, float]]]] = {m: [] for m, _ in modes}
            infos: dict[str, list[dict[str, float]]] = {m: [] for m, _ in modes}
            for r in range(args.rounds):
                order = modes if r % 2 == 0 else modes[::-1]  # AB, BA: drift hits all modes alike
                for name, watch in order:
                    got, info = asyncio.run(run_benchwork(base, streams, calls, home, watch))
                    samples[name].append(got)
                    infos[name].append(info)
            bare_ttft = [ttft_errors_ms(s) for s in samples["bare"]]
            for name, _ in modes:
                ttft = [ttft_errors_ms(s) for s in samples[name]]
                lat = [e for s in samples[name] for e in latency_errors_ms(s)]
                pooled = [e for x in ttft for e in x]
                if name == "bare":
                    ratio_txt = f"{'1.00x':>22}"
                else:
                    point, lo, hi = ratio_interval(ttft, bare_ttft)
                    ratio_txt = f"{f'{point:.2f}x [{lo:.2f}, {hi:.2f}]':>22}"
                    if name == "dashboard":
                        verdicts.append((streams, point, lo, hi))
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
                    f"{streams:>7} {name:<12} {len(pooled):>6} {median(pooled):>9.2f} "
                    f"{median(lat):>12.2f} {ratio_txt} {extra}",
                    flush=True,
                )
    for streams, point, lo, hi in verdicts:
        if hi <= TARGET_RATIO:
            verdict = f"within the {TARGET_RATIO}x target"
        elif lo > TARGET_RATIO:
            verdict = f"OVER the {TARGET_RATIO}x target"
        else:
            verdict = f"not resolved against the {TARGET_RATIO}x target: run more rounds"
        print(
            f"{streams} streams: TTFT error with the dashboard is {point:.2f}x the bare run's "
            f"(95 % CI {lo:.2f}-{hi:.2f}): {verdict}"
        )


if __name__ == "__main__":
    main()
