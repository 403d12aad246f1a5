"""Measurement health (issue 13 item 4): a run records how late its event loop ran while each
call was timed, and the client's CPU time, so a reader knows which timings to trust."""

from __future__ import annotations

import time
from pathlib import Path

import benchwork as bw
from benchwork.reports import health
from benchwork.runner import LAG_FLAG_MS
from benchwork.sim import SimModel, SimServer


def _suite(n: int = 6) -> bw.Suite:
    return bw.Suite(
        name="h", cases=[bw.Case(id=f"c{i}", input=f"q{i}", expected="x") for i in range(n)]
    )


def test_a_blocked_loop_is_measured_and_flagged_on_the_calls_it_overlapped(tmp_path: Path) -> None:
    @bw.scorer(name="blocks_the_loop")
    async def blocks_the_loop(case, record):  # an async scorer doing blocking work: a bug
        time.sleep(0.08)
        return 1.0

    with SimServer([SimModel("m", ttft_s=0.15, itl_s=0.0, tokens=2)]) as sim:
        target = bw.Target("openai/m", api_base=sim.base_url, concurrency=3)
        run = bw.run_sync(_suite(), target, cache="off", home=tmp_path, progress=False,
                          scorers=[blocks_the_loop])  # fmt: skip
    lags = run.results["loop_lag_ms"].to_list()
    assert all(lag is not None for lag in lags)
    assert max(lags) >= 60, lags  # an 80 ms block is seen as (nearly) 80 ms late
    h = run.manifest["health"]
    assert h["loop_lag_max_ms"] >= 60 and h["client_cpu_s"] > 0 and h["loop_lag_ticks"] > 0
    table = health([run])
    assert table.row(0, named=True)[f"lag > {LAG_FLAG_MS:g} ms"] >= 1


def test_cache_hits_keep_the_original_calls_lag(tmp_path: Path) -> None:
    with SimServer([SimModel("m", ttft_s=0.0, itl_s=0.0, tokens=2)]) as sim:
        target = bw.Target("openai/m", api_base=sim.base_url)
        first = bw.run_sync(
            _suite(2), target, cache_dir=tmp_path / "c", home=tmp_path, progress=False
        )
        again = bw.run_sync(
            _suite(2), target, cache_dir=tmp_path / "c", home=tmp_path, progress=False
        )
    assert again.results["cached"].all()
    assert again.results["loop_lag_ms"].to_list() == first.results["loop_lag_ms"].to_list()
