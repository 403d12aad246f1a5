"""Launcher without a browser: discovery over real HTTP against the sim, provider-aware flags,
the cost estimate (unknown stays unknown), the background launch and its handle, the custom
messages the buttons send, and the static HTML an exported notebook shows."""

from __future__ import annotations

import asyncio
import http.server
import json
import math
import re
import socket
import threading
from pathlib import Path

import pytest

pytest.importorskip("anywidget")

from hypothesis import given, settings
from hypothesis import strategies as st

import benchwork as bw
from benchwork.errors import BenchworkError
from benchwork.sim import SimModel, SimServer
from benchwork.tuning import estimate_cost
from benchwork.widgets import Launcher, static_html
from benchwork.widgets._launcher_params import parse_other, value_problem


def _suite(n: int = 6) -> bw.Suite:
    return bw.Suite.from_records(
        [{"id": f"l{i}", "input": f"Say {i} twice.", "expected": f"{i} {i}"} for i in range(n)],
        name="launch-suite",
    )


MODELS = [
    SimModel("priced", ttft_s=0, itl_s=0, tokens=3, input_per_mtok=0.5, output_per_mtok=1.5),
    SimModel("free-ish", ttft_s=0, itl_s=0, tokens=3),
]


@pytest.fixture
def sim():
    with SimServer(MODELS, answers=_suite().expected_by_prompt()) as server:
        yield server


def _dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def _messages(launcher: Launcher, *msgs: dict) -> None:
    """What the browser does: a custom message per click/edit, handled as the kernel would."""
    for msg in msgs:
        launcher._on_msg(launcher, msg, [])


def test_discover_lists_the_servers_models_with_prices(sim) -> None:
    launcher = Launcher(_suite())
    frame = launcher.discover(sim.base_url)
    assert frame["id"].to_list() == [m["id"] for m in launcher.models]
    rows = {m["id"]: m for m in launcher.models}
    assert set(rows) == {"priced", "free-ish"}
    assert (rows["priced"]["input_per_mtok"], rows["priced"]["output_per_mtok"]) == (0.5, 1.5)
    assert rows["free-ish"]["input_per_mtok"] is None and rows["free-ish"]["owned_by"]
    assert launcher.discover_error == "" and not launcher.message_is_error
    assert sim.requests == []  # the log holds calls only: discovery made none


def test_no_endpoint_and_no_server_are_shown_in_the_widget(sim) -> None:
    launcher = Launcher(_suite())
    launcher.discover(sim.base_url)
    with pytest.raises(BenchworkError, match="has no /models endpoint"):
        launcher.discover(f"{sim.url}/elsewhere")
    assert launcher.models == [] and "no /models endpoint" in launcher.discover_error
    # the Discover button's path: no exception escapes into the kernel, the widget says it
    _messages(launcher, {"type": "discover", "api_base": _dead_url(), "api_key_env": ""})
    assert "is the server running" in launcher.discover_error
    assert launcher.message_is_error and "is the server running" in launcher.message
    _messages(launcher, {"type": "discover", "api_base": "  "})
    assert launcher.discover_error.startswith("no api_base")


