"""The command line: demo, run, and one-line errors with a non-zero exit (never a traceback)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from benchwork.cli import main
from benchwork.sim import DEMO_PORT, SimModel, SimServer


def _cli(*args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "benchwork", *args], capture_output=True,
                          text=True, timeout=120, env=env)  # fmt: skip


def test_demo_ranks_three_models_with_speed_cost_and_accuracy():
    proc = _cli("demo", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    rows = out["summary"]
    assert {r["target"] for r in rows} == {"fast-small", "balanced", "slow-large"}
    scores = [r["score_exact_mean"] for r in rows]
    assert scores == sorted(scores, reverse=True)  # ranked by accuracy
    by = {r["target"]: r for r in rows}
    assert by["slow-large"]["score_exact_mean"] > by["fast-small"]["score_exact_mean"]
    assert by["fast-small"]["ttft_p50_s"] < by["slow-large"]["ttft_p50_s"]
    assert by["fast-small"]["cost_usd"] < by["slow-large"]["cost_usd"]
    assert all(r["calls"] == 24 and r["errors"] == 0 for r in rows)


def test_demo_text_output_says_where_results_are(tmp_path):
    proc = _cli("demo", env_extra={"BENCHWORK_HOME": str(tmp_path / "h")})
    assert proc.returncode == 0, proc.stderr
    assert "TTFT p50" in proc.stdout and "slow-large" in proc.stdout
    assert f"results: {tmp_path / 'h'}" in proc.stdout
    assert "72 calls (0 from cache, 72 sent)" in proc.stderr
    # the second demo takes another port (DEMO_PORT is held below), and must still not pay:
    # the demo's cache keys name its sim, not the sim's URL
    with socket.socket() as holder:
        try:
            holder.bind(("127.0.0.1", DEMO_PORT))
            holder.listen()
        except OSError:
            pass  # already taken by someone else: just as good
        again = _cli("demo", env_extra={"BENCHWORK_HOME": str(tmp_path / "h")})
    assert again.returncode == 0, again.stderr
    assert f":{DEMO_PORT}/v1" not in again.stdout, "the demo's sim should have moved port"
    assert "72 calls (72 from cache, 0 sent)" in again.stderr


@pytest.fixture
def sim():
    with SimServer([SimModel("m", ttft_s=0, itl_s=0, tokens=4)], answers={"hi": "hello"}) as s:
        yield s


def test_run_with_models_and_json(tmp_path, sim, capsys):
    suite = tmp_path / "s.yaml"
    suite.write_text("name: s\ncases:\n  - id: a\n    input: hi\n    expected: hello\n")
    code = main(["run", str(suite), "-m", "openai/m", "--api-base", sim.base_url,
                 "--repeats", "2", "--concurrency", "3", "--json", "--quiet"])  # fmt: skip
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    (row,) = out["summary"]
    assert row["target"] == "openai/m" and row["calls"] == 2 and row["score_exact_mean"] == 1.0
    assert len(sim.requests) == 2


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["run", "missing.yaml", "-m", "openai/x"], "missing.yaml"),
        (["run", "{suite}"], "no models"),
        (["run", "{bad}", "-m", "openai/x"], "bad.yaml: line 3: case 'q1': 'input' is missing"),
        (["run", "{suite}", "-m", "openai/x", "--concurrency", "0"], "--concurrency"),
        (
            ["run", "{suite}", "-m", "openai/x", "--targets", "nope.yaml"],
            "nope.yaml: file not found",
        ),
        (["run", "{suite}", "-m", "x", "--cache", "sometimes"], "invalid choice"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_is_one_line_and_non_zero(tmp_path, args, needle):
    suite = tmp_path / "s.yaml"
    suite.write_text("name: s\ncases:\n  - id: a\n    input: hi\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: s\ncases:\n  - id: q1\n    expected: 4\n")
    argv = [a.format(suite=suite, bad=bad) for a in args]
    proc = subprocess.run([sys.executable, "-m", "benchwork", *argv], capture_output=True,
                          text=True, timeout=60, cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert needle in lines[0]
    assert "Traceback" not in proc.stderr


def test_ctrl_c_keeps_finished_rows_and_says_how_to_resume(tmp_path):
    import signal
    import time

    from benchwork.sim import SimProcess

    suite = tmp_path / "s.jsonl"
    suite.write_text("".join(f'{{"id": "c{i}", "input": "p {i}"}}\n' for i in range(60)))
    home = tmp_path / "home"
    with SimProcess([SimModel("slow", ttft_s=0.05, itl_s=0.01, tokens=10)]) as sim:
        proc = subprocess.Popen(
            [sys.executable, "-m", "benchwork", "run", str(suite), "-m", "openai/slow",
             "--api-base", sim.base_url, "--concurrency", "2", "--home", str(home)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        journal = None
        while time.monotonic() < deadline:
            found = list(home.glob("runs/*/journal.jsonl"))
            if found and len(found[0].read_text().splitlines()) >= 6:
                journal = found[0]
                break
            time.sleep(0.05)
        assert journal is not None, "the run never journaled 6 calls"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "benchwork resume" in err and "Traceback" not in err
    manifest = json.loads((journal.parent / "manifest.json").read_text())
    assert manifest["status"] == "cancelled"
    rows = journal.read_text().splitlines()
    assert 6 <= len(rows) < 60
    assert manifest["calls"] == len(rows)
    assert all(json.loads(r)["status"] == "ok" for r in rows)


def test_cache_why_with_an_unknown_case_is_one_clear_line(tmp_path, sim, capsys):
    suite = tmp_path / "s.yaml"
    suite.write_text("name: s\ncases:\n  - id: a\n    input: hi\n")
    assert main(["run", str(suite), "-m", "openai/m", "--api-base", sim.base_url, "--quiet"]) == 0
    run_id = json.loads(_cli("runs", "--json").stdout)[0]["run_id"]
    capsys.readouterr()
    assert main(["cache", "why", run_id, "--case", "zz"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("benchwork: error:") and "'zz'" in err and "'a'" in err
    assert len(err.splitlines()) == 1


def test_prune_refuses_a_negative_age(capsys):
    assert main(["cache", "prune", "--older-than", "-1"]) == 2
    assert "--older-than must be a number of days >= 0" in capsys.readouterr().err
