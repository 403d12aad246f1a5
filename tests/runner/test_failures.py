"""A failed run must not look like a success (issue 9 item 9).

Seen: a run where every call failed (no server at api_base, an unknown model) exited 0 with
status 'finished', a cost of $0.000000, a note about cached timings when nothing was cached,
and its cause only in retry lines that --quiet hides.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import benchwork as bw
from benchwork.sim import SimModel, SimServer


def _dead_url() -> str:
    """An address where nothing listens (a port bound and released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    with SimServer([SimModel("alive", ttft_s=0.0, itl_s=0.0, tokens=2)]) as server:
        yield server


@pytest.fixture
def suite_file(tmp_path: Path) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: s\ncases:\n  - {id: a, input: hi, expected: x}\n  - {id: b, input: ho, expected: y}\n",
        encoding="utf-8",
    )
    return path


def _cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "benchwork", *args, "--home", str(home), "--cache", "off"]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120)


def test_no_server_exits_1_with_one_line_naming_the_cause(suite_file: Path, tmp_path: Path) -> None:
    url = _dead_url()
    proc = _cli("run", str(suite_file), "-m", "openai/nothing-here", "--api-base", url,
                "--quiet", home=tmp_path / "h")  # fmt: skip
    assert proc.returncode == 1, proc.stdout
    lines = [line for line in proc.stderr.splitlines() if line.startswith("benchwork: ")]
    assert len(lines) == 1, proc.stderr
    assert "all 2 calls failed (transport)" in lines[0]
    assert f"connection refused at {url}" in lines[0] and "is the server running?" in lines[0]
    assert "cached calls' original timings" not in proc.stdout, "nothing was cached"
    assert "$0.000000" not in proc.stdout, "an unpriced model's cost is unknown, not 0"
    run_dir = next((tmp_path / "h" / "runs").iterdir())
    assert json.loads((run_dir / "manifest.json").read_text())["status"] == "failed"


def test_show_gives_the_cause_too(suite_file: Path, tmp_path: Path) -> None:
    _cli("run", str(suite_file), "-m", "openai/x", "--api-base", _dead_url(), "--quiet",
         home=tmp_path / "h")  # fmt: skip
    run_id = next((tmp_path / "h" / "runs").iterdir()).name
    shown = subprocess.run(
        [sys.executable, "-m", "benchwork", "show", run_id, "--home", str(tmp_path / "h")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert "failed: openai/x: all 2 calls failed (transport)" in shown.stdout


def test_one_dead_target_among_good_ones_still_exits_1(sim: SimServer, tmp_path: Path) -> None:
    suite = bw.Suite(name="s", cases=[bw.Case(id="a", input="hi")])
    good = bw.Target("openai/alive", api_base=sim.base_url)
    dead = bw.Target("openai/alive", name="dead", api_base=_dead_url())
    run = bw.run_sync(suite, [good, dead], cache="off", home=tmp_path / "h", progress=False)
    assert run.status == "finished", "some calls succeeded"
    failures = run.failures()
    assert [(f.target, f.failed, f.calls, f.all_failed) for f in failures] == [("dead", 1, 1, True)]

    from benchwork.cli._output import exit_code

    assert exit_code(run) == 1


def test_unknown_model_hints_at_the_model_id(sim: SimServer, tmp_path: Path) -> None:
    suite = bw.Suite(name="s", cases=[bw.Case(id="a", input="hi")])
    run = bw.run_sync(
        suite, bw.Target("openai/no-such-model", api_base=sim.base_url), cache="off",
        home=tmp_path / "h", progress=False,
    )  # fmt: skip
    assert run.status == "failed"
    (failure,) = run.failures()
    assert failure.error_type == "not_found" and "model id" in failure.hint


def test_a_host_that_does_not_exist_is_not_retried(tmp_path: Path) -> None:
    suite = bw.Suite(name="s", cases=[bw.Case(id="a", input="hi")])
    target = bw.Target("openai/m", api_base="http://no-such-host.invalid/v1")  # RFC 2606
    run = bw.run_sync(suite, target, cache="off", home=tmp_path / "h", progress=False)
    row = run.results.row(0, named=True)
    assert row["status"] == "error" and row["attempts"] == 1, row
    (failure,) = run.failures()
    assert failure.error_type == "unknown_host" and "api_base" in failure.hint


@pytest.mark.parametrize(
    "url", ["localhost:8000/v1", "htp://x/v1", "http://", "http://exa mple/v1",
            "http://127.0.0.1:99999/v1", "http://[::1/v1"],
)  # fmt: skip
def test_a_malformed_api_base_is_refused_before_any_call(url: str) -> None:
    with pytest.raises(bw.errors.TargetError, match="'api_base' must be an http"):
        bw.Target("openai/m", api_base=url)
