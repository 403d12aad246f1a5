"""TuningView.tuner without a browser: a tuning started from the view (``view.start()`` and
the Tune button's message) runs ``tune_prompt`` over real HTTP against the sim on the loop the
view was made on, feeding generation updates before the final result; a click handled on
another thread with its own loop still tunes on the view's loop; bad options are refused at
construction; run-time errors and Cancel are shown in the widget, never raised into the kernel."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("anywidget")

import benchwork as bw
from benchwork.errors import BenchworkError
from benchwork.sim import PromptRule, SimModel, SimServer
from benchwork.widgets import TuningView

QA = {f"What is {i} plus {i}?": str(2 * i) for i in range(12)}
DEV = [f"q{i}" for i in range(6)]


def _suite(n: int = 12) -> bw.Suite:
    cases = [{"id": f"q{i}", "input": q, "expected": a} for i, (q, a) in enumerate(QA.items())]
    return bw.Suite.from_records(cases[:n], name="adds", system="You answer questions.")


MODELS = [
    SimModel("solver", ttft_s=0, itl_s=0, accuracy=0.3, seed=11,
             prompt_rules=[PromptRule("answer first", 0.95)]),
    SimModel("meta", role="rewriter", ttft_s=0, itl_s=0, seed=2),
    SimModel("slow-meta", role="rewriter", ttft_s=1.5, itl_s=0, seed=2),
]  # fmt: skip


@pytest.fixture
def sim() -> Iterator[SimServer]:
    with SimServer(MODELS, answers=QA) as server:
        yield server


def _targets(sim: SimServer, meta: str = "meta") -> tuple[bw.Target, bw.Target]:
    solver = bw.Target("openai/solver", name="solver", api_base=sim.base_url)
    return solver, bw.Target(f"openai/{meta}", name=meta, api_base=sim.base_url)


def _task(view: TuningView) -> asyncio.Task[Any]:
    """The view's current task (read afresh: a click may have replaced it)."""
    task = view.task
    assert task is not None
    return task


def _click(view: TuningView, kind: str, **content: Any) -> None:
    """What the page's buttons and knobs do: a custom message, handled as the kernel would."""
    view._on_msg(view, {"type": kind, **content}, [])


async def test_start_tunes_in_the_background_with_updates_before_the_result(
    sim: SimServer, tmp_path: Path
) -> None:
    solver, meta = _targets(sim)
    view = TuningView.tuner(_suite(), solver, meta, k=3, dev=DEV, home=tmp_path)
    assert (view.can_tune, view.run_status, view.tune_options["mode"]) == (True, "ready", "quick")
    assert view.options == {"mode": "quick", "k": 3, "dev": DEV, "home": tmp_path}
    events: list[tuple[str, Any]] = []
    view.observe(lambda ch: events.append(("candidates", len(ch["new"]))), names="candidates")
    view.observe(lambda ch: events.append(("winner", ch["new"])), names="winner")
    view.observe(lambda ch: events.append(("message", ch["new"])), names="run_message")
    task = view.start()
    assert view.task is task and task.get_loop() is asyncio.get_running_loop()
    assert view.run_status == "running" and not task.done()
    with pytest.raises(BenchworkError, match="already running"):
        view.start()
    assert view.run_status == "running"  # a refused second start does not mark the run failed
    result = await task  # the same task view.task holds
    assert view.result is result and view.run_status == "done" and view.status == "done"
    # generation 0 (the original alone) then generation 1 arrived before the winner was shown
    counts = [n for kind, n in events if kind == "candidates" and n]
    assert counts[0] == 1 and counts[-1] == result.frame.height >= 3
    first_winner = next(i for i, (kind, v) in enumerate(events) if kind == "winner" and v)
    gen_updates = [i for i, (kind, n) in enumerate(events) if kind == "candidates" and n]
    assert len(gen_updates) >= 2 and max(gen_updates) < first_winner
    messages = [v for kind, v in events if kind == "message"]
    assert any(m.startswith("generation 0 ·") for m in messages)
    assert any(m.startswith("generation 1 ·") for m in messages)
    assert messages[-1].startswith(f"done (done): winner {view.winner}")
    assert result.confirmation["verdict"] in messages[-1]
    # what the view shows is the result: the winner's prompt, every candidate
    assert next(c["prompt"] for c in view.candidates if c["candidate"] == view.winner) == (
        result.winner
    )
    assert len(sim.requests) > 0 and {r["model"] for r in sim.requests} == {"solver", "meta"}
    html = TuningView.static_html(view.get_state())
    assert "tuning done" in html and view.winner in html


