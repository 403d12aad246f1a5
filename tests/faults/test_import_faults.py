"""Import checks what it reads (issue 9 item 6): parse errors, required columns, value types
and duplicate calls are each a StoreError naming the file, and leave no run folder behind."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from benchwork.cli import main
from benchwork.errors import StoreError
from benchwork.store import RunStore


def _row(i: int, **extra: object) -> dict[str, object]:
    return {
        "run_id": "src",
        "case_id": f"q{i}",
        "target": "t",
        "model": "openai/m",
        "repeat": 0,
        "status": "ok",
        "started_at": "2026-11-22T11:30:00+00:00",
        "latency_s": 0.1 * (i + 1),
        "output_text": f"answer {i}",
        "scores": {"exact": 1.0},
        **extra,
    }


@pytest.fixture
def source(tmp_path) -> RunStore:
    """A workspace with one finished run 'src' of 4 rows, to export from."""
    store = RunStore(tmp_path / "src")
    with store.create("src", {"suite": "s", "targets": []}, {"name": "s"}) as w:
        for i in range(4):
            w.append(_row(i))
        w.finish("finished")
    return store


def _csv(source: RunStore, tmp_path: Path) -> str:
    return source.export("src", tmp_path / "full.csv").read_text()


def _bad_files(source: RunStore, tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """name -> (file, text the error must contain)."""
    files: dict[str, tuple[Path, str]] = {}

    def put(name: str, ext: str, data: bytes, expect: str) -> None:
        path = tmp_path / f"{name}.{ext}"
        path.write_bytes(data)
        files[name] = (path, expect)

    parquet = source.export("src", tmp_path / "good.parquet").read_bytes()
    put("truncated-parquet", "parquet", parquet[: len(parquet) // 2], "cannot read it as parquet")
    put("garbage-parquet", "parquet", b"PAR1 not really" * 50, "cannot read it as parquet")
    put("empty-csv", "csv", b"", "cannot read it as csv")
    header = _csv(source, tmp_path).splitlines()[0]
    put("header-only-csv", "csv", (header + "\n").encode(), "no rows to import")
    frame = pl.read_csv(tmp_path / "full.csv", infer_schema=False)
    bad_latency = frame.with_columns(
        pl.when(pl.col("case_id") == "q2")
        .then(pl.lit("fast"))
        .otherwise(pl.col("latency_s"))
        .alias("latency_s")
    )
    put("bad-number-csv", "csv", bad_latency.write_csv().encode(), "row 3: column 'latency_s'")
    bad_bool = frame.with_columns(pl.lit("maybe").alias("cached"))
    put("bad-bool-csv", "csv", bad_bool.write_csv().encode(), "column 'cached'")
    bad_score = frame.with_columns(pl.lit("high").alias("score_exact"))
    put("bad-score-csv", "csv", bad_score.write_csv().encode(), "column 'score_exact'")
    no_case = frame.drop("case_id")
    put("no-case-column-csv", "csv", no_case.write_csv().encode(), "'case_id'")
    empty_target = frame.with_columns(
        pl.when(pl.col("case_id") == "q1").then(None).otherwise(pl.col("target")).alias("target")
    )
    put("empty-target-csv", "csv", empty_target.write_csv().encode(), "row 2: 'target' is empty")
    dupes = pl.concat([frame, frame.head(1)])
    put("duplicate-csv", "csv", dupes.write_csv().encode(), "rows 1 and 5 are the same call")
    put(
        "latin1-csv",
        "csv",
        _csv(source, tmp_path).replace("answer", "r\xe9ponse").encode("latin-1"),
        "csv",
    )
    doc = json.loads(source.export("src", tmp_path / "good.json").read_text())
    put("not-json", "json", b'{"rows": [', "cannot read it as json")
    put("rows-not-a-list", "json", json.dumps({"rows": 3}).encode(), "'rows'")
    put("row-not-object", "json", json.dumps({"rows": [1, 2]}).encode(), "row 1 is not an object")
    doc_bad = {**doc, "rows": [{**r, "repeat": "first"} for r in doc["rows"]]}
    put("bad-repeat-json", "json", json.dumps(doc_bad).encode(), "column 'repeat'")
    doc_manifest = {**doc, "manifest": ["not", "an", "object"]}
    put("manifest-list-json", "json", json.dumps(doc_manifest).encode(), "manifest is not")
    return files


NAMES = [
    "truncated-parquet",
    "garbage-parquet",
    "empty-csv",
    "header-only-csv",
    "bad-number-csv",
    "bad-bool-csv",
    "bad-score-csv",
    "no-case-column-csv",
    "empty-target-csv",
    "duplicate-csv",
    "latin1-csv",
    "not-json",
    "rows-not-a-list",
    "row-not-object",
    "bad-repeat-json",
    "manifest-list-json",
]


@pytest.mark.parametrize("name", NAMES)
def test_bad_import_is_a_store_error_naming_the_file(source, tmp_path, name):
    path, expect = _bad_files(source, tmp_path)[name]
    target = RunStore(tmp_path / "dest")
    with pytest.raises(StoreError) as err:
        target.import_run(path)
    assert str(path) in str(err.value) and expect in str(err.value)
    assert not (target.runs_dir.exists() and any(target.runs_dir.iterdir())), "no half import"


def test_bad_import_on_the_command_line(source, tmp_path, capsys):
    files = _bad_files(source, tmp_path)
    for name in ("truncated-parquet", "empty-csv", "duplicate-csv"):
        path, expect = files[name]
        code = main(["import", str(path), "--home", str(tmp_path / "dest")])
        _, err = capsys.readouterr()
        assert code == 2 and err.startswith("benchwork: error: ") and "unexpected" not in err
        assert str(path) in err and expect in err


def test_good_files_still_import(source, tmp_path):
    for ext in ("csv", "json", "parquet"):
        path = source.export("src", tmp_path / f"ok.{ext}")
        dest = RunStore(tmp_path / f"dest-{ext}")
        run_id = dest.import_run(path)
        assert dest.frame(run_id).height == 4
