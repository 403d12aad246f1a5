"""Dashboard without a browser: aggregates from real runs against the sim, throttling, the
per-run cancel message, the one-widget-per-run registry, and the static HTML."""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections import Counter

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

pytest.importorskip("anywidget")

import benchwork as bw
from benchwork.sim import Fault, SimModel, SimServer
from benchwork.widgets import Dashboard, asset_path, static_html
from benchwork.widgets._dashboard import RunningMedian, eta_s, fmt_cost, sparkline_svg

NO_RETRY = bw.client.RetryPolicy(max_attempts=1, max_wait_s=0)


@pytest.fixture(scope="module")
def sim_and_suite():
    suite = bw.Suite.from_records(
        [
            {"id": f"d{i}", "input": f"Echo {i}", "expected": f"the echo of number {i} is here"}
            for i in range(24)
        ],
        name="dashboard-suite",
    )
    models = [
        SimModel("fast", ttft_s=0.01, itl_s=0.002, tokens=8, seed=1),
        SimModel("flaky", ttft_s=0.03, itl_s=0.002, tokens=8, seed=2,
                 faults=[Fault("429", first=2, retry_after=None), Fault("500", rate=0.25),
                         Fault("cut", rate=0.1)]),
        SimModel("slow", ttft_s=0.05, itl_s=0.002, tokens=8, seed=3),
    ]  # fmt: skip
    with SimServer(models, answers=suite.expected_by_prompt()) as sim:
        yield sim, suite


def _target(sim, name, *, concurrency=4, priced=False):
    return bw.Target(
        f"openai/{name}",
        name=name,
        api_base=sim.base_url,
        api_key_env="SIM_KEY",
        concurrency=concurrency,
        input_per_mtok=1.0 if priced else None,
        output_per_mtok=3.0 if priced else None,
    )


def _by_target(dash: Dashboard, run_id: str) -> dict[str, dict]:
    (run,) = [r for r in dash.runs if r["run_id"] == run_id]
    return {t["name"]: t for t in run["targets"]}


def test_front_end_assets_ship_with_the_package() -> None:
    js, css = asset_path("dashboard.js").read_text(), asset_path("dashboard.css").read_text()
    assert "export function render" in js and "export default" in js
    for cls in ("benchwork-dashboard", "benchwork-dash-cancel", "benchwork-dash-target",
                "benchwork-dash-err-status", "benchwork-spark"):  # fmt: skip
        assert cls in js and cls in css
    assert Dashboard._esm == js and Dashboard._css == css


async def test_aggregates_match_the_finished_runs_results(sim_and_suite) -> None:
    """Counts, p50s, errors by type and status, and cost agree with the run's own rows."""
    sim, suite = sim_and_suite
    handle = bw.start(
        suite,
        [_target(sim, "fast", priced=True), _target(sim, "flaky")],
        cache="off",
        progress=False,
        retry=NO_RETRY,
    )
    dash = Dashboard(handle)
    assert dash._bw_widget == "Dashboard" and dash.runs[0]["done"] == 0
    assert dash.runs[0]["total"] == 48 and dash.runs[0]["eta_s"] is None  # nothing seen yet
    run = await handle
    df = run.results
    (state,) = dash.runs
    assert (state["status"], state["done"], state["total"]) == ("finished", 48, 48)
    assert state["errors"] == run.counts["errors"] > 0 and state["eta_s"] == 0.0
    targets = _by_target(dash, run.id)
    for name, t in targets.items():
        rows = df.filter(df["target"] == name)
        ok = rows.filter(rows["status"] == "ok")
        bad = rows.filter(rows["status"] != "ok")
        assert (t["done"], t["total"], t["errors"]) == (rows.height, 24, bad.height)
        assert t["ttft_p50_s"] == pytest.approx(statistics.median(ok["ttft_s"].to_list()))
        assert t["tps_p50"] == pytest.approx(
            statistics.median(ok["output_tps"].drop_nulls().to_list())
        )
        assert t["speed_from"] == "live" and t["eta_s"] == 0.0
        assert t["errors_by_type"] == dict(Counter(bad["error_type"].to_list()))
        statuses = Counter("none" if s is None else str(s) for s in bad["http_status"].to_list())
        assert t["errors_by_status"] == dict(statuses)
        recent = ok["ttft_s"].to_list()[-30:]  # the sparkline: the last values, in order
        assert t["ttft_recent"] == pytest.approx(recent, abs=1e-4)
    # the flaky model failed in all three ways: 429, 500 and a cut stream with no status
    assert {"429", "500", "none"} <= set(targets["flaky"]["errors_by_status"])
    assert targets["fast"]["errors"] == 0
    # cost: the priced target's sum; the unpriced one is unknown, and so is the run's total
    fast_cost = df.filter(df["target"] == "fast")["cost_usd"].sum()
    assert targets["fast"]["cost_usd"] == pytest.approx(fast_cost) and fast_cost > 0
    flaky_ok = df.filter((df["target"] == "flaky") & (df["status"] == "ok")).height
    assert targets["flaky"]["cost_usd"] is None and targets["flaky"]["unpriced"] == flaky_ok
    assert state["cost_usd"] is None and state["unpriced"] == flaky_ok > 0
    html = Dashboard.static_html({"runs": dash.runs})
    assert "unknown (" in html and f"${fast_cost:.4f}" in html