@pytest.fixture
def empty_server():
    """A real HTTP server whose /v1/models lists nothing (the sim always serves a model)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"object": "list", "data": []}).encode()
            self.send_response(200 if self.path == "/v1/models" else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_a_server_with_no_models_says_so(empty_server: str) -> None:
    launcher = Launcher(_suite())
    frame = launcher.discover(empty_server)
    assert frame.height == 0 and launcher.models == []
    assert launcher.discover_error == f"{empty_server}/models lists no models"


def test_known_models_filter_by_name_and_provider() -> None:
    launcher = Launcher()
    frame = launcher.search_known("HAIKU", "anthropic")
    assert frame.height == launcher.known_matches > 0
    assert all("haiku" in r["model"].lower() and r["provider"] == "anthropic"
               for r in launcher.known)  # fmt: skip
    assert "anthropic" in launcher.known_providers and "openai" in launcher.known_providers
    priced = [r for r in launcher.known if r["input_per_mtok"] is not None]
    assert priced and all(r["context_window"] for r in priced)
    everything = launcher.search_known("")
    assert everything.height > frame.height and len(launcher.known) <= 200


def test_an_unsupported_parameter_is_flagged_per_provider_and_refuses_start(sim) -> None:
    launcher = Launcher(_suite(), cache="off")
    launcher.discover(sim.base_url)
    launcher.add_discovered("priced")
    claude = launcher.add_target("anthropic/claude-3-5-haiku-latest", api_base=sim.url)
    for name in ("priced", claude):
        launcher.set_param(name, "seed", "7")
        launcher.set_param(name, "temperature", "0.2")
    # openai accepts seed, anthropic does not: only the Claude target is flagged
    assert launcher.issues == {claude: ["'seed' is not supported by anthropic"]}
    assert "seed" in launcher.accepted["priced"] and "seed" not in launcher.accepted[claude]
    launcher.set_other("priced", "top_k=40")
    assert launcher.issues["priced"] == ["'top_k' is not supported by openai"]
    launcher.set_param("priced", "top_p", "hot")
    assert "top_p must be a number from 0 to 1, got 'hot'" in launcher.issues["priced"]
    with pytest.raises(BenchworkError, match=r"not started: .*'top_k' is not supported"):
        launcher.launch()
    assert launcher.message_is_error and "'seed' is not supported by anthropic" in launcher.message
    assert launcher.handles == [] and sim.requests == []
    # fixing them clears the flags; the picks keep the values that are fine
    launcher.remove_target(claude)
    launcher.set_other("priced", "")
    launcher.set_param("priced", "top_p", "")
    assert launcher.issues == {}
    assert launcher.targets[0].params == {"seed": 7, "temperature": 0.2}


def test_the_estimate_prices_each_target_and_keeps_unknown_unknown(sim) -> None:
    suite = _suite(8)
    launcher = Launcher(suite, repeats=2)
    launcher.discover(sim.base_url)
    launcher.add_discovered("priced")
    launcher.add_discovered("free-ish")
    launcher.set_param("priced", "max_tokens", 5)
    frame = launcher.estimate()
    rows = {r["target"]: r for r in frame.iter_rows(named=True)}
    direct = estimate_cost(suite, launcher.targets, repeats=2).to_dicts()
    assert frame.to_dicts() == direct  # the widget shows estimate_cost's numbers
    p = rows["priced"]
    assert p["calls"] == 16 and p["output_is_bound"] and p["output_tokens"] == 16 * 5
    assert p["cost_usd"] == pytest.approx(
        (p["input_tokens"] * 0.5 + p["output_tokens"] * 1.5) / 1e6
    )
    assert rows["free-ish"]["cost_usd"] is None  # no price: unknown, not 0
    total = launcher.estimate_total
    assert total["cost_usd"] is None and total["unknown"] == ["free-ish"]
    assert total["priced_usd"] == pytest.approx(p["cost_usd"]) and total["calls"] == 32
    launcher.remove_target("free-ish")
    assert launcher.estimate_total["cost_usd"] == pytest.approx(p["cost_usd"])
    assert sim.requests == []  # estimating sends no call


async def test_start_runs_in_the_background_and_hands_back_the_handle(sim, tmp_path: Path) -> None:
    started = []
    launcher = Launcher(_suite(), on_start=started.append, cache="off", home=tmp_path)
    launcher.discover(sim.base_url)
    _messages(
        launcher,
        {"type": "add_discovered", "id": "priced"},
        {"type": "add_discovered", "id": "free-ish"},
        {"type": "set_param", "name": "priced", "key": "temperature", "value": "0"},
        {"type": "start"},
    )
    assert not launcher.message_is_error, launcher.message
    handle = launcher.handle
    assert handle is not None and started == [handle] == launcher.handles
    run = await handle
    assert run.status == "finished" and run.results.height == 12
    assert sorted(set(run.results["target"])) == ["free-ish", "priced"]
    chats = sim.requests
    assert len(chats) == 12 and {r["path"] for r in chats} == {"/v1/chat/completions"}
    assert [r["params"].get("temperature") for r in chats if r["model"] == "priced"] == [0] * 6
    row = launcher.runs[0]
    assert (row["run_id"], row["status"], row["rows"]) == (handle.run_id, "finished", 12)
    assert launcher.message == f"run {handle.run_id} finished: 12 row(s)"
    second = launcher.launch()  # the Python API does the same as the button
    assert launcher.handle is second and launcher.handles == [handle, second] == started
    assert (await second).status == "finished"
    assert [r["status"] for r in launcher.runs] == ["finished", "finished"]


async def test_a_click_handled_on_another_thread_starts_the_run_on_the_cells_loop(
    sim, tmp_path: Path
) -> None:
    """JupyterLab can deliver a widget's messages to a kernel subshell (another thread with
    its own loop); the run must still live on the loop the notebook's cells await on."""
    launcher = Launcher(_suite(), cache="off", home=tmp_path)  # made on this (the cells') loop
    launcher.discover(sim.base_url)
    launcher.add_discovered("priced")
    errors: list[str] = []

    async def click_elsewhere() -> None:
        _messages(launcher, {"type": "start"})
        try:
            launcher.launch()
        except BenchworkError as exc:
            errors.append(str(exc))

    worker = threading.Thread(target=lambda: asyncio.run(click_elsewhere()))
    worker.start()
    await asyncio.to_thread(worker.join, 30)
    assert errors and "runs on the event loop the Launcher was created on" in errors[0]
    for _ in range(500):
        if launcher.handle is not None:
            break
        await asyncio.sleep(0.01)
    handle = launcher.handle
    assert handle is not None and len(launcher.handles) == 1
    assert handle.task.get_loop() is asyncio.get_running_loop()
    run = await handle  # would fail with "attached to a different loop" otherwise
    assert run.status == "finished" and run.results.height == 6


