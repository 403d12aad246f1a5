import json
import warnings
from pathlib import Path

import polars as pl
import pytest

from benchwork._util.redact import Redactor
from benchwork.errors import BenchworkError, RunNotFoundError
from benchwork.results import CallRecord
from benchwork.store import RunStore, new_run_id

SECRET = "sk-proj-SENTINEL-abcdef123456"


def rec(i=0, run_id="r1", **extra):
    r = dict(
        run_id=run_id,
        case_id=f"q{i % 3}",
        target="a" if i % 2 else "b",
        model="openai/m",
        repeat=i // 3,
        status="ok",
        started_at=f"2026-11-22T11:30:{i % 60:02d}+00:00",
        latency_s=0.1 * (i + 1),
        input_tokens=10,
        output_tokens=5 + i,
        cost_usd=0.001,
        output_text=f"answer {i}",
        scores={"exact": float(i % 2), "judge": {"value": 0.5, "explanation": f"why {i}"}},
    )
    r.update(extra)
    return r


@pytest.fixture
def store(tmp_path):
    return RunStore(tmp_path / "ws")


def make_run(store, run_id="r1", n=4, finish=True, **manifest):
    with store.create(
        run_id, {"suite": "demo", "targets": ["a", "b"], **manifest}, {"name": "demo"}
    ) as w:
        for i in range(n):
            w.append(rec(i, run_id))
        if finish:
            w.finish("finished")
    return run_id


def journal(store, run_id) -> Path:
    return store.home / "runs" / run_id / "journal.jsonl"


def test_new_run_id_is_sortable_and_unique():
    ids = [new_run_id() for _ in range(50)]
    assert len(set(ids)) == 50
    assert all(len(i) == 22 and i[8] == "-" and i[15] == "-" for i in ids)