async def test_all_priced_run_has_a_total_and_cached_rerun_says_so(sim_and_suite) -> None:
    sim, suite = sim_and_suite
    targets = [_target(sim, "fast", priced=True)]
    first = await bw.start(suite, targets, cache="use", progress=False)
    again = bw.start(suite, targets, cache="use", progress=False)
    dash = Dashboard(again)
    run = await again
    (state,) = dash.runs
    paid = first.results["cost_usd"].sum()
    assert paid > 0 and state["cost_usd"] == pytest.approx(paid)
    (t,) = state["targets"]
    assert t["cached"] == 24 and state["cached"] == 24 and run.counts["cached"] == 24
    # timings of cached rows are the original calls': labelled, never passed off as live
    assert t["speed_from"] == "cached"
    assert t["ttft_p50_s"] == pytest.approx(statistics.median(first.results["ttft_s"].to_list()))


async def test_updates_are_throttled_first_and_last_always(sim_and_suite) -> None:
    sim, suite = sim_and_suite
    handle = bw.start(suite, [_target(sim, "fast"), _target(sim, "slow", concurrency=2)],
                      cache="off", progress=False)  # fmt: skip
    dash = Dashboard(handle, max_updates_per_s=10)
    pushes: list[float] = []
    dash.observe(lambda _c: pushes.append(time.monotonic()), names="runs")
    started = time.monotonic()
    await handle
    elapsed = time.monotonic() - started
    assert dash.runs[0]["done"] == 48 and dash.runs[0]["status"] == "finished"
    assert 2 <= len(pushes) <= elapsed * 10 + 3  # not one per call (48 calls)
    gaps = [b - a for a, b in itertools.pairwise(pushes[1:-1])]  # run_started / finished: at once
    assert all(g >= 0.1 * 0.9 for g in gaps), gaps


async def test_the_push_timer_is_jittered_so_it_cannot_phase_lock(sim_and_suite) -> None:
    """A held-back state goes out after the throttle interval plus a random part of one more:
    a fixed period would land every push on a regular workload's first tokens."""
    from benchwork.runner import Event

    sim, suite = sim_and_suite
    handle = bw.start(suite, [_target(sim, "fast")], cache="off", progress=False)
    dash = Dashboard(handle, max_updates_per_s=5)
    await handle
    loop = asyncio.get_running_loop()
    delays = []
    for _ in range(40):
        dash._push()  # just pushed: the next state waits at least its interval
        dash._on_event(handle.run_id, Event("run_started", handle.run_id, handle.progress))
        pending = dash._pending
        assert pending is not None
        delays.append(pending.when() - loop.time())
        pending.cancel()
        dash._pending = None
    assert all(0.2 - 0.01 <= d <= 0.2 * 1.25 + 0.01 for d in delays), delays
    assert max(delays) - min(delays) > 0.02, delays  # not one fixed period


async def test_eta_tracks_the_time_left(sim_and_suite) -> None:
    """One target at concurrency 1 runs at a steady rate: the ETA read mid-run is close to the
    time the run then really takes."""
    sim, suite = sim_and_suite
    handle = bw.start(suite, [_target(sim, "slow", concurrency=1)], cache="off", progress=False)
    dash = Dashboard(handle, max_updates_per_s=50)
    while handle.progress.done < 8:
        await asyncio.sleep(0.01)
    dash._push()
    predicted = dash.runs[0]["eta_s"]
    (t,) = dash.runs[0]["targets"]
    mark = time.monotonic()
    await handle
    actual = time.monotonic() - mark
    assert predicted is not None and t["eta_s"] == predicted
    assert 0.4 * actual <= predicted <= 2.5 * actual, (predicted, actual)


