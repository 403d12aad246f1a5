"""Cache benchmark: a 10,000-call suite re-run entirely from the cache.

What it does:

1. Builds a suite of ``--cases`` cases (default 2,000) run ``--repeats`` times (default 5):
   10,000 calls on one target, an in-process zero-delay simulated model, ``exact`` scorer.
2. Fill: runs it once so every call is stored in a fresh cache (timed, but not the target).
3. Re-run: ``await bw.run(...)`` again ``--runs`` times (default 3), each timed end to end,
   from the ``bw.run`` call to the returned Run with its ``results`` frame built. Every call
   must come from the cache: the sim's request log must stay empty. Then once more with
   ``cache="replay"`` (how reports re-run offline: every key is checked before any work).
4. One more re-run through ``bw.start`` with an event subscriber, to split the time into
   phases: plan (keys for 10,000 calls) and store setup, the hits themselves (lookup,
   scoring, journal line, event), and the finish (results frame, parquet, manifest).

Target: median re-run <= 3 s with 0 requests sent. Prints a table of the figures, the
per-call overhead of a hit (total / calls) and the progress line a user sees; exits 1 if the
target is missed or any request was sent.

    python benchmarks/cache.py [--cases 2000] [--repeats 5] [--runs 3]

Figures depend on the machine: on a shared 2-core box, other processes' load shows up
directly in wall time, so the process CPU time is printed beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import env_for_bench

TARGET_S = 3.0


def build(cases: int):
    import benchwork as bw

    return bw.Suite(
        name="cache-bench",
        cases=[bw.Case(id=f"c{i:05d}", input=f"question {i}", expected="x") for i in range(cases)],
    )


async def timed_rerun(
    suite, target, repeats: int, dirs: dict, cache: str = "use"
) -> tuple[float, float, object]:
    """Wall and CPU seconds from the ``bw.run`` call to a Run whose results frame is built."""
    import benchwork as bw

    c0, t0 = time.process_time(), time.perf_counter()
    run = await bw.run(suite, target, repeats=repeats, cache=cache, progress=False, **dirs)
    run.results  # noqa: B018  (part of the timed work: the frame a user looks at)
    return time.perf_counter() - t0, time.process_time() - c0, run


async def phased_rerun(suite, target, repeats: int, dirs: dict) -> tuple[dict, str]:
    """The same re-run through ``bw.start``, with the time of each phase from its events."""
    import benchwork as bw
    from benchwork.runner._progress import ConsoleProgress

    marks: dict[str, float] = {}
    console = io.StringIO()
    t0 = time.perf_counter()
    handle = bw.start(suite, target, repeats=repeats, progress=False, **dirs)

    def on_event(event) -> None:
        now = time.perf_counter()
        if event.kind == "run_started":
            marks["started"] = now
        elif event.kind == "call_finished":
            marks.setdefault("first_hit", now)
            marks["last_hit"] = now
        elif event.kind == "run_finished":
            marks["finished"] = now

    handle.subscribe(on_event)
    handle.subscribe(ConsoleProgress(console))
    run = await handle
    run.results  # noqa: B018
    marks["returned"] = time.perf_counter()
    phases = {
        "plan 10k keys + open store/cache": marks["started"] - t0,
        "hits: lookup, score, journal, event": marks["last_hit"] - marks["started"],
        "finish: frame, parquet, manifest": marks["finished"] - marks["last_hit"],
        "return Run with results": marks["returned"] - marks["finished"],
    }
    return phases, console.getvalue().strip().splitlines()[-1]


async def main(args: argparse.Namespace) -> int:
    env_for_bench()
    import benchwork as bw
    from benchwork.sim import SimModel, SimServer

    suite = build(args.cases)
    calls = args.cases * args.repeats
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="bw-cache-bench-") as tmp:
        dirs = {"home": Path(tmp) / "runs", "cache_dir": Path(tmp) / "cache"}
        with SimServer([SimModel("m", ttft_s=0.0, itl_s=0.0, tokens=5)], log_limit=None) as sim:
            target = bw.Target("openai/m", api_base=sim.base_url, concurrency=64)
            t0 = time.perf_counter()
            fill = await bw.run(suite, target, repeats=args.repeats, progress=False, **dirs)
            fill_s = time.perf_counter() - t0
            sent_fill = len(sim.requests)
            assert fill.status == "finished" and fill.results.height == calls, fill
            assert sent_fill == calls, f"fill sent {sent_fill} requests, expected {calls}"
            sim.reset_log()

            walls, cpus = [], []
            for _ in range(args.runs):
                wall, cpu, run = await timed_rerun(suite, target, args.repeats, dirs)
                walls.append(wall)
                cpus.append(cpu)
                assert run.results.height == calls and run.results["cached"].all()
                assert (run.results["status"] == "ok").all()
            replay_s, _, replay = await timed_rerun(suite, target, args.repeats, dirs, "replay")
            assert replay.results["cached"].all()
            phases, line = await phased_rerun(suite, target, args.repeats, dirs)
            sent = len(sim.requests)

    median = statistics.median(walls)
    ok = median <= TARGET_S and sent == 0
    rows += [
        ("calls per run", f"{calls:,} ({args.cases:,} cases x {args.repeats} repeats)"),
        ("fill run (network, not the target)", f"{fill_s:.2f} s, {sent_fill:,} requests"),
        ("re-runs from cache (wall)", ", ".join(f"{w:.2f} s" for w in walls)),
        ("re-runs from cache (process CPU)", ", ".join(f"{c:.2f} s" for c in cpus)),
        ("median re-run", f"{median:.2f} s  (target <= {TARGET_S:.0f} s)"),
        ("re-run with cache='replay' (offline)", f"{replay_s:.2f} s"),
        ("per-call overhead of a hit", f"{median / calls * 1e6:.0f} us  (median / {calls:,})"),
        ("requests sent by the re-runs", f"{sent}  (sim request log)"),
    ]
    rows += [(f"  phase: {name}", f"{secs:.3f} s") for name, secs in phases.items()]
    width = max(len(k) for k, _ in rows)
    print(f"benchwork cache benchmark: {calls:,} calls re-run from the cache")
    print("-" * (width + 40))
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    print("-" * (width + 40))
    print(f"progress line: {line}")
    print(f"{'PASS' if ok else 'MISS'}: median {median:.2f} s, {sent} requests sent")
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3, help="timed re-runs (median reported)")
    sys.exit(asyncio.run(main(parser.parse_args())))