async def test_a_tune_click_on_another_thread_tunes_on_the_views_loop(
    sim: SimServer, tmp_path: Path
) -> None:
    """JupyterLab can deliver a widget's messages to a kernel subshell (another thread with
    its own loop); the tuning must still live on the loop the notebook's cells await on."""
    solver, meta = _targets(sim)
    view = TuningView.tuner(_suite(), solver, meta, k=2, dev=DEV, home=tmp_path)
    errors: list[str] = []

    async def click_elsewhere() -> None:
        try:
            view.start()  # the Python API on the wrong loop: refused, with the reason
        except BenchworkError as exc:
            errors.append(str(exc))
        _click(view, "start")

    worker = threading.Thread(target=lambda: asyncio.run(click_elsewhere()))
    worker.start()
    await asyncio.to_thread(worker.join, 30)
    assert errors and "runs on the event loop the TuningView was created on" in errors[0]
    for _ in range(500):
        if view.task is not None:
            break
        await asyncio.sleep(0.01)
    assert view.task is not None and view.task.get_loop() is asyncio.get_running_loop()
    result = await view.task  # would fail with "attached to a different loop" otherwise
    assert view.result is result and view.run_status == "done" and view.winner


def test_bad_options_are_refused_at_construction(sim: SimServer) -> None:
    solver, meta = _targets(sim)
    suite = _suite()
    bad: list[tuple[dict[str, Any], str]] = [
        ({"budget": 10}, r"unknown option\(s\) 'budget'; tune_prompt takes .*budget_calls"),
        ({"on_generation": print}, r"unknown option\(s\) 'on_generation'"),
        ({"mode": "fast"}, r"mode must be 'quick' or 'evolve', got 'fast'"),
        ({"k": 0}, r"k must be a whole number >= 1, got 0"),
        ({"mode": "evolve", "population": 2.5}, r"population must be a whole number"),
        ({"budget_calls": 0}, r"budget_calls must be a whole number >= 1 or None"),
        ({"budget_usd": 1.0}, r"budget_usd needs prices.*'solver', 'meta'"),
        ({"dev": ["q1", "nope"]}, r"unknown case id\(s\) \['nope'\]"),
        ({"dev": 1.5}, r"dev must be a fraction"),
        ({"alpha": 2}, r"alpha must be in \(0, 1\)"),
    ]
    for options, message in bad:
        with pytest.raises(BenchworkError, match=message):
            TuningView.tuner(suite, solver, meta, **options)  # type: ignore[arg-type]
    with pytest.raises(BenchworkError, match="has 3 case"):
        TuningView.tuner(_suite(3), solver, meta)
    assert sim.requests == []  # nothing was called
    # a view without a tuner cannot start, and says so
    plain = TuningView(original="x")
    with pytest.raises(BenchworkError, match=r"no tuner: make the view with TuningView.tuner"):
        plain.start()


def test_start_outside_an_event_loop_says_why(sim: SimServer) -> None:
    solver, meta = _targets(sim)
    view = TuningView.tuner(_suite(), solver, meta)
    with pytest.raises(BenchworkError, match="running event loop"):
        view.start()
    assert view.run_status == "error" and "tune_prompt_sync" in view.run_message
    assert view.task is None and sim.requests == []


