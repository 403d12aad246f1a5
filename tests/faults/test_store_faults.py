"""Run store faults name the file and what to do; no paid call is lost; no run stays 'running'
(issue 9 item 6).

Faults are real: a child process whose files may not grow past RLIMIT_FSIZE (a full disk,
EFBIG instead of ENOSPC), a resume killed with SIGKILL, and files damaged on disk. The CLI is
driven through ``benchwork.cli.main`` (the code path of the console script) or a real
``python -m benchwork`` where a process boundary matters.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import warnings
from collections import Counter
from pathlib import Path

import polars as pl
import pytest
from support import kill_9_when

import benchwork as bw
from benchwork.cache import CallCache
from benchwork.cli import main
from benchwork.errors import BenchworkError, StoreError
from benchwork.sim import Fault, SimModel, SimServer
from benchwork.store import RunStore


def _suite(n: int, name: str = "s") -> bw.Suite:
    return bw.Suite(
        name=name, cases=[bw.Case(id=f"c{i:02d}", input=f"question {i}") for i in range(n)]
    )


def _case(request: dict) -> str:
    return f"c{int(request['prompt'].split()[-1]):02d}"


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _assert_clear(code: int, err: str, *names: object) -> None:
    """Exit 2 with one 'benchwork: error:' line naming each of ``names``; never 'unexpected'."""
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.startswith("benchwork: ")]
    assert len(lines) == 1 and lines[0].startswith("benchwork: error: "), err
    assert "unexpected" not in err and "Traceback" not in err
    for name in names:
        assert str(name) in lines[0], (name, lines[0])


@pytest.fixture
def sim():
    with SimServer([SimModel("quick", ttft_s=0.0, itl_s=0.0, tokens=3)]) as server:
        yield server


def _finished_run(sim, home: Path, n: int = 6, run_id: str = "done") -> bw.Run:
    target = bw.Target("openai/quick", api_base=sim.base_url)
    run = bw.run_sync(_suite(n), target, home=home, cache="off", run_id=run_id, progress=False)
    assert run.status == "finished" and run.results.height == n
    sim.reset_log()
    return run


# -- a full disk ------------------------------------------------------------------------------

LIMITED_CLI = textwrap.dedent(
    """
    import resource, signal, sys
    from benchwork.cli import main

    limit = int(sys.argv[1])
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    sys.exit(main(sys.argv[2:]))
    """
)


def _limited_cli(tmp_path: Path, limit: int, *argv: object) -> subprocess.CompletedProcess:
    script = tmp_path / "limited.py"
    script.write_text(LIMITED_CLI)
    return subprocess.run(
        [sys.executable, str(script), str(limit), *map(str, argv)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_disk_full_mid_run_fails_cleanly_and_resume_pays_only_the_missing(sim, tmp_path):
    n, home = 40, tmp_path / "runs"
    suite_file = tmp_path / "suite.json"
    suite_file.write_text(json.dumps(_suite(n, "full").to_dict()))
    # each journal line is ~0.7 kB: the journal reaches 12 kB around call 16 of 40
    proc = _limited_cli(
        tmp_path,
        12_000,
        *("run", suite_file, "-m", "openai/quick", "--api-base", sim.base_url),
        *("--home", home, "--cache", "off", "--concurrency", "4", "--quiet"),
    )
    [run_id] = [p.name for p in (home / "runs").iterdir()]
    journal = home / "runs" / run_id / "journal.jsonl"
    _assert_clear(proc.returncode, proc.stderr, journal, f"benchwork resume {run_id}")
    assert "free disk space" in proc.stderr
    sent = Counter(_case(r) for r in sim.requests)
    # the run is 'failed', not 'running'; its journal holds whole lines only
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no torn last line to drop
        failed = bw.load_run(run_id, home)
    assert failed.status == "failed"
    kept = set(failed.results["case_id"])
    assert 0 < len(kept) < n and len(kept) == failed.results.height
    # (answers in the write that failed, or in flight then, had nowhere to go: the cache is
    # off here; the next test shows them kept in the cache when it has room)
    assert kept <= set(sent) and set(sent.values()) == {1}
    # with room again, a resume makes exactly the calls the journal lacks
    sim.reset_log()
    run = bw.resume_sync(run_id, home=home, progress=False)
    resent = Counter(_case(r) for r in sim.requests)
    assert run.status == "finished" and run.results.height == n
    assert set(resent) == {f"c{i:02d}" for i in range(n)} - kept and set(resent.values()) == {1}


def test_journal_that_cannot_grow_keeps_the_paid_answer_in_the_cache(tmp_path):
    """The journal is full but the cache is not: the answer that could not be journaled is
    kept in the cache, and the resume takes it from there instead of paying again."""
    home, cache_dir = tmp_path / "runs", tmp_path / "cache"
    model = SimModel("quick", ttft_s=0.0, itl_s=0.0, tokens=3)
    with SimServer([model]) as sim:
        target = bw.Target("openai/quick", api_base=sim.base_url, concurrency=1)
        first = bw.run_sync(
            _suite(6), target, home=home, cache_dir=tmp_path / "old", run_id="r", progress=False
        )
        journal = home / "runs" / "r" / "journal.jsonl"
        # as if killed before its last call, on a disk where the journal cannot grow: the
        # file is already past the child's size limit (blank padding, which readers skip)
        lines = journal.read_bytes().splitlines(keepends=True)
        journal.write_bytes(b"".join(lines[:5]) + b" " * 2_000_000 + b"\n")
        CallCache(cache_dir).close()  # a cache that exists before the child starts
        sim.reset_log()
        proc = _limited_cli(
            tmp_path, 1_000_000, "resume", "r", "--home", home, "--cache-dir", cache_dir, "--quiet"
        )
        _assert_clear(proc.returncode, proc.stderr, journal, "cannot write the journal")
        paid_in_child = [_case(r) for r in sim.requests]
        assert len(paid_in_child) == 1  # the one missing call, paid; then its journal write fails
        assert json.loads((journal.parent / "manifest.json").read_text())["status"] == "failed"
        sim.reset_log()
        run = bw.resume_sync("r", home=home, cache_dir=cache_dir, progress=False)
        paid_after = [_case(r) for r in sim.requests]
    assert first.status == "finished" and run.status == "finished"
    assert run.results.height == 6
    assert not set(paid_in_child) & set(paid_after), "the answer paid before the stop was lost"
    assert paid_after == []  # the resume took it from the cache
    cached = run.results.filter(pl.col("cached"))["case_id"].to_list()
    assert cached == paid_in_child


def test_calls_in_flight_when_the_journal_fails_finish_and_are_kept(tmp_path):
    """Several calls in flight when the journal stops growing: none is cut off (each was
    paid), each answer lands in the cache, no new call starts, and the resume pays only for
    the calls that were never sent."""
    home, cache_dir, n = tmp_path / "runs", tmp_path / "cache", 12
    model = SimModel("slowish", ttft_s=0.3, itl_s=0.0, tokens=3)
    with SimServer([model]) as sim:
        target = bw.Target("openai/slowish", api_base=sim.base_url, concurrency=4)
        bw.run_sync(_suite(n), target, home=home, cache="off", run_id="r", progress=False)
        journal = home / "runs" / "r" / "journal.jsonl"
        journal.write_bytes(b" " * 2_000_000 + b"\n")  # no call journaled; cannot grow
        manifest = json.loads((journal.parent / "manifest.json").read_text())
        manifest["config"]["cache_mode"] = "use"
        (journal.parent / "manifest.json").write_text(json.dumps(manifest))
        CallCache(cache_dir).close()
        sim.reset_log()
        proc = _limited_cli(
            tmp_path, 1_000_000, "resume", "r", "--home", home, "--cache-dir", cache_dir, "--quiet"
        )
        _assert_clear(proc.returncode, proc.stderr, journal, "cannot write the journal")
        paid_in_child = {_case(r) for r in sim.requests}
        assert 1 <= len(paid_in_child) < n, "it stopped starting calls"
        with CallCache(cache_dir) as cache:
            assert len(cache) == len(paid_in_child), "every paid answer is in the cache"
        sim.reset_log()
        run = bw.resume_sync("r", home=home, cache_dir=cache_dir, progress=False)
        paid_after = {_case(r) for r in sim.requests}
    assert run.status == "finished" and run.results.height == n
    assert not paid_in_child & paid_after, "a call paid before the stop was paid again"
    assert paid_in_child | paid_after == {f"c{i:02d}" for i in range(n)}
    assert set(run.results.filter(pl.col("cached"))["case_id"]) == paid_in_child


# -- results.parquet against the journal --------------------------------------------------------


def test_parquet_is_trusted_only_when_it_matches_the_journal(tmp_path):
    """A resume --retry-errors killed part way: the journal's latest rows changed, their
    count did not. show, load_run, frame and export must all tell the journal's story."""
    home = tmp_path / "runs"
    flaky = SimModel("flaky", ttft_s=0.15, itl_s=0.0, tokens=3, faults=[Fault("401", first=5)])
    with SimServer([flaky]) as sim:
        target = bw.Target("openai/flaky", api_base=sim.base_url, concurrency=1)
        first = bw.run_sync(_suite(10), target, home=home, cache="off", run_id="r", progress=False)
        assert (first.results["status"] == "error").sum() == 5
        journal = home / "runs" / "r" / "journal.jsonl"
        kill_9_when(
            [
                sys.executable,
                "-m",
                "benchwork",
                "resume",
                "r",
                "--home",
                str(home),
                "--retry-errors",
            ],
            lambda: len(journal.read_bytes().splitlines()) >= 12,
            what="two retried calls journaled",
        )
    store = RunStore(home)
    latest = store.records("r")
    errors = sum(r["status"] != "ok" for r in latest)
    assert len(latest) == 10 and 0 < errors <= 3  # retried rows replaced two or more errors
    frame = store.frame("r")
    assert (frame["status"] != "ok").sum() == errors
    loaded = bw.load_run("r", home)
    assert (loaded.results["status"] != "ok").sum() == errors == loaded.counts["errors"]
    exported = pl.read_csv(store.export("r", tmp_path / "out.csv"))
    assert (exported["status"] != "ok").sum() == errors
    # and a parquet that does match is what load_run and frame read (same rows either way)
    bw.resume_sync("r", home=home, progress=False)  # finishes: parquet matches again
    assert store.stored_frame("r") is not None
    assert store.frame("r").equals(bw.load_run("r", home).results)


