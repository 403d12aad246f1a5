"""Crash safety: kill -9 a process mid-run, resume it, and pay for nothing twice.

The run happens in a child process (a small script) against a simulator in THIS process, so
the sim's request log survives the kill and tells us exactly what was sent before and after.
"""

from __future__ import annotations

import json
import sys
import textwrap
from collections import Counter
from pathlib import Path

import polars as pl
import pytest
from support import kill_9_when

import benchwork as bw
from benchwork.cache import CallCache, cache_key
from benchwork.sim import Fault, SimModel, SimServer

CASES = 40
CONCURRENCY = 4
ALL = {f"c{i:02d}" for i in range(CASES)}

SCRIPT = textwrap.dedent(
    """
    import sys
    import benchwork as bw

    base_url, home, cache_dir, run_id, n = sys.argv[1:6]
    suite = bw.Suite(
        name="killme",
        cases=[bw.Case(id=f"c{i:02d}", input=f"question {i}", expected="x") for i in range(int(n))],
    )
    target = bw.Target("openai/slow", api_base=base_url, concurrency=int(sys.argv[6]))
    print("starting", flush=True)
    bw.run_sync(suite, target, home=home, cache_dir=cache_dir, run_id=run_id, progress=False)
    print("finished", flush=True)  # never reached: the test kills us first
    """
)


def _prompt_case(prompt: str) -> str:
    return f"c{int(prompt.split()[-1]):02d}"


def _key(base_url: str, case_id: str) -> str:
    messages = [{"role": "user", "content": f"question {int(case_id[1:])}"}]
    key, _ = cache_key(
        model="openai/slow", api_base=base_url, messages=messages, params={}, repeat=0
    )
    return key


def _journal_lines(path: Path) -> list[bytes]:
    try:
        return path.read_bytes().splitlines(keepends=True)
    except FileNotFoundError:
        return []