async def test_errors_show_in_the_widget_and_a_later_tune_works(
    sim: SimServer, tmp_path: Path
) -> None:
    solver, meta = _targets(sim)
    view = TuningView.tuner(_suite(), solver, meta, k=2, dev=DEV, home=tmp_path)
    # a knob the widget set to a bad value: the click is refused in the widget, nothing raised
    _click(view, "knob", key="mode", value="evolve")
    _click(view, "knob", key="population", value=0)
    _click(view, "knob", key="seed", value=5)  # not a knob: ignored
    assert view.tune_options == {"mode": "evolve", "k": 2, "population": 0, "generations": 5,
                                 "budget_calls": None}  # fmt: skip
    _click(view, "start")
    assert view.task is None and view.run_status == "error"
    assert "population must be a whole number >= 1, got 0" in view.run_message
    # a budget too small for the run: tune_prompt fails in the background; the widget says
    # why and awaiting the task raises it (the test, like the kernel, goes on)
    # (Tune sends the knobs as the page shows them)
    _click(view, "start", options={"population": 2, "generations": 1, "budget_calls": 1})
    with pytest.raises(BenchworkError, match="budget_calls is too small"):
        await _task(view)
    assert view.run_status == "error" and view.result is None
    assert view.run_message.startswith("BenchworkError: budget_calls is too small")
    # evolve with a workable budget: generations 0..n in the view, then the result
    view.tune_options = {**view.tune_options, "budget_calls": None}
    assert view.options["mode"] == "evolve" and "k" not in view.options
    _click(view, "start")
    result = await _task(view)
    assert result.mode == "evolve" and view.run_status == "done"
    assert [g["generation"] for g in view.generations] == sorted(
        set(result.frame["generation"].to_list())
    )


async def test_cancel_stops_the_tuning_and_says_so(sim: SimServer, tmp_path: Path) -> None:
    solver, slow = _targets(sim, "slow-meta")
    view = TuningView.tuner(_suite(), solver, slow, k=2, dev=DEV, home=tmp_path)
    view.start()
    for _ in range(1000):  # generation 0 is scored; the slow meta-model is now proposing
        if view.run_message.startswith("generation 0"):
            break
        await asyncio.sleep(0.01)
    assert view.run_message.startswith("generation 0")
    assert view.cancel() is True
    _click(view, "cancel")  # a second Cancel (the button) is harmless
    with pytest.raises(asyncio.CancelledError):
        await _task(view)
    assert (view.run_status, view.run_message) == ("cancelled", "cancelled: no result")
    assert view.result is None and view.cancel() is False
    assert [c["candidate"] for c in view.candidates] == ["original"]


async def test_a_failing_meta_model_is_shown_not_a_quiet_done(
    sim: SimServer, tmp_path: Path
) -> None:
    """A meta-model the server does not serve: every proposal fails (HTTP 404), so nothing but
    the original is scored; the widget says so instead of a plain "done"."""
    solver, missing = _targets(sim, "no-such-model")
    view = TuningView.tuner(_suite(), solver, missing, k=2, dev=DEV, home=tmp_path)
    result = await view.start()
    assert view.result is result and result.frame["candidate"].to_list() == ["original"]
    assert view.run_status == "error"
    assert view.run_message.startswith(
        "the meta-model failed on all 2 call(s) (not_found: HTTP 404"
    )
    assert "only the original was scored" in view.run_message
    assert any(r["model"] == "no-such-model" for r in sim.requests)


def test_static_html_shows_the_runs_status_escaped() -> None:
    state = {"run_status": "error", "run_message": "BenchworkError: <b>bad</b> & worse"}
    out = TuningView.static_html(state)
    assert "tuning error: BenchworkError: &lt;b&gt;bad&lt;/b&gt; &amp; worse" in out
    assert "<b>bad</b>" not in out and "<script" not in out
    assert "benchwork-tuning-run" not in TuningView.static_html({"run_status": "ready"})