# -- damaged run files --------------------------------------------------------------------------


def test_journal_line_with_wrong_types_is_named_and_nothing_is_paid(sim, tmp_path, capsys):
    home = tmp_path / "runs"
    _finished_run(sim, home)
    journal = home / "runs" / "done" / "journal.jsonl"
    lines = journal.read_text().splitlines()
    row = json.loads(lines[2])
    row["latency_s"] = "fast"
    lines[2] = json.dumps(row)
    journal.write_text("\n".join(lines) + "\n")
    for argv in (["resume", "done"], ["show", "done"], ["export", "done", tmp_path / "x.csv"]):
        code, _, err = _cli(capsys, *argv, "--home", home)
        _assert_clear(code, err, f"{journal}:3", "latency_s")
    assert sim.requests == []
    manifest = RunStore(home).manifest("done")
    assert manifest["status"] == "finished"  # untouched, not left 'running'
    assert not (home / "runs" / "done" / ".lock").exists()  # the refused resume let go


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        ("an integer past Int64", "input_tokens"),
        ("a float repeat", "repeat"),
        ("no model", "model"),
        ("a list of scores", "scores"),
        ("not UTF-8", "journal.jsonl:2"),
        ("a folder", "cannot read the journal"),
    ],
)
def test_damaged_journal_is_named(sim, tmp_path, capsys, damage, named):
    home = tmp_path / "runs"
    _finished_run(sim, home)
    journal = home / "runs" / "done" / "journal.jsonl"
    lines = journal.read_text().splitlines()
    row = json.loads(lines[1])
    if damage == "a folder":
        journal.unlink()
        journal.mkdir()
    else:
        if damage == "an integer past Int64":
            row["input_tokens"] = 10**30
        elif damage == "a float repeat":
            row["repeat"] = 1.5
        elif damage == "no model":
            del row["model"]
        elif damage == "a list of scores":
            row["scores"] = [1]
        line = json.dumps(row).encode()
        if damage == "not UTF-8":
            line = line.replace(b'"output_text": "', b'"output_text": "\xe9', 1)
        data = [x.encode() for x in lines]
        data[1] = line
        journal.write_bytes(b"\n".join(data) + b"\n")
    for argv in (
        ["resume", "done"],
        ["show", "done"],
        ["export", "done", tmp_path / "x.csv"],
        ["rescore", "done", "--scorer", "exact"],
    ):
        code, _, err = _cli(capsys, *argv, "--home", home)
        _assert_clear(code, err, journal, named)
    assert sim.requests == []
    assert RunStore(home).manifest("done")["status"] == "finished"