def test_launch_outside_an_event_loop_and_without_targets_says_why(sim) -> None:
    launcher = Launcher(_suite())
    with pytest.raises(BenchworkError, match="no target picked"):
        launcher.launch()
    launcher.discover(sim.base_url)
    launcher.add_discovered("priced")
    with pytest.raises(BenchworkError, match="running event loop"):
        launcher.launch()
    with pytest.raises(BenchworkError, match=r"unknown run option.*'repeat'.*repeats"):
        Launcher(_suite(), repeat=2)
    with pytest.raises(BenchworkError, match="no suite"):
        Launcher(targets=launcher.targets).launch()
    with pytest.raises(BenchworkError, match=r"no discovered model 'nope'.*priced"):
        launcher.add_discovered("nope")
    _messages(launcher, {"type": "remove", "name": "ghost"})
    assert launcher.message_is_error and "no target named 'ghost'" in launcher.message


def test_names_stay_unique_and_other_parameters_parse() -> None:
    launcher = Launcher()
    names = [launcher.add_target("openai/m", name="m") for _ in range(3)]
    assert names == ["m", "m-2", "m-3"]
    launcher.set_other("m", 'stop=["a, b", "c"]; logit_bias={"1": -5}, user=bob')
    assert launcher.picks[0]["params"] == {"stop": ["a, b", "c"], "logit_bias": {"1": -5},
                                           "user": "bob"}  # fmt: skip
    with pytest.raises(BenchworkError, match="'temperature 3' is not key=value"):
        launcher.set_other("m", "temperature 3")
    assert launcher.message_is_error


