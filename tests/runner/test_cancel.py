"""Cancelling a busy run: results, progress and the journal agree row for row, every time.

Before the fix, ``asyncio.gather`` returned as soon as the first call was cancelled, so calls
still journaling their rows outlived the run: rows in the journal but not in ``results``
(9 of 15 tries with the demo models).
"""

from __future__ import annotations

import asyncio
import json

import benchwork as bw
from benchwork.runner._session import _all
from benchwork.sim import DEMO_MODELS, SimServer


async def test_a_cancelled_run_waits_for_every_call_to_stop() -> None:
    cleaned: list[int] = []

    async def call(i: int) -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            await asyncio.sleep(0.02 * i)  # e.g. a row still being fsynced
            cleaned.append(i)
            raise

    task = asyncio.ensure_future(_all(call(i) for i in range(4)))
    await asyncio.sleep(0.05)
    task.cancel()
    task.cancel()  # the runner's cancel reaches a target twice
    await asyncio.gather(task, return_exceptions=True)
    assert task.cancelled() and sorted(cleaned) == [0, 1, 2, 3]


async def test_a_failing_call_stops_the_others_and_is_raised() -> None:
    async def fail() -> None:
        raise OSError("disk full")

    stopped: list[bool] = []

    async def slow() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            stopped.append(True)
            raise

    try:
        await _all([slow(), fail(), slow()])
    except OSError as exc:
        assert str(exc) == "disk full"
    else:
        raise AssertionError("the failure was swallowed")
    assert stopped == [True, True]


async def test_cancel_under_load_keeps_results_equal_to_journal(tmp_path) -> None:
    suite = bw.Suite.demo()
    with SimServer(DEMO_MODELS, answers=suite.expected_by_prompt()) as sim:
        targets = [
            bw.Target(f"openai/{m.name}", name=m.name, api_base=sim.base_url, api_key_env="SIM_KEY")
            for m in DEMO_MODELS
        ]
        for stop_after in (7, 19, 31):
            handle = bw.start(suite, targets, repeats=3, cache="off", home=tmp_path, progress=False)
            while handle.progress.done < stop_after:
                await asyncio.sleep(0.005)
            handle.cancel()
            run = await handle
            journal = (run.path / "journal.jsonl").read_text().splitlines()
            journaled = sorted((r["case_id"], r["target"]) for r in map(json.loads, journal))
            kept = sorted(zip(run.results["case_id"], run.results["target"], strict=True))
            assert run.status == "cancelled"
            assert journaled == kept, f"stopped after {stop_after}"
            assert len(handle.results) == handle.progress.done == len(kept) < handle.progress.total
        await asyncio.sleep(0.3)  # nothing may still be running and writing
        assert len((run.path / "journal.jsonl").read_text().splitlines()) == len(journal)
