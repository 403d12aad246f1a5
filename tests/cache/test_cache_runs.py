"""The call cache and the run store end to end, over real HTTP against the simulator.

Each test reads the sim's request log to know what was actually sent; nothing in the client
or litellm is patched. Covers issue 3: (b) a re-run sends nothing, (c) repeats are distinct
entries, (d) replay misses, (f) no secret on disk or in output, (g) ``cache why``, and the
CLI's runs / show / export / import / resume / cache commands.
"""

from __future__ import annotations

import io
import json
import secrets
import time
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

import benchwork as bw
from benchwork.cache import CallCache
from benchwork.cli import main
from benchwork.runner import ConsoleProgress
from benchwork.sim import Fault, SimModel, SimServer

ZERO = {"ttft_s": 0.0, "itl_s": 0.0}


@pytest.fixture(scope="module")
def sim():
    with SimServer([SimModel("m", tokens=5, **ZERO), SimModel("m2", tokens=7, **ZERO)]) as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh_log(sim):
    sim.reset_log()


@pytest.fixture
def dirs(tmp_path):
    return {"home": tmp_path / "runs", "cache_dir": tmp_path / "cache"}


def _suite(n: int = 4, name: str = "s") -> bw.Suite:
    return bw.Suite(
        name=name,
        cases=[bw.Case(id=f"c{i}", input=f"question {i}", expected="x") for i in range(n)],
    )


def _target(sim, model: str = "m", **kw) -> bw.Target:
    return bw.Target(f"openai/{model}", api_base=sim.base_url, **kw)


async def _run_with_console(suite, targets, **kw) -> tuple[bw.Run, str]:
    """A run whose progress lines go to a string (the same ConsoleProgress a terminal gets)."""
    out = io.StringIO()
    handle = bw.start(suite, targets, progress=False, **kw)
    handle.subscribe(ConsoleProgress(out))
    run = await handle
    return run, out.getvalue()


# -- (b) a second run of a finished suite costs nothing --------------------------------------


async def test_second_run_sends_nothing_and_keeps_original_timings(sim, dirs):
    first, _ = await _run_with_console(_suite(), [_target(sim)], **dirs)
    assert len(sim.requests) == 4 and first.status == "finished"
    assert not first.results["cached"].any()

    sim.reset_log()
    second, text = await _run_with_console(_suite(), [_target(sim)], **dirs)
    assert sim.requests == [], "a cached re-run must not reach the server"
    assert second.id != first.id and second.status == "finished"
    rows = second.results.sort("case_id")
    assert rows["cached"].all() and (rows["status"] == "ok").all()
    assert rows["run_id"].unique().to_list() == [second.id]
    cols = ["case_id", "latency_s", "ttft_s", "output_tokens", "output_text", "started_at"]
    assert rows.select(cols).equals(first.results.sort("case_id").select(cols)), (
        "a hit must carry the original call's timings, tokens and text"
    )
    assert rows["score_exact"].is_not_null().all(), "hits are scored in the new run"
    last = text.strip().splitlines()[-1]
    assert f"run {second.id} finished: 4 calls (4 from cache, 0 sent)" in last
    summary = second.summary()
    assert summary["cached"].to_list() == [4]
    assert summary["speed_from"].to_list() == ["cached (original timings)"]
    m = bw.load_run(second.id, dirs["home"]).manifest
    assert m["cached_calls"] == 4 and m["calls"] == 4


def test_cli_rerun_prints_how_many_calls_came_from_the_cache(sim, tmp_path, capsys):
    suite_path = tmp_path / "suite.jsonl"
    _suite(3).save(suite_path)
    argv = ["run", str(suite_path), "-m", "openai/m", "--api-base", sim.base_url]
    argv += ["--home", str(tmp_path / "runs"), "--cache-dir", str(tmp_path / "cache")]
    assert main(argv) == 0
    assert "(0 from cache, 3 sent)" in capsys.readouterr().err
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "finished: 3 calls (3 from cache, 0 sent)" in err
    assert len(sim.requests) == 3


