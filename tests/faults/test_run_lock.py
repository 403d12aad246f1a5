"""One writer per run (issue 9 item 7): a second writer is refused with the holder's pid, and
a lock left by a kill -9 is stale.

Real processes against the sim in this process: a run in a child script, ``python -m
benchwork resume`` children, SIGKILL. The sim's request log says what each process paid.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest

import benchwork as bw
from benchwork.errors import RunLockedError
from benchwork.sim import SimModel, SimServer
from benchwork.store import RunStore

CASES = 30
ALL = {f"c{i:02d}" for i in range(CASES)}

RUN_SCRIPT = textwrap.dedent(
    """
    import sys
    import benchwork as bw

    base_url, home, run_id, n = sys.argv[1:5]
    suite = bw.Suite(
        name="locked",
        cases=[bw.Case(id=f"c{i:02d}", input=f"question {i}") for i in range(int(n))],
    )
    target = bw.Target("openai/slow", api_base=base_url, concurrency=2)
    bw.run_sync(suite, target, home=home, cache="off", run_id=run_id, progress=False)
    """
)


def _case(request: dict) -> str:
    return f"c{int(request['prompt'].split()[-1]):02d}"


def _lines(path: Path) -> int:
    try:
        return len(path.read_bytes().splitlines())
    except FileNotFoundError:
        return 0


def _lock_pid(lock: Path) -> int | None:
    try:
        return json.loads(lock.read_text() or "{}").get("pid")
    except (OSError, ValueError):
        return None


def _wait(what: str, cond, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert proc.poll() is None, (f"the child exited before {what}", proc.communicate())
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def _resume_cli(home: Path, run_id: str) -> list[str]:
    return [sys.executable, "-m", "benchwork", "resume", run_id, "--home", str(home), "--quiet"]


def _popen(argv: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def test_second_writer_is_refused_and_a_killed_writers_lock_is_stale(tmp_path):
    home, run_id = tmp_path / "runs", "locked-run"
    run_dir = home / "runs" / run_id
    journal, lock = run_dir / "journal.jsonl", run_dir / ".lock"
    script = tmp_path / "run_me.py"
    script.write_text(RUN_SCRIPT)
    # 30 calls of ~0.8 s, 2 at a time: each writer below runs for about 12 s, longer than a
    # refused `benchwork resume` takes to start and fail on a loaded 2-core machine (with
    # 0.25 s calls a clean-clone CI run once saw the first resume finish before that)
    slow = SimModel("slow", ttft_s=0.8, itl_s=0.0, tokens=3)
    procs: list[subprocess.Popen] = []
    try:
        with SimServer([slow]) as sim:
            # 1. the run is going; a resume of it is refused, naming the run and the pid
            run = _popen([sys.executable, str(script), sim.base_url, str(home), run_id, str(CASES)])
            procs.append(run)
            _wait("two calls journaled", lambda: _lines(journal) >= 2, run)
            assert _lock_pid(lock) == run.pid
            refused = subprocess.run(
                _resume_cli(home, run_id), capture_output=True, text=True, timeout=120
            )
            assert run.poll() is None, "the run must still be going for this check"
            assert refused.returncode == 2, refused.stderr
            assert f"run {run_id!r} is being written by pid {run.pid}" in refused.stderr
            assert "unexpected" not in refused.stderr
            # 2. kill -9 the run: its lock file stays, naming a dead pid, and is stale
            os.kill(run.pid, signal.SIGKILL)
            run.wait(10)
            assert lock.exists() and _lock_pid(lock) == run.pid
            assert RunStore(home).writer_pid(run_id) is None
            before = Counter(_case(r) for r in sim.requests)
            done = {json.loads(line)["case_id"] for line in journal.read_bytes().splitlines()}
            assert set(before.values()) == {1}, "the refused resume paid for nothing"
            assert 2 <= len(done) < CASES
            # 3. a resume takes the stale lock over; a second resume meanwhile is refused
            sim.reset_log()
            first = _popen(_resume_cli(home, run_id))
            procs.append(first)
            _wait("the resume holding the lock", lambda: _lock_pid(lock) == first.pid, first)
            second = subprocess.run(
                _resume_cli(home, run_id), capture_output=True, text=True, timeout=120
            )
            assert first.poll() is None, "the first resume must still be going for this check"
            assert second.returncode == 2, second.stderr
            assert f"is being written by pid {first.pid}" in second.stderr
            _, err = first.communicate(timeout=120)
            assert first.returncode == 0, err
            after = Counter(_case(r) for r in sim.requests)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(10)
    # every call once in the results; the resumes paid only for what the journal lacked,
    # each once (the refused one paid nothing)
    stored = bw.load_run(run_id, home)
    assert stored.status == "finished" and stored.results.height == CASES
    assert sorted(stored.results["case_id"]) == sorted(ALL)
    assert set(after) == ALL - done and set(after.values()) == {1}
    assert not lock.exists(), "a clean finish removes the lock file"


def test_lock_in_one_process(tmp_path):
    store = RunStore(tmp_path / "ws")
    writer = store.create("r", {"targets": []}, {"name": "s"})
    lock = writer.path / ".lock"
    assert _lock_pid(lock) == os.getpid()
    assert store.writer_pid("r")["pid"] == os.getpid()
    with pytest.raises(
        RunLockedError, match=rf"run 'r' is being written by this process \(pid {os.getpid()}\)"
    ):
        store.open("r")
    with pytest.raises(RunLockedError):
        store.rewrite("r", [])  # rescore rewrites the journal: not while a writer appends
    with pytest.raises(RunLockedError):
        store.delete("r")
    writer.finish("finished")
    writer.close()
    assert not lock.exists() and store.writer_pid("r") is None
    with store.open("r") as again:  # free again
        assert _lock_pid(lock) == os.getpid()
    # a lock file naming a dead process, not held by anyone: stale, taken over
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    lock.write_text(json.dumps({"pid": int(dead.stdout), "host": "here"}))
    with store.open("r"):
        assert _lock_pid(lock) == os.getpid()
    assert again.appended == 0


def test_a_refused_session_pays_nothing(tmp_path):
    """In-process: a resume while another writer holds the run is refused before planning
    any call, and the holder keeps going."""
    with SimServer([SimModel("quick", ttft_s=0.0, itl_s=0.0, tokens=3)]) as sim:
        target = bw.Target("openai/quick", api_base=sim.base_url)
        suite = bw.Suite(name="s", cases=[bw.Case(id=f"c{i}", input=f"q{i}") for i in range(3)])
        home = tmp_path / "runs"
        first = bw.run_sync(suite, target, home=home, cache="off", progress=False)
        sim.reset_log()
        holder = RunStore(home).open(first.id)
        try:
            with pytest.raises(RunLockedError, match=str(os.getpid())):
                bw.resume_sync(first.id, home=home, retry_errors=True, progress=False)
            assert sim.requests == []
        finally:
            holder.close()
        again = bw.resume_sync(first.id, home=home, progress=False)
    assert again.status == "finished" and again.results.height == 3
