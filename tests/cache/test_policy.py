"""The cache policy: one meaning per mode for runs and judges, and single-flight for live calls.

Everything goes over real HTTP to the simulator; its request log says what was actually sent.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import benchwork as bw
from benchwork.cache import CachePolicy, CallCache
from benchwork.errors import BenchworkError
from benchwork.results import CallRecord
from benchwork.scoring import Judge, score_records
from benchwork.sim import SimModel, SimServer

QUESTION = "What is 2 + 2?"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    models = [
        # slow enough that two identical calls started together overlap in flight
        SimModel("m", ttft_s=0.3, itl_s=0.0, tokens=4),
        SimModel("judge", role="judge", ttft_s=0.3, itl_s=0.0),
    ]
    with SimServer(models, answers={QUESTION: "4"}) as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh_log(sim: SimServer) -> None:
    sim.reset_log()


def _twins(n: int = 2) -> bw.Suite:
    """n cases with different ids that render to exactly the same request."""
    cases = [bw.Case(id=f"c{i}", input=QUESTION, expected="4") for i in range(n)]
    return bw.Suite(name="twins", cases=cases)


def _sent(sim: SimServer, model: str) -> int:
    return sum(e["model"] == model for e in sim.requests)


@pytest.mark.parametrize(
    ("mode", "reads", "writes"),
    [("use", True, True), ("refresh", False, True), ("off", False, False), ("replay", True, False)],
)
def test_each_mode_reads_and_writes_as_documented(
    tmp_path: Path, mode: str, reads: bool, writes: bool
) -> None:
    cache = CallCache(tmp_path / "c")
    row = {"status": "ok", "output_text": "4", "model": "m"}
    CachePolicy(cache, "use").writer("k1", {"m": 1}, row, case_id="c", target="t")()  # type: ignore[misc]
    policy = CachePolicy(cache, mode)
    assert (policy.get("k1") is not None) is reads
    put = policy.writer("k2", {"m": 2}, row, case_id="c", target="t")
    assert (put is not None) is writes
    if put is not None:
        put()
        assert cache.get("k2") is not None
    error_row = {**row, "status": "error"}
    assert CachePolicy(cache, mode).writer("k3", {"m": 3}, error_row) is None, (
        "errors are never cached"
    )
    cache.close()


def test_unknown_mode_is_a_clear_error() -> None:
    with pytest.raises(BenchworkError, match="unknown cache mode 'sometimes'"):
        CachePolicy(None, "sometimes")


def test_identical_calls_in_flight_are_sent_once(sim: SimServer, tmp_path: Path) -> None:
    target = bw.Target("openai/m", api_base=sim.base_url, concurrency=4)
    run = bw.run_sync(_twins(3), [target], cache_dir=tmp_path / "c", scorers=["exact"])
    assert _sent(sim, "m") == 1, sim.requests
    df = run.results
    assert df.height == 3 and (df["status"] == "ok").all()
    assert df["score_exact"].to_list() == [1.0, 1.0, 1.0]
    assert df["cached"].sum() == 2, "the two followers took the leader's answer as a hit"
    assert df["output_text"].n_unique() == 1


def test_cache_off_sends_every_call(sim: SimServer, tmp_path: Path) -> None:
    target = bw.Target("openai/m", api_base=sim.base_url, concurrency=4)
    run = bw.run_sync(_twins(3), [target], cache="off", scorers=["exact"])
    assert _sent(sim, "m") == 3 and not run.results["cached"].any()


def test_a_failed_leader_does_not_fail_its_followers(sim: SimServer, tmp_path: Path) -> None:
    """The leader's error is not shared: each waiting call then makes its own attempt."""

    async def go() -> list[Any]:
        policy = CachePolicy(CallCache(tmp_path / "c"), "use")
        assert policy.join("k") is None  # leader
        follower = policy.join("k")
        assert follower is not None and policy.shared == 1
        policy.land("k", {"status": "error"})
        return [await follower, policy.join("k")]  # the follower now leads its own call

    shared, again = asyncio.run(go())
    assert shared is None and again is None


def test_identical_judge_prompts_in_flight_are_sent_once(sim: SimServer, tmp_path: Path) -> None:
    cases = [{"id": f"q{i}", "input": QUESTION, "expected": "4"} for i in range(3)]
    records = [
        CallRecord(run_id="r", case_id=f"q{i}", target="t", model="openai_like/m", output_text="4")
        for i in range(3)
    ]
    judge_target = bw.Target("openai_like/judge", api_base=sim.base_url, params={"temperature": 0})
    judge = Judge(judge_target, cache_dir=tmp_path / "jc")
    asyncio.run(score_records(cases, records, [judge]))
    assert _sent(sim, "judge") == 1, sim.requests
    values = [r.scores["judge"]["value"] for r in records]
    assert values[0] is not None and values == [values[0]] * 3


# -- rpm pacing (aiolimiter) for candidates and judges alike ------------------------------------
def _gaps(sim: SimServer, model: str) -> list[float]:
    times = sorted(e["received_at"] for e in sim.requests if e["model"] == model)
    return [b - a for a, b in itertools.pairwise(times)]


def test_target_rpm_spaces_call_starts(sim: SimServer) -> None:
    """rpm=300 means one start per 0.2 s at most: a lower bound, so a slow machine cannot fail it."""
    suite = bw.Suite(name="p", cases=[bw.Case(id=f"c{i}", input=f"q{i}") for i in range(4)])
    target = bw.Target("openai/m", api_base=sim.base_url, concurrency=4, rpm=300)
    bw.run_sync(suite, [target], cache="off", scorers=[])
    gaps = _gaps(sim, "m")
    assert len(gaps) == 3 and min(gaps) >= 0.2 * 0.9, gaps


def test_judge_rpm_is_honoured(sim: SimServer, tmp_path: Path) -> None:
    """A judge's rpm used to be ignored; now its calls are paced like a candidate's."""
    cases = [{"id": f"q{i}", "input": f"question {i}", "expected": "4"} for i in range(3)]
    records = [
        CallRecord(run_id="r", case_id=f"q{i}", target="t", model="openai_like/m", output_text="4")
        for i in range(3)
    ]
    target = bw.Target("openai_like/judge", api_base=sim.base_url, rpm=300, concurrency=3)
    asyncio.run(score_records(cases, records, [Judge(target, cache_dir=tmp_path / "jc")]))
    gaps = _gaps(sim, "judge")
    assert len(gaps) == 2 and min(gaps) >= 0.2 * 0.9, gaps