# -- (c) repeats are distinct samples, each cached on its own --------------------------------


def test_repeats_are_distinct_cache_entries(sim, dirs):
    suite = _suite(2)
    run = bw.run_sync(suite, [_target(sim)], repeats=3, progress=False, **dirs)
    per_prompt = Counter(r["prompt"] for r in sim.requests)
    assert per_prompt == {"question 0": 3, "question 1": 3}
    keys = run.results.group_by("case_id").agg(pl.col("cache_key").n_unique())
    assert keys["cache_key"].to_list() == [3, 3]
    with CallCache(dirs["cache_dir"]) as cache:
        assert len(cache) == 6

    sim.reset_log()
    again = bw.run_sync(suite, [_target(sim)], repeats=3, progress=False, **dirs)
    assert sim.requests == []
    assert again.results["cached"].all() and again.results.height == 6
    assert sorted(again.results["repeat"].to_list()) == [0, 0, 1, 1, 2, 2]
    # each repeat gets its own stored answer back, not one answer replayed three times
    pairs = again.results.select("case_id", "repeat", "cache_key").sort("case_id", "repeat")
    assert pairs.equals(
        run.results.select("case_id", "repeat", "cache_key").sort("case_id", "repeat")
    )


def test_refresh_off_and_warmups_go_to_the_network(sim, dirs):
    suite, target = _suite(3), _target(sim)
    bw.run_sync(suite, [target], progress=False, **dirs)
    with CallCache(dirs["cache_dir"]) as cache:
        before = cache.stats()
    sim.reset_log()
    fresh = bw.run_sync(suite, [target], cache="refresh", progress=False, **dirs)
    assert len(sim.requests) == 3 and not fresh.results["cached"].any()
    with CallCache(dirs["cache_dir"]) as cache:
        after = cache.stats()
        assert all(k in cache for k in fresh.results["cache_key"])
    assert before["entries"] == after["entries"] == 3
    assert after["oldest"] > before["newest"], "refresh rewrote every entry"

    sim.reset_log()
    off = bw.run_sync(suite, [target], cache="off", progress=False, **dirs)
    assert len(sim.requests) == 3 and not off.results["cached"].any()
    assert off.manifest["cache_dir"] is None

    sim.reset_log()
    warm = bw.run_sync(suite, [target], warmup=2, progress=False, **dirs)
    assert len(sim.requests) == 2, "warm-ups are sent even when every call is cached"
    rows = warm.results
    assert rows.filter(pl.col("warmup"))["cached"].to_list() == [False, False]
    assert rows.filter(~pl.col("warmup"))["cached"].all()


# -- (d) replay: a miss is an error naming the call; nothing is sent -------------------------


def test_replay_miss_names_case_target_and_repeat(sim, dirs):
    bw.run_sync(_suite(2), [_target(sim)], progress=False, **dirs)
    sim.reset_log()
    ok = bw.run_sync(_suite(2), [_target(sim)], cache="replay", progress=False, **dirs)
    assert ok.results["cached"].all() and sim.requests == []

    with pytest.raises(bw.errors.CacheMissError) as err:
        bw.run_sync(_suite(3), [_target(sim)], cache="replay", progress=False, **dirs)
    msg = str(err.value)
    assert "'c2'" in msg and "'openai/m'" in msg and "repeat 0" in msg
    with pytest.raises(bw.errors.CacheMissError, match=r"repeat 1"):
        bw.run_sync(_suite(2), [_target(sim)], repeats=2, cache="replay", progress=False, **dirs)
    assert sim.requests == [], "replay must never reach the network"


def test_cli_replay_miss_exits_2_with_one_line(sim, tmp_path, capsys):
    suite_path = tmp_path / "suite.yaml"
    _suite(2).save(suite_path)
    dirs = ["--home", str(tmp_path / "runs"), "--cache-dir", str(tmp_path / "empty-cache")]
    model = ["-m", "openai/m", "--api-base", sim.base_url]
    code = main(["run", str(suite_path), *model, "--cache", "replay", *dirs])
    captured = capsys.readouterr()
    assert code == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("benchwork: error: replay mode")
    assert "'c0'" in lines[0] and "'openai/m'" in lines[0] and "Traceback" not in captured.err
    assert sim.requests == []


