"""Slow scorers never block the event loop (issue 9, item 3): catastrophic regexes stop at a
time limit with an error score on that row, and scoring that can be slow runs in a worker
thread while the loop keeps serving other tasks (counted by a heartbeat task, not timed)."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from benchwork.errors import BenchworkError
from benchwork.results import CallRecord
from benchwork.scoring import BaseScorer, Exact, Regex, Score, score_record, score_records

CATASTROPHIC = r"(a|aa)+$"  # exponential in the regex engine too; "(a+)+$" it handles fast


def rec(output: str, case_id: str = "c1") -> CallRecord:
    return CallRecord(run_id="r", case_id=case_id, target="t", model="m", output_text=output)


class Heartbeat:
    """Counts how often the event loop ran a task that asks to run every millisecond."""

    def __init__(self) -> None:
        self.beats = 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            self.beats += 1
            await asyncio.sleep(0.001)

    async def __aenter__(self) -> Heartbeat:
        self._task = asyncio.create_task(self._run())
        await asyncio.sleep(0)  # it has started
        self.beats = 0
        return self

    async def __aexit__(self, *exc: Any) -> None:
        assert self._task is not None
        self._task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self._task


async def test_a_catastrophic_regex_times_out_while_the_loop_keeps_running() -> None:
    record = rec("a" * 40 + "!")
    async with Heartbeat() as hb:
        await score_record({"id": "c1"}, record, [Regex(CATASTROPHIC, timeout=0.5)])
        beats = hb.beats
    s = record.scores["regex"]
    assert s["value"] is None and s["label"] == "error"
    assert "gave up after 0.5 s" in s["explanation"] and "(a|aa)+$" in s["explanation"]
    # scored in a worker thread by an engine that releases the GIL: the loop ran the
    # heartbeat all along (on the loop itself it would not have run once)
    assert beats >= 20, beats


async def test_the_issue_example_scores_at_once() -> None:
    record = rec("a" * 25 + "b")
    await score_record({"id": "c1", "expected": r"(a+)+$"}, record, [Regex()])
    assert record.scores["regex"]["label"] == "fail"


async def test_regex_from_expected_also_has_the_limit() -> None:
    record = rec("a" * 40 + "!")
    await score_record({"id": "c1", "expected": CATASTROPHIC}, record, [Regex(timeout=0.3)])
    assert record.scores["regex"]["label"] == "error"


def test_regex_timeout_option_is_checked() -> None:
    for bad in (0, -1, float("nan"), float("inf"), "1", True):
        with pytest.raises(BenchworkError, match="option 'timeout'"):
            Regex("x", timeout=bad)  # type: ignore[arg-type]


class Sleepy(BaseScorer):
    """A built-in-style scorer that takes ``seconds`` of CPU-free time on every output."""

    default_name = "sleepy"
    needs_expected = False
    offload = "always"

    def __init__(self, seconds: float, **kw: Any) -> None:
        super().__init__(**kw)
        self.seconds = seconds
        self.threads: list[str] = []

    def score(self, output: str, expected: Any, case: Any, record: Any) -> Score:
        self.threads.append(threading.current_thread().name)
        time.sleep(self.seconds)
        return Score.passed(True)


async def test_a_scorer_over_the_time_limit_is_an_error_on_that_row() -> None:
    slow = Sleepy(2.0)
    records = [rec("x", "c1"), rec("y", "c2")]
    async with Heartbeat() as hb:
        await score_records([{"id": "c1"}, {"id": "c2"}], records, [slow], time_limit_s=0.2)
        beats = hb.beats
    for r in records:
        s = r.scores["sleepy"]
        assert (s["value"], s["label"]) == (None, "error")
        assert (
            s["explanation"]
            == "sleepy: gave up after 0.2 s on this output (time limit of a scorer)"
        )
    assert beats >= 10, beats
    assert threading.main_thread().name not in slow.threads


async def test_large_outputs_are_scored_off_the_loop() -> None:
    class Where(Sleepy):
        offload = "large"

    where = Where(0.0)
    small, large = rec("small"), rec("x" * 100_000)
    await score_record({"id": "c1"}, small, [where])
    await score_record({"id": "c1"}, large, [where])
    assert where.threads[0] == threading.current_thread().name  # cheap: inline
    assert where.threads[1] != threading.current_thread().name  # large: a worker thread
    assert small.scores["sleepy"]["value"] == large.scores["sleepy"]["value"] == 1.0


async def test_scorer_exceptions_in_threads_are_error_scores() -> None:
    class Broken(Sleepy):
        def score(self, output: str, expected: Any, case: Any, record: Any) -> Score:
            raise TimeoutError("its own timeout, not the time limit")

    record = rec("x")
    await score_record({"id": "c1"}, record, [Broken(0.0)])
    s = record.scores["sleepy"]
    assert s["label"] == "error" and s["explanation"] == (
        "TimeoutError: its own timeout, not the time limit"
    )


async def test_exact_on_a_huge_output_still_scores() -> None:
    record = rec("Paris " * 10_000)
    await score_record({"id": "c1", "expected": "paris"}, record, [Exact()])
    assert record.scores["exact"]["value"] == 0.0
