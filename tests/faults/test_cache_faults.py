"""Cache faults never kill a run or lose a paid call (issue 9 item 5).

Each fault is built for real: garbage bytes in cache.db, a cache.db cut in half, entries
rewritten with bad JSON / wrong types / a pickle, a file where the cache folder should be,
and a cache that fills up mid-run (RLIMIT_FSIZE in a child process). Calls go over HTTP to
the sim, whose request log says what was paid.
"""

from __future__ import annotations

import gc
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import diskcache
import pytest

import benchwork as bw
from benchwork.cache import CallCache
from benchwork.errors import CacheError
from benchwork.sim import SimModel, SimServer

N = 6


def _suite(n: int = N) -> bw.Suite:
    return bw.Suite(name="s", cases=[bw.Case(id=f"c{i}", input=f"q{i}") for i in range(n)])


@pytest.fixture
def sim():
    with SimServer([SimModel("quick", ttft_s=0.0, itl_s=0.0, tokens=3)]) as server:
        yield server


def _run(sim, home: Path, cache_dir, **kw) -> tuple[bw.Run, list[str]]:
    """Run the suite; returns the run and the messages of the RuntimeWarnings it gave."""
    target = bw.Target("openai/quick", api_base=sim.base_url)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = bw.run_sync(_suite(), target, home=home, cache_dir=cache_dir, progress=False, **kw)
    return run, [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]


def _about(messages: list[str], path: Path) -> list[str]:
    return [m for m in messages if str(path) in m]


def _filled_cache(sim, tmp_path: Path, name: str) -> Path:
    """A cache holding the suite's N answers, all in cache.db (the write-ahead log emptied)."""
    cache_dir = tmp_path / name
    with CallCache(cache_dir) as cache:
        run, _ = _run(sim, tmp_path / "fill", cache)
        assert run.status == "finished" and len(cache) == N
    gc.collect()  # connections diskcache opened on the run's threads
    con = sqlite3.connect(cache_dir / "cache.db")
    try:
        busy, _, _ = con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        con.close()
    wal = cache_dir / "cache.db-wal"
    assert busy == 0 and (not wal.exists() or wal.stat().st_size == 0)
    return cache_dir


def _assert_complete(run: bw.Run) -> None:
    assert run.status == "finished"
    assert sorted(run.results["case_id"]) == [f"c{i}" for i in range(N)]
    assert (run.results["status"] == "ok").all()
    stored = bw.load_run(run.id, run.path.parent.parent)
    assert stored.results.height == N and stored.status == "finished"


def test_garbage_cache_db_is_one_warning_and_the_run_goes_on(sim, tmp_path):
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    (cache_dir / "cache.db").write_bytes(b"this is not an SQLite database\x00\xff" * 300)
    run, messages = _run(sim, tmp_path / "runs", cache_dir)
    _assert_complete(run)
    assert len(sim.requests) == N  # every call made once, none lost
    [warning] = _about(messages, cache_dir)
    assert "move or delete" in warning and "without the cache" in warning
    assert run.manifest["cache_dir"] is None  # the run says it had no cache
    # replay needs the cache: a clear error naming the path, before any call
    sim.reset_log()
    with pytest.raises(CacheError, match="replay mode needs the cache") as err:
        _run(sim, tmp_path / "runs", cache_dir, cache="replay")
    assert str(cache_dir) in str(err.value) and sim.requests == []
    # management commands say what is wrong, too
    with pytest.raises(CacheError, match=str(cache_dir)):
        CallCache(cache_dir)