_KEYS = st.from_regex(r"[a-z_][a-z0-9_]{0,12}", fullmatch=True)
_SCALARS = (
    st.integers(-(10**9), 10**9)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.booleans()
)
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=3), max_leaves=6)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(_KEYS, _VALUES, max_size=5))
def test_other_text_round_trips_as_the_widget_writes_it(params: dict) -> None:
    # widgets/launcher.js shows "other" as key=JSON.stringify(value) joined by ", "
    text = ", ".join(f"{k}={json.dumps(v)}" for k, v in params.items())
    assert parse_other(text) == params


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=30), st.text(max_size=20))
def test_static_html_escapes_everything_and_has_no_script(name: str, value: str) -> None:
    state = {
        "_bw_widget": "Launcher",
        "suite_name": name,
        "suite_cases": 3,
        "picks": [{"name": name, "model": f"openai/{name}", "params": {"user": value}}],
        "issues": {name: [f"{value!r} is not supported"]},
        "estimate_rows": [
            {
                "target": name,
                "calls": 3,
                "input_tokens": 30,
                "output_tokens": 9,
                "output_is_bound": True,
                "cost_usd": None,
            }
        ],
        "estimate_total": {"cost_usd": None, "priced_usd": 0, "unknown": [name], "calls": 3},
        "runs": [{"run_id": "r<1>", "status": "finished", "rows": 3}],
    }
    out = static_html(state)
    assert out is not None
    assert "<script" not in out.lower() and "src=" not in out and "href=" not in out
    stripped = re.sub(r"<[^>]*>", "", out)
    assert "<" not in stripped.replace("&lt;", "") and "unknown" in stripped


def test_static_html_shows_targets_parameters_and_estimate(sim) -> None:
    launcher = Launcher(_suite())
    launcher.discover(sim.base_url)
    launcher.add_discovered("priced")
    launcher.add_discovered("free-ish")
    launcher.set_param("priced", "temperature", "0.7")
    launcher.set_other("free-ish", "top_k=3")
    out = static_html(launcher.get_state())
    assert out is not None and 'data-widget="Launcher"' in out
    assert "<code>openai/priced</code>" in out and "temperature=0.7" in out
    cost = launcher.estimate_rows[0]["cost_usd"]
    assert f"${cost:,.4f}" in out
    assert "&#x27;top_k&#x27; is not supported by openai" in out
    assert "total: unknown (priced targets:" in out and "no price for free-ish" in out
    assert repr(launcher) == "Launcher('launch-suite', targets=[priced, free-ish], runs=0)"


@settings(max_examples=100, deadline=None)
@given(st.one_of(st.floats(), st.integers(-5, 5), st.text(max_size=4), st.booleans(), st.none()))
def test_standard_parameter_checks_match_their_ranges(value: object) -> None:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    finite = number and math.isfinite(value)  # type: ignore[arg-type]
    whole = isinstance(value, int) and not isinstance(value, bool)
    expect = {
        "temperature": finite and 0 <= value <= 2,  # type: ignore[operator]
        "top_p": finite and 0 <= value <= 1,  # type: ignore[operator]
        "max_tokens": whole and value >= 1,  # type: ignore[operator]
        "seed": whole,
        "top_k": True,  # not a standard field: only the provider check applies
    }
    for key, ok in expect.items():
        problem = value_problem(key, value)
        assert (problem is None) == ok, (key, value, problem)
        assert problem is None or problem.startswith(f"{key} must be")