@pytest.mark.parametrize(
    "damage",
    [
        "a list",
        "no targets",
        "targets are names",
        "target with a typo",
        "config is a list",
        "retry is not a policy",
        "retry value out of range",
        "scorers is a number",
        "not json",
    ],
)
def test_damaged_manifest_is_named(sim, tmp_path, capsys, damage):
    home = tmp_path / "runs"
    _finished_run(sim, home)
    path = home / "runs" / "done" / "manifest.json"
    manifest = json.loads(path.read_text())
    if damage == "a list":
        path.write_text(json.dumps([manifest]))
    elif damage == "no targets":
        del manifest["targets"]
        path.write_text(json.dumps(manifest))
    elif damage == "targets are names":
        path.write_text(json.dumps({**manifest, "targets": ["quick"]}))
    elif damage == "target with a typo":
        path.write_text(json.dumps({**manifest, "targets": [{"model": "m", "concurency": 2}]}))
    elif damage == "config is a list":
        path.write_text(json.dumps({**manifest, "config": [1]}))
    elif damage == "retry is not a policy":
        config = {**manifest["config"], "retry": {"max_attempts": 2, "bogus": 1}}
        path.write_text(json.dumps({**manifest, "config": config}))
    elif damage == "retry value out of range":
        config = {**manifest["config"], "retry": {"max_attempts": 0}}
        path.write_text(json.dumps({**manifest, "config": config}))
    elif damage == "scorers is a number":
        path.write_text(json.dumps({**manifest, "config": {**manifest["config"], "scorers": 5}}))
    else:
        path.write_bytes(b'{"run_id": "done", "targ')
    code, _, err = _cli(capsys, "resume", "done", "--home", home)
    _assert_clear(code, err, "manifest.json")
    assert sim.requests == []
    if damage in ("a list", "not json"):
        code, _, err = _cli(capsys, "show", "done", "--home", home)
        _assert_clear(code, err, path)


