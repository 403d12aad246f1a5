"""RunProgress without a browser: state from the handle's events, throttling, the cancel message."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

pytest.importorskip("anywidget")

import benchwork as bw
from benchwork.sim import Fault, SimModel, SimServer
from benchwork.widgets import RunProgress, asset_path


@pytest.fixture(scope="module")
def sim_and_suite():
    suite = bw.Suite.from_records(
        [{"id": f"w{i}", "input": f"Echo {i}", "expected": f"e{i}"} for i in range(20)],
        name="widget-suite",
    )
    models = [
        SimModel("snappy", ttft_s=0.01, itl_s=0.002, tokens=3, seed=1),
        SimModel("flaky", ttft_s=0.02, itl_s=0.002, tokens=3, seed=2, faults=[Fault("500", first=2)]),
        SimModel("slow", ttft_s=0.3, itl_s=0.01, tokens=3, seed=3),
    ]  # fmt: skip
    with SimServer(models, answers=suite.expected_by_prompt()) as sim:
        yield sim, suite


def _targets(sim, *names, concurrency=4):
    return [
        bw.Target(f"openai/{n}", name=n, api_base=sim.base_url, api_key_env="SIM_KEY",
                  concurrency=concurrency)
        for n in names
    ]  # fmt: skip


def test_front_end_assets_ship_with_the_package() -> None:
    js, css = asset_path("run_progress.js"), asset_path("run_progress.css")
    assert "export function render" in js.read_text() and "export default" in js.read_text()
    for cls in ("benchwork-progress", "benchwork-cancel", "benchwork-counts", "benchwork-status"):
        assert cls in js.read_text() and cls in css.read_text()
    assert RunProgress._esm == js.read_text()


async def test_widget_follows_the_run_and_throttles_updates(sim_and_suite) -> None:
    sim, suite = sim_and_suite
    handle = bw.start(
        suite,
        _targets(sim, "snappy", "flaky"),
        cache="off",
        progress=False,
        retry=bw.client.RetryPolicy(max_attempts=1),
    )
    widget = RunProgress(handle)
    assert widget.run_id == handle.run_id and widget.total == 40 and widget.done == 0
    pushes: list[float] = []
    widget.observe(lambda _change: pushes.append(time.monotonic()), names="done")
    started = time.monotonic()
    run = await handle
    elapsed = time.monotonic() - started

    assert (widget.status, widget.done, widget.total, widget.errors) == ("finished", 40, 40, 2)
    assert {t["name"]: (t["done"], t["total"], t["errors"]) for t in widget.targets} == {
        "snappy": (20, 20, 0),
        "flaky": (20, 20, 2),
    }
    assert widget.last_error.startswith("flaky / ") and "500" in widget.last_error
    assert run.counts["errors"] == 2
    # at most ~10 pushes a second (plus the first and the last), not one per call
    assert len(pushes) <= elapsed / RunProgress.min_interval_s + 3
    gaps = [b - a for a, b in itertools.pairwise(pushes[:-1])]  # the last push is immediate
    assert all(g >= RunProgress.min_interval_s * 0.9 for g in gaps[1:])
    assert repr(widget) == f"RunProgress({run.id!r}, finished, 40/40)"


async def test_cancel_message_from_the_front_end_cancels_the_run(sim_and_suite) -> None:
    sim, suite = sim_and_suite
    handle = bw.start(suite, _targets(sim, "slow", concurrency=1), cache="off", progress=False)
    widget = RunProgress(handle)
    while handle.progress.done < 1:
        await asyncio.sleep(0.02)
    widget._on_msg(widget, {"type": "cancel"}, [])  # what the Cancel button sends
    run = await handle
    assert run.status == "cancelled" and widget.status == "cancelled"
    assert 1 <= widget.done == run.results.height < widget.total == 20


async def test_widget_replaces_the_automatic_progress_display(sim_and_suite, capsys) -> None:
    """``h = bw.start(...)`` then ``RunProgress(h)`` showed the run twice; the widget now
    removes the automatic display (here the console one: the test runs outside a notebook)."""
    sim, suite = sim_and_suite
    handle = bw.start(suite, _targets(sim, "snappy"), cache="off")  # progress on by default
    RunProgress(handle)
    run = await handle
    assert run.status == "finished"
    err = capsys.readouterr().err
    assert run.id not in err, f"the console display still followed the run: {err!r}"

    shown = bw.start(suite, _targets(sim, "snappy"), cache="off")  # no widget: still shown
    await shown
    assert shown.run_id in capsys.readouterr().err