def test_kill_9_mid_run_then_resume_pays_for_nothing_twice(tmp_path):
    home, cache_dir, run_id = tmp_path / "runs", tmp_path / "cache", "killed-run-1"
    journal = home / "runs" / run_id / "journal.jsonl"
    script = tmp_path / "run_me.py"
    script.write_text(SCRIPT)
    # ~0.1 s per call at 4 in flight: the 40-call run would need ~1 s; we kill it well before
    slow = SimModel("slow", ttft_s=0.06, itl_s=0.01, tokens=5)
    with SimServer([slow]) as sim:
        argv = [sys.executable, str(script), sim.base_url, str(home), str(cache_dir), run_id]
        out = kill_9_when(
            [*argv, str(CASES), str(CONCURRENCY)],
            lambda: len(_journal_lines(journal)) >= 10,
            what="the child journaling 10 calls",
        )
        assert b"finished" not in out

        before_kill = sim.requests
        lines = _journal_lines(journal)
        assert 10 <= len(lines) < CASES, "killed mid-run"
        # A crash while writing leaves a torn last line. Make sure there is one: cut the last
        # complete line in half, as if the kill had landed inside its write.
        if lines[-1].endswith(b"\n"):
            torn = lines[-1][: len(lines[-1]) // 2]
            journal.write_bytes(b"".join(lines[:-1]) + torn)
            lines = lines[:-1]
        journaled = [json.loads(line) for line in lines if line.endswith(b"\n")]
        done_before = {r["case_id"] for r in journaled}
        assert len(done_before) == len(journaled) >= 9
        # A call is cached only after its journal line is fsynced, so after a real torn write
        # it is not in the cache; our simulated tear cuts a line that WAS committed, so its
        # call may be in the cache, and then the resume takes it from there (no re-pay either).
        # (keys computed as the planner does: the why-index is written after the entry, so a
        # kill between the two would hide a cached call from an index lookup)
        with CallCache(cache_dir) as cache:
            in_cache = {c for c in ALL if _key(sim.base_url, c) in cache}
        # the keys above are the planner's: journaled calls are (nearly all) cached already
        assert len(in_cache & done_before) >= len(done_before) - CONCURRENCY

        # what the store says about the interrupted run, before resuming
        listed = bw.runs(home).row(0, named=True)
        # the manifest still says 'running', but no process holds the run: interrupted
        assert listed["run_id"] == run_id and listed["status"] == "interrupted"
        with pytest.warns(RuntimeWarning, match="incomplete last journal line"):
            assert listed["calls"] == len(bw.load_run(run_id, home).results)

        sim.reset_log()
        with pytest.warns(RuntimeWarning, match="incomplete last journal line"):
            run = bw.resume_sync(run_id, home=home, cache_dir=cache_dir, progress=False)
        after = sim.requests

    # every (case, target, repeat) exactly once, and the run is finished
    assert run.status == "finished"
    idents = Counter(
        (r["case_id"], r["target"], r["repeat"]) for r in run.results.iter_rows(named=True)
    )
    expected = {(c, "openai/slow", 0) for c in ALL}
    assert set(idents) == expected and set(idents.values()) == {1}
    stored = bw.load_run(run_id, home)
    assert stored.status == "finished" and stored.results.height == CASES
    assert stored.results["case_id"].n_unique() == CASES
    assert bw.runs(home).row(0, named=True)["calls"] == CASES

    # nothing that was journaled before the kill went to the server again ...
    resent = [_prompt_case(r["prompt"]) for r in after]
    assert not set(resent) & done_before, "a journaled call was paid for twice"
    # ... and the resume sent exactly the calls the journal lacked, once each. Among them are
    # the calls that were in flight at the kill (sent, not yet journaled) and the torn one:
    # those two kinds are re-sent, and that is expected.
    assert Counter(resent) == Counter(sorted(ALL - done_before - in_cache))
    in_flight = {_prompt_case(r["prompt"]) for r in before_kill} - done_before - in_cache
    assert set(resent) >= in_flight
    from_cache = set(run.results.filter(pl.col("cached"))["case_id"])
    assert from_cache == in_cache - done_before
    # the rows kept from before the kill are the originals (timings and all)
    kept = {r["case_id"]: r for r in run.results.iter_rows(named=True)}
    for old in journaled:
        assert kept[old["case_id"]]["latency_s"] == old["latency_s"]
        assert kept[old["case_id"]]["run_id"] == run_id
    assert not (set(kept) & from_cache & done_before), "journaled rows come from the journal"


def test_resume_of_a_finished_run_sends_nothing(tmp_path):
    with SimServer([SimModel("slow", ttft_s=0.0, itl_s=0.0, tokens=3)]) as sim:
        target = bw.Target("openai/slow", api_base=sim.base_url)
        suite = bw.Suite(name="s", cases=[bw.Case(id=f"c{i}", input=f"q{i}") for i in range(5)])
        home = tmp_path / "runs"
        first = bw.run_sync(suite, target, home=home, cache="off", progress=False)
        sim.reset_log()
        again = bw.resume_sync(first.id, home=home, progress=False)
        assert sim.requests == []
    assert again.status == "finished" and again.results.height == 5
    assert again.results.sort("case_id").equals(first.results.sort("case_id"))
    with pytest.raises(bw.errors.RunNotFoundError):
        bw.resume_sync("no-such-run", home=home, progress=False)


def test_resume_retry_errors_keeps_one_row_per_call(tmp_path):
    # the first 3 requests fail (401), so the first run ends with 3 errors out of 4 calls
    flaky = SimModel("flaky", ttft_s=0.0, itl_s=0.0, tokens=3, faults=[Fault("401", first=3)])
    with SimServer([flaky]) as sim:
        target = bw.Target("openai/flaky", api_base=sim.base_url, concurrency=1)
        suite = bw.Suite(name="s", cases=[bw.Case(id=f"c{i}", input=f"q{i}") for i in range(4)])
        home, cache_dir = tmp_path / "runs", tmp_path / "cache"
        first = bw.run_sync(suite, target, home=home, cache_dir=cache_dir, progress=False)
        assert first.results["status"].to_list().count("error") == 3
        plain = bw.resume_sync(first.id, home=home, cache_dir=cache_dir, progress=False)
        assert len(sim.requests) == 4, "errors are kept unless retry_errors=True"
        assert plain.results["status"].to_list().count("error") == 3
        fixed = bw.resume_sync(
            first.id, home=home, cache_dir=cache_dir, retry_errors=True, progress=False
        )
        assert len(sim.requests) == 4 + 3
    for run in (fixed, bw.load_run(first.id, home)):
        assert run.results.height == 4 and (run.results["status"] == "ok").all()
        assert sorted(run.results["case_id"].to_list()) == ["c0", "c1", "c2", "c3"]
    row = bw.runs(home).row(0, named=True)
    assert (row["calls"], row["errors"], row["status"]) == (4, 0, "finished")
    # the journal keeps the history (3 error rows, then their retries)
    lines = (home / "runs" / first.id / "journal.jsonl").read_text().splitlines()
    assert len(lines) == 7


JUDGED_SCRIPT = textwrap.dedent(
    """
    import sys
    import benchwork as bw

    base_url, home, cache_dir = sys.argv[1:4]
    suite = bw.Suite(
        name="judged",
        cases=[bw.Case(id=f"j{i}", input=f"question {i}", expected="x") for i in range(3)],
    )
    judge = {"type": "judge_reference", "model": "openai/slowjudge", "api_base": base_url}
    bw.run_sync(suite, bw.Target("openai/quick", api_base=base_url), scorers=[judge],
                home=home, cache_dir=cache_dir, run_id="judged", progress=False)
    """
)


def test_kill_while_a_judge_grades_does_not_re_pay_the_candidate_calls(tmp_path):
    """The candidate's answer is cached before a slow LLM judge starts on it."""
    home, cache_dir = tmp_path / "runs", tmp_path / "cache"
    script = tmp_path / "judged.py"
    script.write_text(JUDGED_SCRIPT)
    models = [
        SimModel("quick", ttft_s=0.0, itl_s=0.0, tokens=3),
        SimModel("slowjudge", role="judge", ttft_s=60.0),
    ]
    with SimServer(models) as sim:
        kill_9_when(
            [sys.executable, str(script), sim.base_url, str(home), str(cache_dir)],
            lambda: sum(r["model"] == "slowjudge" for r in sim.requests) >= 3,
            what="the judge being asked",
            poll=0.02,
            settle=0.3,  # the judge is now "thinking"; the candidates answered long ago
        )
        candidate_calls = sum(r["model"] == "quick" for r in sim.requests)
        assert candidate_calls == 3
        sim.reset_log()
        run = bw.resume_sync(
            "judged", home=home, cache_dir=cache_dir, scorers=["exact"], progress=False
        )
        resent = [r for r in sim.requests if r["model"] == "quick"]
    assert resent == [], "a candidate call finished before the kill was paid for twice"
    assert run.status == "finished" and run.results["cached"].to_list() == [True] * 3