@pytest.mark.parametrize("content", [b"\x00\xffgarbage{", b"[1, 2]", b""])
def test_garbage_suite_json_is_named(sim, tmp_path, capsys, content):
    home = tmp_path / "runs"
    _finished_run(sim, home)
    path = home / "runs" / "done" / "suite.json"
    path.write_bytes(content)
    for argv in (["resume", "done"], ["rescore", "done", "--scorer", "exact"]):
        code, _, err = _cli(capsys, *argv, "--home", home)
        _assert_clear(code, err, path)
    assert sim.requests == []


def test_home_that_is_a_file(sim, tmp_path, capsys):
    home = tmp_path / "home-file"
    home.write_text("not a folder")
    suite_file = tmp_path / "s.json"
    suite_file.write_text(json.dumps({"name": "s", "cases": [{"id": "a", "input": "q"}]}))
    export = tmp_path / "x.csv"
    export.write_text("case_id,target,model\na,t,m\n")
    for argv in (
        ["runs"],
        ["show", "r1"],
        ["resume", "r1"],
        ["export", "r1", tmp_path / "out.csv"],
        ["import", export],
        ["run", suite_file, "-m", "openai/quick", "--api-base", sim.base_url, "--quiet"],
    ):
        code, _, err = _cli(capsys, *argv, "--home", home)
        _assert_clear(code, err, home, "--home")
    assert sim.requests == []


