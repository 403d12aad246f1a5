"""Single-flight across processes (issue 9 item 7): two processes running one suite on one
empty cache pay for each call once; a leader that fails (or dies) hands the call over.

Real processes against the sim in this process; its request log counts what was paid.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import time
from collections import Counter

from benchwork.cache import CallCache, cache_key
from benchwork.sim import SimModel, SimServer

N = 16

SCRIPT = textwrap.dedent(
    """
    import sys
    import benchwork as bw

    base_url, home, cache_dir, n = sys.argv[1:5]
    suite = bw.Suite(
        name="shared",
        cases=[bw.Case(id=f"c{i:02d}", input=f"question {i}") for i in range(int(n))],
    )
    target = bw.Target("openai/slow", api_base=base_url, concurrency=4)
    run = bw.run_sync(suite, target, home=home, cache_dir=cache_dir, progress=False)
    cached = int(run.results["cached"].sum())
    print("done", run.status, run.results.height, cached, flush=True)
    """
)


def _start(script, sim, home, cache_dir, n=N) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(script), sim.base_url, str(home), str(cache_dir), str(n)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _result(proc: subprocess.Popen) -> tuple[str, int, int]:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    _, status, rows, cached = out.split()
    return status, int(rows), int(cached)


def test_two_processes_on_one_empty_cache_pay_each_call_once(tmp_path):
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    cache_dir = tmp_path / "cache"
    slow = SimModel("slow", ttft_s=0.2, itl_s=0.0, tokens=3)
    with SimServer([slow]) as sim:
        a = _start(script, sim, tmp_path / "home-a", cache_dir)
        b = _start(script, sim, tmp_path / "home-b", cache_dir)
        (status_a, rows_a, cached_a), (status_b, rows_b, cached_b) = _result(a), _result(b)
        paid = Counter(r["prompt"] for r in sim.requests)
    assert status_a == status_b == "finished" and rows_a == rows_b == N
    assert len(paid) == N and set(paid.values()) == {1}, "a call was paid twice"
    # each call paid by one process is a cache hit in the other
    assert cached_a + cached_b == N
    with CallCache(cache_dir) as cache:
        assert len(cache) == N


def test_a_leader_that_fails_hands_the_call_over(tmp_path):
    """This process holds one key's lease, as a kernel in the middle of that call would; the
    child pays every other call and waits for that one; when the lease goes without an
    answer (the call failed), the child makes the call itself."""
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    cache_dir = tmp_path / "cache"
    slow = SimModel("slow", ttft_s=0.0, itl_s=0.0, tokens=3)
    with SimServer([slow]) as sim:
        key, _ = cache_key(
            model="openai/slow",
            api_base=sim.base_url,
            messages=[{"role": "user", "content": "question 3"}],
            params={},
            repeat=0,
        )
        cache = CallCache(cache_dir)
        hit, lease = asyncio.run(cache.claim(key))
        assert hit is None and lease is not None
        child = _start(script, sim, tmp_path / "home", cache_dir)
        deadline = time.monotonic() + 60
        while len(sim.requests) < N - 1:
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "the child never paid the other calls"
            time.sleep(0.01)
        time.sleep(0.5)
        assert child.poll() is None, "the child must be waiting for the leased call"
        assert "question 3" not in {r["prompt"] for r in sim.requests}
        lease.release()  # the leader gave up without an answer
        status, rows, cached = _result(child)
        paid = Counter(r["prompt"] for r in sim.requests)
        cache.close()
    assert status == "finished" and rows == N and cached == 0
    assert len(paid) == N and set(paid.values()) == {1}