def test_half_truncated_cache_db(sim, tmp_path):
    cache_dir = _filled_cache(sim, tmp_path, "cache")
    db = cache_dir / "cache.db"
    db.write_bytes(db.read_bytes()[: db.stat().st_size // 2])
    sim.reset_log()
    run, messages = _run(sim, tmp_path / "runs", cache_dir)
    _assert_complete(run)
    assert len(_about(messages, cache_dir)) == 1  # one warning, whatever broke first
    # every call is either a hit that could still be read, or paid once now
    hits = int(run.results["cached"].sum())
    assert hits + len(sim.requests) == N
    assert len(sim.requests) >= 1, "half of the file is gone: not everything can be a hit"


def test_damaged_entries_are_counted_misses_and_get_rewritten(sim, tmp_path):
    cache_dir = _filled_cache(sim, tmp_path, "cache")
    with diskcache.Cache(str(cache_dir)) as raw:
        keys = sorted(k for k in raw.iterkeys())
        entries = {k: json.loads(raw.get(k)) for k in keys}
        damaged_cases = set()

        def damage(key: str, value: object) -> None:
            raw.set(key, value)
            damaged_cases.add(entries[key]["case_id"])

        damage(keys[0], "{not json")
        wrong = entries[keys[1]]
        wrong["record"]["latency_s"] = "fast"
        damage(keys[1], json.dumps(wrong))
        damage(keys[2], json.dumps({"record": [1, 2, 3]}))
        damage(keys[3], {"record": "a pickle"})  # diskcache pickles a dict: never unpickled
    sim.reset_log()
    cache = CallCache(cache_dir)
    run, messages = _run(sim, tmp_path / "runs", cache)
    _assert_complete(run)
    assert cache.bad_entries == 4 and cache.usable
    paid = {r["prompt"] for r in sim.requests}
    assert len(sim.requests) == 4 and paid == {f"q{c[1:]}" for c in damaged_cases}
    assert set(run.results.filter(~run.results["cached"])["case_id"]) == damaged_cases
    assert len([m for m in messages if "damaged cache entry" in m]) == 1  # one, not four
    assert run.manifest["cache_faults"] == {"bad_entries": 4, "problem": None}
    cache.close()
    # the misses were re-paid and their entries rewritten: the next run is all hits
    sim.reset_log()
    again, messages = _run(sim, tmp_path / "runs", cache_dir)
    assert sim.requests == [] and again.results["cached"].all()
    assert not [m for m in messages if "damaged" in m]


def test_damaged_entry_in_replay_mode_is_a_clear_error(sim, tmp_path):
    cache_dir = _filled_cache(sim, tmp_path, "cache")
    with diskcache.Cache(str(cache_dir)) as raw:
        raw.set(next(iter(raw.iterkeys())), "{not json")
    sim.reset_log()
    with pytest.raises(CacheError, match=r"damaged.*replay needs it"):
        _run(sim, tmp_path / "runs", cache_dir, cache="replay")
    assert sim.requests == []


@pytest.mark.parametrize("where", ["cache", "index"])
def test_a_file_where_the_cache_folder_should_be(sim, tmp_path, where):
    cache_dir = tmp_path / "cache"
    if where == "cache":
        cache_dir.write_text("not a folder")
    else:
        cache_dir.mkdir()
        (cache_dir / "index").write_text("not a folder")
    run, messages = _run(sim, tmp_path / "runs", cache_dir)
    _assert_complete(run)
    assert len(sim.requests) == N
    [warning] = _about(messages, cache_dir)
    assert "is a file, not a folder" in warning


def test_cli_cache_commands_on_a_broken_cache_say_what_to_do(tmp_path):
    not_a_dir = tmp_path / "cachefile"
    not_a_dir.write_text("x")
    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / "cache.db").write_bytes(b"\xde\xad\xbe\xef" * 1000)
    for cache_dir in (not_a_dir, garbage):
        for cmd in (["stats"], ["clear"], ["prune", "--older-than", "1"]):
            proc = subprocess.run(
                [sys.executable, "-m", "benchwork", "cache", *cmd, "--cache-dir", str(cache_dir)],
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert proc.returncode == 2, (cmd, proc.stderr)
            assert proc.stderr.startswith("benchwork: error: ") and "unexpected" not in proc.stderr
            assert str(cache_dir) in proc.stderr and "Traceback" not in proc.stderr
    assert (garbage / "cache.db").read_bytes() == b"\xde\xad\xbe\xef" * 1000  # left alone


# The child fills its cache: it may write at most LIMIT bytes into any one file. The cache's
# SQLite write-ahead log grows by pages per answer and hits that limit after a few calls;
# the journal (~0.7 kB per call) never does. SIGXFSZ is ignored so a write past the limit
# fails with EFBIG, as on a full disk, instead of killing the process.
FULL_CACHE_SCRIPT = textwrap.dedent(
    """
    import resource, signal, sys
    import benchwork as bw

    base_url, home, cache_dir, n, limit = sys.argv[1:6]
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(limit), int(limit)))
    suite = bw.Suite(
        name="full",
        cases=[bw.Case(id=f"c{i:02d}", input=f"question {i}") for i in range(int(n))],
    )
    target = bw.Target("openai/quick", api_base=base_url, concurrency=4)
    run = bw.run_sync(suite, target, home=home, cache_dir=cache_dir, run_id="full", progress=False)
    print("status", run.status, run.results.height, flush=True)
    """
)


def test_a_cache_that_fills_mid_run_loses_no_paid_call(sim, tmp_path):
    n, limit = 40, 200_000
    home, cache_dir = tmp_path / "runs", tmp_path / "cache"
    CallCache(cache_dir).close()  # an existing cache (its files start well below the limit)
    script = tmp_path / "fill.py"
    script.write_text(FULL_CACHE_SCRIPT)
    proc = subprocess.run(
        [sys.executable, str(script), sim.base_url, str(home), str(cache_dir), str(n), str(limit)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"status finished {n}" in proc.stdout
    assert "Traceback" not in proc.stderr
    warned = [line for line in proc.stderr.splitlines() if "RuntimeWarning" in line]
    assert len(warned) == 1 and str(cache_dir) in warned[0]
    assert "failed while writing" in warned[0]  # it filled mid-run, not at open
    # every call paid once and kept in the journal, even those the cache could not store
    assert len(sim.requests) == n
    stored = bw.load_run("full", home)
    assert stored.status == "finished" and stored.results.height == n
    assert (stored.results["status"] == "ok").all()
    assert "failed while writing" in stored.manifest["cache_faults"]["problem"]
    with CallCache(cache_dir) as cache:
        kept = len(cache)
    assert 0 < kept < n, "the cache took some answers, then filled up"
    # the next run takes what the cache holds and pays only for the rest, once
    sim.reset_log()
    again = bw.run_sync(
        _named_suite(n),
        bw.Target("openai/quick", api_base=sim.base_url),
        home=home,
        cache_dir=cache_dir,
        progress=False,
    )
    assert len(sim.requests) == n - kept and int(again.results["cached"].sum()) == kept


def _named_suite(n: int) -> bw.Suite:
    return bw.Suite(
        name="full", cases=[bw.Case(id=f"c{i:02d}", input=f"question {i}") for i in range(n)]
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only folders anyway")
def test_read_only_cache_folder(sim, tmp_path):
    cache_dir = _filled_cache(sim, tmp_path, "cache")
    for path in [cache_dir, *cache_dir.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        run, messages = _run(sim, tmp_path / "runs", cache_dir)
    finally:
        for path in [cache_dir, *cache_dir.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
    _assert_complete(run)
    # the answers it holds are still hits, or the cache was set aside with one warning
    assert int(run.results["cached"].sum()) + len(sim.requests) == N
    assert len(_about(messages, cache_dir)) <= 1