def test_round_trip(store):
    make_run(store, n=4)
    run = store.home / "runs" / "r1"
    assert {p.name for p in run.iterdir()} == {
        "manifest.json",
        "suite.json",
        "journal.jsonl",
        "results.parquet",
    }
    assert store.records("r1") == [rec(i) for i in range(4)]
    m = store.manifest("r1")
    assert m["status"] == "finished" and m["calls"] == 4 and m["errors"] == 0
    assert m["cost_usd"] == pytest.approx(0.004) and m["finished_at"] and m["started_at"]
    assert store.suite("r1") == {"name": "demo"}
    f = store.frame("r1")
    assert f.height == 4 and f["score_judge_explanation"].to_list()[0] == "why 0"
    assert store.done_keys("r1") == {
        (f"q{i % 3}", "a" if i % 2 else "b", i // 3, False) for i in range(4)
    }


def test_create_refuses_existing_id_and_bad_ids(store):
    make_run(store)
    with pytest.raises(BenchworkError, match="already exists"):
        store.create("r1", {}, {})
    with pytest.raises(BenchworkError, match="invalid run id"):
        store.create("../escape", {}, {})


def test_append_is_on_disk_when_it_returns(store):
    with store.create("r1", {}, {}) as w:
        w.append(CallRecord(run_id="r1", case_id="q1", target="a", model="m"))
        with open(journal(store, "r1"), encoding="utf-8") as other:
            lines = other.read().splitlines()
        assert len(lines) == 1 and json.loads(lines[0])["case_id"] == "q1"
        w.append(rec(1))
        assert len(journal(store, "r1").read_text().splitlines()) == 2


def test_truncated_last_line_is_dropped_with_a_warning_and_repaired_on_open(store):
    make_run(store, n=3, finish=False)
    with open(journal(store, "r1"), "a") as f:
        f.write('{"run_id": "r1", "case_id": "q9", "sta')
    with pytest.warns(RuntimeWarning, match=r"journal\.jsonl:4"):
        assert len(store.records("r1")) == 3
    with pytest.warns(RuntimeWarning, match="removing an incomplete"):
        w = store.open("r1")
    with w:
        w.append(rec(3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert [r["output_text"] for r in store.records("r1")] == [f"answer {i}" for i in range(4)]


def test_corrupt_middle_line_raises_with_file_and_line(store):
    make_run(store, n=3, finish=False)
    lines = journal(store, "r1").read_text().splitlines()
    lines[1] = lines[1][:20]
    journal(store, "r1").write_text("\n".join(lines) + "\n")
    with pytest.raises(BenchworkError, match=r"journal\.jsonl:2: journal line is not valid JSON"):
        store.records("r1")


def test_frame_rebuilt_from_journal_when_parquet_missing_or_stale(store):
    make_run(store, n=4)
    full = store.frame("r1")
    (store.home / "runs" / "r1" / "results.parquet").unlink()
    assert store.frame("r1").equals(full)
    with store.open("r1") as w:  # resumed after finish: parquet now has fewer rows than journal
        w.finish("finished")
        w.append(rec(4))
    assert store.frame("r1").height == 5


def test_runs_listing_newest_first_with_a_corrupt_manifest(store):
    make_run(store, "old", started_at="2026-01-01T00:00:00+00:00")
    make_run(
        store, "new", finish=False, started_at="2026-06-01T00:00:00+00:00", targets=[{"name": "x"}]
    )
    make_run(store, "bad")
    (store.home / "runs" / "bad" / "manifest.json").write_text("{not json")
    df = store.runs()
    assert df.columns == [
        "run_id",
        "suite",
        "targets",
        "started",
        "finished",
        "status",
        "calls",
        "errors",
        "cost_usd",
    ]
    assert df.schema["targets"] == pl.List(pl.String) and df.schema["started"] == pl.Datetime(
        "us", "UTC"
    )
    rows = {r["run_id"]: r for r in df.to_dicts()}
    assert rows["bad"]["status"] == "corrupt"
    # 'running' in its manifest, but no process writes it (its writer was closed, as when a
    # process dies): listed as interrupted; while a writer holds it, as running
    assert (
        rows["new"]["status"] == "interrupted"
        and rows["new"]["calls"] == 4
        and rows["new"]["targets"] == ["x"]
    )
    with store.open("new"):
        assert store.runs().filter(pl.col("run_id") == "new")["status"].item() == "running"
    assert rows["old"]["status"] == "finished" and rows["old"]["suite"] == "demo"
    assert df["run_id"].to_list().index("new") < df["run_id"].to_list().index("old")
    assert RunStore(store.home / "empty").runs().height == 0


@pytest.mark.parametrize("ext", ["csv", "json", "parquet"])
def test_export_import_round_trip(store, tmp_path, ext):
    make_run(store, n=5)
    rec_err = rec(9, error_message="boom", status="error", cost_usd=None)
    with store.open("r1") as w:
        w.append(rec_err)
        w.finish("finished")
    out = store.export("r1", tmp_path / f"r1.{ext}")
    other = RunStore(tmp_path / "other")
    new_id = other.import_run(out)
    assert new_id == "r1"  # id kept when free
    a, b = store.frame("r1"), other.frame("r1")
    assert a.schema == b.schema and a.equals(b)
    m = other.manifest(new_id)
    assert m["imported"] is True and m["calls"] == 6 and m["errors"] == 1
    if ext != "csv":
        assert m["suite"] == "demo"
    again = other.import_run(out)  # id taken now: a new one, rows follow it
    assert again != "r1" and set(other.frame(again)["run_id"]) == {again}


def test_import_bare_csv_gets_a_minimal_manifest(store, tmp_path):
    make_run(store, n=2)
    path = store.export("r1", tmp_path / "x.csv")
    rid = RunStore(tmp_path / "w2").import_run(path)
    m = RunStore(tmp_path / "w2").manifest(rid)
    assert (
        m["imported"] is True and m["status"] == "finished" and sorted(m["targets"]) == ["a", "b"]
    )
    with pytest.raises(BenchworkError, match="cannot export"):
        store.export("r1", tmp_path / "x.xlsx")


def test_home_from_env_and_default(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCHWORK_HOME", str(tmp_path / "envhome"))
    assert RunStore().home == tmp_path / "envhome"
    monkeypatch.delenv("BENCHWORK_HOME")
    monkeypatch.chdir(tmp_path)
    assert RunStore().home == tmp_path / "benchwork-runs"


def test_secret_never_on_disk(tmp_path):
    store = RunStore(tmp_path / "ws", redactor=Redactor([SECRET]))
    manifest = {"suite": "demo", "targets": ["a"], "note": f"key {SECRET}"}
    with store.create("r1", manifest, {"system": SECRET}) as w:
        w.append(rec(0, output_text=f"echo {SECRET}", error_message=f"401 {SECRET}"))
        w.update_manifest(config={"api_key": SECRET})
        w.finish("finished", detail=SECRET)
    for ext in ("csv", "json", "parquet"):
        store.export("r1", tmp_path / "ws" / f"out.{ext}")
    files = [p for p in (tmp_path / "ws").rglob("*") if p.is_file()]
    assert len(files) >= 7
    for p in files:
        assert SECRET.encode() not in p.read_bytes(), p
    assert store.frame("r1")["output_text"][0] == "echo ***"


def test_run_not_found_lists_five_newest(store):
    with pytest.raises(RunNotFoundError, match="no runs yet"):
        store.manifest("nope")
    for i in range(7):
        make_run(store, f"run{i}", n=0, finish=False, started_at=f"2026-01-0{i + 1}T00:00:00+00:00")
    with pytest.raises(RunNotFoundError) as info:
        store.records("nope")
    msg = str(info.value)
    assert "'nope'" in msg and all(f"run{i}" in msg for i in range(2, 7))
    assert "run1" not in msg and "run0" not in msg
    store.delete("run6")
    assert not store.exists("run6")