async def test_two_runs_cancel_message_cancels_only_its_run(sim_and_suite) -> None:
    sim, suite = sim_and_suite
    keep = bw.start(suite, [_target(sim, "slow", concurrency=2)], cache="off", progress=False)
    stop = bw.start(suite, [_target(sim, "slow", concurrency=1)], cache="off", progress=False)
    dash = Dashboard(keep, stop)
    assert [r["run_id"] for r in dash.runs] == [keep.run_id, stop.run_id]
    while stop.progress.done < 2:
        await asyncio.sleep(0.01)
    dash._on_msg(dash, {"type": "cancel", "run_id": stop.run_id}, [])  # what its button sends
    dash._on_msg(dash, {"type": "cancel", "run_id": "not-a-run"}, [])  # ignored
    kept, stopped = await keep, await stop
    assert (kept.status, stopped.status) == ("finished", "cancelled")
    states = {r["run_id"]: r for r in dash.runs}
    assert states[keep.run_id]["done"] == 24 and states[keep.run_id]["status"] == "finished"
    assert 2 <= states[stop.run_id]["done"] == stopped.results.height < 24
    assert states[stop.run_id]["status"] == "cancelled"
    assert repr(dash) == (
        f"Dashboard([{keep.run_id!r} finished 24/24, "
        f"{stop.run_id!r} cancelled {stopped.results.height}/24])"
    )


async def test_one_widget_per_run_and_no_second_progress_display(sim_and_suite, capsys) -> None:
    sim, suite = sim_and_suite
    h1 = bw.start(suite, [_target(sim, "fast")], cache="off")  # automatic progress on
    while h1.progress.done < 3:  # attach mid-run: rows before attaching are counted too
        await asyncio.sleep(0.005)
    dash = Dashboard.of(h1)
    capsys.readouterr()  # the console display's lines so far; it must print nothing more
    assert Dashboard.of(h1) is dash and dash.add(h1) is dash and len(dash.runs) == 1
    h2 = bw.start(suite, [_target(sim, "fast")], cache="off", progress=False)
    assert Dashboard.of(h2, h1) is dash  # h2 joins the dashboard that follows h1
    assert [h.run_id for h in dash.handles] == [h1.run_id, h2.run_id]
    other = Dashboard(h2)  # a new widget takes h2 over: the old one drops it
    assert Dashboard.of(h2) is other and [h.run_id for h in dash.handles] == [h1.run_id]
    run1, run2 = await h1, await h2
    t1 = _by_target(dash, run1.id)["fast"]
    assert t1["done"] == 24 and t1["ttft_p50_s"] == pytest.approx(
        statistics.median(run1.results["ttft_s"].to_list())
    )
    assert other.runs[0]["done"] == 24 and run2.status == "finished"
    assert run1.id not in capsys.readouterr().err, "the console display still followed run 1"
    frozen = dash.runs[0]
    await asyncio.sleep(0.25)
    dash._push()  # a later push (another run's event, say) leaves a finished run as it was
    assert dash.runs[0] == frozen and frozen["status"] == "finished"
    dash.remove(h1)
    assert dash.runs == [] and Dashboard.of(h1) is not dash


def test_bad_input_gets_a_clear_error() -> None:
    with pytest.raises(TypeError, match=r"expected a RunHandle from bw.start"):
        Dashboard("20260101-000000-abcdef")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_updates_per_s must be a number > 0"):
        Dashboard(max_updates_per_s=0)
    dash = Dashboard()
    with pytest.raises(KeyError, match="not on this dashboard"):
        dash.cancel("nope")
    assert repr(dash) == "Dashboard([])"


# -- the running median and the ETA: property tests ---------------------------------------------
finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False)


@given(st.lists(finite, max_size=200))
def test_running_median_equals_the_median_of_every_prefix(xs: list[float]) -> None:
    m = RunningMedian()
    assert m.value is None
    for i, x in enumerate(xs, 1):
        m.add(x)
        assert len(m) == i
        assert m.value == pytest.approx(statistics.median(xs[:i]), rel=1e-12, abs=1e-6)


def test_running_median_refuses_nan() -> None:
    with pytest.raises(ValueError, match="finite number"):
        RunningMedian().add(float("nan"))