def test_an_executed_notebook_keeps_the_launchers_last_state(tmp_path: Path) -> None:
    """papermill runs a notebook that launches from a cell and awaits in the next one: the saved
    widget state has the finished run (sent as part of the later cell) and its static HTML
    shows the targets, parameters and estimate."""
    papermill = pytest.importorskip("papermill")
    import nbformat
    from support import sim_setup_code, write_notebook

    from benchwork.widgets import WIDGET_STATE_MIME

    setup = sim_setup_code(
        suite='bw.Suite.from_records([{"id": f"c{i}", "input": f"Say {i}.", "expected": f"n{i}"}'
        ' for i in range(5)], name="papermill-launch")',
        models='[SimModel("pm", ttft_s=0.02, itl_s=0.01, tokens=3, input_per_mtok=1.0, '
        "output_per_mtok=3.0)]",
        concurrency=1,
        extra="from benchwork.widgets import Launcher",
    )
    cells = [
        setup,
        'launcher = Launcher(suite, api_base=sim.base_url, cache="off")\n'
        'launcher.discover()\nlauncher.add_discovered("pm")\n'
        'launcher.set_param("pm", "max_tokens", 8)\nlauncher.launch()\nlauncher',
        'run = await launcher.handle\nprint("done", run.status, run.results.height)',
    ]
    src, out = tmp_path / "l.ipynb", tmp_path / "l-out.ipynb"
    write_notebook(src, cells)
    papermill.execute_notebook(
        str(src), str(out), kernel_name="python3", progress_bar=False, cwd=str(tmp_path)
    )
    nb = nbformat.read(out, as_version=4)
    assert "done finished 5" in "".join(o.get("text", "") for o in nb.cells[2].outputs)
    states = nb.metadata["widgets"][WIDGET_STATE_MIME]["state"].values()
    (state,) = [s["state"] for s in states if s["state"].get("_bw_widget") == "Launcher"]
    (run,) = state["runs"]
    assert (run["status"], run["done"], run["total"], run["rows"]) == ("finished", 5, 5, 5)
    (est,) = state["estimate_rows"]
    assert est["output_tokens"] == 5 * 8 and est["output_is_bound"]
    page = static_html(state)
    assert page is not None
    assert "<code>openai/pm</code>" in page and "max_tokens=8" in page
    assert f"${est['cost_usd']:,.4f}" in page and "finished, 5 rows" in page


async def test_a_suite_builder_is_followed_live_and_an_invalid_case_refuses_start(
    sim, tmp_path: Path
) -> None:
    """Launcher(builder): the estimate follows the builder's edits, Start runs the cases as
    edited then, and a case the loader refuses blocks the start (nothing reaches the sim)."""
    from benchwork.widgets import SuiteBuilder

    builder = SuiteBuilder(_suite(3))
    launcher = Launcher(builder, cache="off", home=tmp_path)
    assert (launcher.suite_name, launcher.suite_cases) == ("launch-suite", 3)
    launcher.discover(sim.base_url)
    launcher.add_discovered("priced")
    assert launcher.estimate_total["calls"] == 3
    builder.add(bw.Case("extra", input="Say 9 twice.", expected="9 9"))
    assert launcher.suite_cases == 4 and launcher.estimate_total["calls"] == 4
    assert (
        launcher.estimate()["input_tokens"][0]
        > estimate_cost(_suite(3), launcher.targets)["input_tokens"][0]
    )  # priced again from the edited suite, not from a stale cache

    cases = [dict(c) for c in builder.cases]
    cases[1]["id"] = cases[0]["id"]  # what typing a duplicate id in the grid does
    builder.cases = cases
    assert launcher.estimate_rows == []
    assert "invalid case" in launcher.estimate_total["problem"]
    assert "l0" in launcher.estimate_total["problem"]
    with pytest.raises(BenchworkError, match="suite builder has an invalid case"):
        launcher.launch()
    assert launcher.message_is_error and launcher.handle is None
    assert sim.requests == []

    cases = [dict(c) for c in builder.cases]
    cases[1]["id"] = "l1-renamed"
    builder.cases = cases
    assert launcher.estimate_total["calls"] == 4
    run = await launcher.launch()
    assert run.status == "finished"
    assert sorted(run.results["case_id"]) == ["extra", "l0", "l1-renamed", "l2"]
    assert len(sim.requests) == 4
    launcher.suite = _suite(2)  # a plain suite again: the builder is no longer followed
    builder.add(bw.Case("ignored", input="x"))
    assert (launcher.suite_name, launcher.suite_cases) == ("launch-suite", 2)