def test_cache_dir_that_is_a_file_warns_and_the_run_goes_on(sim, tmp_path, capsys):
    cache_file = tmp_path / "cache-file"
    cache_file.write_text("x")
    suite_file = tmp_path / "s.json"
    suite_file.write_text(json.dumps({"name": "s", "cases": [{"id": "a", "input": "q"}]}))
    argv = ["run", suite_file, "-m", "openai/quick", "--api-base", sim.base_url, "--quiet"]
    with pytest.warns(RuntimeWarning, match="is a file, not a folder"):
        code, _, err = _cli(capsys, *argv, "--home", tmp_path / "runs", "--cache-dir", cache_file)
    assert code == 0, err
    assert len(sim.requests) == 1


def test_targets_file_that_is_not_utf8(tmp_path, capsys):
    targets = tmp_path / "targets.yaml"
    targets.write_bytes(b"- model: openai/caf\xe9\n")
    suite_file = tmp_path / "s.json"
    suite_file.write_text(json.dumps({"name": "s", "cases": [{"id": "a", "input": "q"}]}))
    code, _, err = _cli(capsys, "run", suite_file, "--targets", targets, "--home", tmp_path)
    _assert_clear(code, err, targets, "UTF-8")


def test_export_to_a_path_under_a_file(sim, tmp_path, capsys):
    home = tmp_path / "runs"
    _finished_run(sim, home)
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    for target in (blocker / "out.csv", blocker / "sub" / "out.parquet"):
        code, _, err = _cli(capsys, "export", "done", target, "--home", home)
        _assert_clear(code, err, target, "choose another path")
        with pytest.raises(StoreError, match="choose another path"):
            RunStore(home).export("done", target)
    assert blocker.read_text() == "a file, not a folder"


def test_finish_records_the_status_when_results_cannot_be_written(sim, tmp_path):
    """results.parquet cannot be written (a folder is in its way): the run still ends
    'finished' with the problem noted, and its results come from the journal."""
    home = tmp_path / "runs"
    target = bw.Target("openai/quick", api_base=sim.base_url)
    store = RunStore(home)
    writer = store.create("r", {"targets": [target.to_dict()]}, {"name": "s"})
    (writer.path / "results.parquet").mkdir()  # os.replace onto a folder fails
    with writer:
        writer.append({"run_id": "r", "case_id": "a", "target": "t", "model": "m"})
        with pytest.warns(RuntimeWarning, match="results.parquet: not written"):
            writer.finish("finished")
    manifest = store.manifest("r")
    assert manifest["status"] == "finished" and manifest["calls"] == 1
    assert "results.parquet" in manifest["store_problems"][0]
    assert store.frame("r").height == 1
    assert not list(writer.path.glob(".*.tmp"))  # no half-written temp file left behind


def test_store_errors_are_benchwork_errors():
    assert issubclass(StoreError, BenchworkError)