@given(
    rate=st.floats(min_value=0.01, max_value=1000),
    seen=st.integers(min_value=1, max_value=10_000),
    remaining=st.integers(min_value=0, max_value=10_000),
)
def test_eta_at_a_steady_rate_is_remaining_over_rate(rate: float, seen: int, remaining: int):
    elapsed = seen / rate
    eta, later, sooner = (eta_s(seen + ds, remaining + dr, elapsed) for ds, dr in
                          ((0, 0), (0, 1), (1, 0)))  # fmt: skip
    assert eta is not None and later is not None and sooner is not None
    assert eta == pytest.approx(remaining / rate, rel=1e-9)
    assert later > eta  # more left: later
    assert sooner <= eta  # faster so far: sooner (or done)


@given(st.integers(min_value=1, max_value=100), st.floats(min_value=0, max_value=1e6))
def test_eta_is_unknown_before_the_first_call_and_zero_when_done(remaining, elapsed) -> None:
    assert eta_s(0, remaining, elapsed) is None
    assert eta_s(5, 0, elapsed) == 0.0 and eta_s(0, -1, elapsed) == 0.0


# -- static HTML ----------------------------------------------------------------------------------
def _state() -> dict:
    target = {
        "name": "<b>m</b>", "total": 10, "done": 7, "errors": 2, "cached": 0,
        "errors_by_type": {"server_error": 1, "stream_cut": 1},
        "errors_by_status": {"500": 1, "none": 1},
        "ttft_p50_s": 0.2346, "tps_p50": 48.26, "speed_from": "live",
        "ttft_recent": [0.2, 0.25, 0.22], "tps_recent": [48.0, 49.1],
        "cost_usd": None, "unpriced": 5, "eta_s": 12.0,
    }  # fmt: skip
    run = {"run_id": "r-<1>", "status": "running", "total": 10, "done": 7, "errors": 2,
           "cost_usd": None, "unpriced": 5, "eta_s": 12.0, "targets": [target]}  # fmt: skip
    return {"_bw_widget": "Dashboard", "runs": [run]}


def test_static_html_renders_the_last_state_safely() -> None:
    out = static_html(_state())
    assert out is not None and 'data-widget="Dashboard"' in out
    assert "<script" not in out and "http://" not in out.replace('"http://www.w3.org/2000/svg"', "")
    assert "&lt;b&gt;m&lt;/b&gt;" in out and "r-&lt;1&gt;" in out and "<b>m</b>" not in out
    assert "7/10" in out and "235 ms" in out and "48.3 tok/s" in out
    assert "HTTP 500 ×1" in out and "no HTTP status ×1" in out and "stream_cut ×1" in out
    assert "unknown (5 unpriced)" in out and "$0" not in out  # never an unknown cost as 0
    assert out.count("<polyline") == 2 and "12 s" in out


@given(st.floats(min_value=0, max_value=1e6, allow_nan=False))
def test_a_cost_is_never_shown_as_zero_when_something_was_spent(cost: float) -> None:
    shown = fmt_cost(cost, 0)
    if cost == 0:
        assert shown == "$0.0000"
    elif cost < 0.0001:
        assert shown == "<$0.0001"
    else:
        assert float(shown.removeprefix("$")) > 0 and abs(float(shown[1:]) - cost) <= 0.005
    assert fmt_cost(cost, 2) == "unknown (2 unpriced)" and fmt_cost(None, 0) == "—"


def test_static_html_of_an_empty_or_odd_state() -> None:
    assert "no runs" in Dashboard.static_html({})
    assert "no runs" in Dashboard.static_html({"runs": "nonsense"})
    odd = Dashboard.static_html({"runs": [{"run_id": 3, "targets": [None, {"name": "x"}]}]})
    assert "<td" in odd and "—" in odd


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=40))
@example([1.7976931348623157e308, -9.9792015476736e291])  # max - min overflowed to inf
def test_sparkline_is_a_closed_svg_inside_its_box(values: list[float]) -> None:
    svg = sparkline_svg(values, width=80, height=18)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    finite_n = sum(1 for v in values if v == v and abs(v) != float("inf"))
    assert ("<polyline" in svg) == (finite_n >= 2)
    if finite_n >= 2:
        points = svg.split('points="')[1].split('"')[0].split()
        assert len(points) == finite_n
        for p in points:
            x, y = map(float, p.split(","))
            assert 0 <= x <= 80 and 0 <= y <= 18