# -- (g) cache why names the changed field ----------------------------------------------------


def test_cache_why_names_the_changed_temperature(sim, dirs, capsys):
    suite = _suite(2)
    cold = _target(sim, name="t", params={"temperature": 0.0})
    bw.run_sync(suite, [cold], progress=False, **dirs)
    warm = _target(sim, name="t", params={"temperature": 0.7})
    run = bw.run_sync(suite, [warm], progress=False, **dirs)
    assert not run.results["cached"].any() and len(sim.requests) == 4

    why = bw.runner.why_missed(run.id, case_id="c1", target="t", home=dirs["home"])
    assert not why.hit
    assert [(name, a, b) for name, a, b in why.differences] == [("params.temperature", 0.0, 0.7)]

    code = main(
        ["cache", "why", run.id, "--case", "c1", "--target", "t", "--home", str(dirs["home"])]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "params.temperature: stored 0.0, requested 0.7" in out
    assert "differs in 1 component" in out

    # a call that hit: why says so; an unknown target is one clear error
    hit = bw.run_sync(suite, [warm], progress=False, **dirs)
    assert hit.results["cached"].all()
    hit_why = bw.runner.why_missed(hit.id, case_id="c0", home=dirs["home"])
    assert hit_why.hit and str(hit_why).startswith("hit: case 'c0' on target 't'")
    argv = ["cache", "why", run.id, "--case", "c1", "--target", "nope", "--home", str(dirs["home"])]
    assert main(argv) == 2
    assert "no target 'nope'" in capsys.readouterr().err


# -- (f) a key never reaches disk or output ---------------------------------------------------


def _all_text_under(root: Path) -> list[tuple[Path, bytes]]:
    """Every file's bytes, plus the decoded content of parquet files (they are compressed)."""
    import pyarrow.parquet as pq

    out = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        out.append((path, path.read_bytes()))
        if path.suffix == ".parquet":
            table = pq.read_table(path)
            meta = table.schema.metadata or {}
            decoded = json.dumps(table.to_pylist(), default=str) + repr(meta)
            out.append((path, decoded.encode()))
    return out


def test_sentinel_key_is_sent_but_never_written_or_printed(tmp_path, monkeypatch, capfd, caplog):
    sentinel = f"sk-SENTINEL-{secrets.token_hex(12)}"
    monkeypatch.setenv("BW_SENTINEL_KEY", sentinel)
    caplog.set_level("DEBUG")
    home, cache_dir, exports = tmp_path / "runs", tmp_path / "cache", tmp_path / "exports"
    models = [
        SimModel("good", tokens=4, **ZERO),
        # echoes "Bearer <key>" in its 401 message, as careless providers do
        SimModel("leaky", tokens=4, faults=[Fault("401")], **ZERO),
    ]
    with SimServer(models, require_api_key=sentinel) as server:
        targets = [
            bw.Target(f"openai/{m}", api_base=server.base_url, api_key_env="BW_SENTINEL_KEY")
            for m in ("good", "leaky")
        ]
        run = bw.run_sync(_suite(3), targets, home=home, cache_dir=cache_dir)
        rerun = bw.run_sync(_suite(3), targets, home=home, cache_dir=cache_dir)
        sent = server.requests
    # the key was sent (the server requires it) and the server did echo it back
    good = run.results.filter(pl.col("target") == "openai/good")
    assert (good["status"] == "ok").all() and good.height == 3
    leaky = run.results.filter(pl.col("target") == "openai/leaky")
    assert (leaky["http_status"] == 401).all()
    assert all("Incorrect API key provided: Bearer ***" in m for m in leaky["error_message"])
    assert rerun.results.filter(pl.col("target") == "openai/good")["cached"].all()
    assert len(sent) == 3 + 3 + 3  # good once; leaky twice (errors are never cached)

    # everything a user can produce from the run: CLI listings, exports, imports, why
    for ext in ("csv", "json", "parquet"):
        assert main(["export", run.id, str(exports / f"run.{ext}"), "--home", str(home)]) == 0
        assert main(["import", str(exports / f"run.{ext}"), "--home", str(home)]) == 0
    for argv in (
        ["runs", "--home", str(home)],
        ["runs", "--home", str(home), "--json"],
        ["show", run.id, "--home", str(home)],
        ["show", run.id, "--home", str(home), "--json"],
        ["cache", "stats", "--cache-dir", str(cache_dir)],
        ["cache", "why", rerun.id, "--case", "c0", "--target", "openai/good", "--home", f"{home}"],
    ):
        assert main(argv) == 0, argv
    captured = capfd.readouterr()

    needle = sentinel.encode()
    files = _all_text_under(tmp_path)
    assert any(p.suffix == ".parquet" for p, _ in files) and any(
        "cache" in p.parts for p, _ in files
    )
    leaks = sorted({str(p.relative_to(tmp_path)) for p, data in files if needle in data})
    assert leaks == [], f"the key reached disk in {leaks}"
    assert sentinel not in captured.out and sentinel not in captured.err
    assert "openai/leaky" in captured.out  # the output was really captured
    assert sentinel not in caplog.text
    assert sentinel not in repr(run.results.to_dicts()) + repr(run.manifest)


def test_a_key_in_a_target_is_refused_without_echoing_it():
    sentinel = f"sk-SENTINEL-{secrets.token_hex(12)}"
    with pytest.raises(bw.errors.TargetError, match="api_key_env") as err:
        bw.Target("openai/m", params={"api_key": sentinel})
    assert sentinel not in str(err.value)
    with pytest.raises(bw.errors.TargetError, match="NAME of an environment variable") as err:
        bw.Target("openai/m", api_key_env=sentinel)
    assert sentinel not in str(err.value)
    with pytest.raises(bw.errors.TargetError, match="api_key_env"):
        bw.Target.from_dict({"model": "openai/m", "params": {"api_key": sentinel}})


# -- history: runs, show, load_run, export/import, resume and cache management via the CLI --


def test_runs_frame_and_load_run(sim, dirs):
    a = bw.run_sync(_suite(2, "alpha"), [_target(sim)], progress=False, **dirs)
    b = bw.run_sync(_suite(3, "beta"), [_target(sim), _target(sim, "m2")], progress=False, **dirs)
    frame = bw.runs(dirs["home"])
    assert isinstance(frame, pl.DataFrame)
    for col in ("run_id", "suite", "targets", "started", "status", "calls", "errors", "cost_usd"):
        assert col in frame.columns
    assert frame["run_id"].to_list() == [b.id, a.id], "newest first"
    assert frame["suite"].to_list() == ["beta", "alpha"]
    assert frame["calls"].to_list() == [6, 2] and frame["errors"].to_list() == [0, 0]
    assert frame["targets"].to_list()[0] == ["openai/m", "openai/m2"]
    assert frame["status"].to_list() == ["finished", "finished"]

    loaded = bw.load_run(b.id, dirs["home"])
    assert loaded.status == "finished" and loaded.results.height == 6
    cols = ["case_id", "target", "latency_s", "output_text", "score_exact"]
    assert loaded.results.sort(cols[:2]).select(cols).equals(b.results.sort(cols[:2]).select(cols))
    with pytest.raises(bw.errors.RunNotFoundError, match=b.id):
        bw.load_run("20990101-000000-abcdef", dirs["home"])


def test_cli_runs_show_export_import_round_trip(sim, dirs, tmp_path, capsys):
    run = bw.run_sync(_suite(3), [_target(sim)], progress=False, **dirs)
    home = str(dirs["home"])
    assert main(["runs", "--home", home]) == 0
    out = capsys.readouterr().out
    assert run.id in out and "finished" in out and "3 calls, 0 errors" in out
    assert main(["show", run.id, "--home", home]) == 0
    out = capsys.readouterr().out
    assert f"run {run.id}: finished" in out and "openai/m" in out

    other = tmp_path / "other-home"
    for ext in ("csv", "json", "parquet"):
        path = tmp_path / f"export.{ext}"
        assert main(["export", run.id, str(path), "--home", home]) == 0
        assert main(["import", str(path), "--home", str(other)]) == 0
        imported_id = capsys.readouterr().out.strip().rsplit(" ", 1)[-1]
        back = bw.load_run(imported_id, other)
        cols = ["case_id", "status", "cached", "latency_s", "output_tokens", "score_exact"]
        assert (
            back.results.sort("case_id")
            .select(cols)
            .equals(run.results.sort("case_id").select(cols))
        ), ext
    ids = bw.runs(other)["run_id"].to_list()
    assert len(ids) == 3 and run.id in ids, "the first import keeps the id, later ones get new"
    assert main(["export", run.id, str(tmp_path / "x.txt"), "--home", home]) == 2
    assert "use a .csv, .json or .parquet path" in capsys.readouterr().err


async def test_cli_resume_finishes_a_cancelled_run(dirs, capsys):
    slow = SimModel("slow", ttft_s=0.05, itl_s=0.0, tokens=3)
    with SimServer([slow]) as server:
        target = bw.Target("openai/slow", api_base=server.base_url, concurrency=2)
        handle = bw.start(_suite(12), [target], progress=False, **dirs)
        while handle.progress.done < 4:
            await _sleep(0.01)
        handle.cancel()
        partial = await handle
        assert partial.status == "cancelled"
        done = {r["case_id"] for r in partial.results.iter_rows(named=True)}
        assert 4 <= len(done) < 12
        listed = bw.runs(dirs["home"])
        assert listed["status"].to_list() == ["cancelled"]
        server.reset_log()
        where = ["--home", str(dirs["home"]), "--cache-dir", str(dirs["cache_dir"])]
        code = main(["resume", partial.id, *where, "--quiet"])
        resent = {r["prompt"] for r in server.requests}
    assert code == 0, capsys.readouterr().err
    assert resent == {f"question {i}" for i in range(12)} - {f"question {c[1:]}" for c in done}
    final = bw.load_run(partial.id, dirs["home"])
    assert final.status == "finished"
    assert sorted(final.results["case_id"].to_list()) == sorted(f"c{i}" for i in range(12))


async def _sleep(s: float) -> None:
    import asyncio

    await asyncio.sleep(s)


def test_cli_cache_stats_prune_clear(sim, dirs, capsys, monkeypatch):
    bw.run_sync(_suite(3), [_target(sim)], progress=False, **dirs)
    cache_dir = str(dirs["cache_dir"])
    assert main(["cache", "stats", "--cache-dir", cache_dir]) == 0
    out = capsys.readouterr().out
    assert out.startswith("3 entries") and cache_dir in out and "oldest" in out

    assert main(["cache", "prune", "--older-than", "1", "--cache-dir", cache_dir]) == 0
    assert "removed 0 entries older than 1 days" in capsys.readouterr().out
    import benchwork.cache._cache as cache_mod

    real_now = cache_mod._now
    monkeypatch.setattr(cache_mod, "_now", lambda: real_now() + 2 * 86400)  # two days later
    assert main(["cache", "prune", "--older-than", "1", "--cache-dir", cache_dir]) == 0
    assert "removed 3 entries" in capsys.readouterr().out
    monkeypatch.setattr(cache_mod, "_now", real_now)

    bw.run_sync(_suite(2), [_target(sim)], progress=False, **dirs)  # pruned: sent again
    assert len(sim.requests) == 3 + 2
    assert main(["cache", "clear", "--cache-dir", cache_dir]) == 0
    assert "removed 2 entries" in capsys.readouterr().out
    assert main(["cache", "stats", "--cache-dir", cache_dir]) == 0
    assert capsys.readouterr().out.startswith("0 entries")
    start = time.perf_counter()
    bw.run_sync(_suite(2), [_target(sim)], progress=False, **dirs)
    assert len(sim.requests) == 3 + 2 + 2 and time.perf_counter() - start < 30
