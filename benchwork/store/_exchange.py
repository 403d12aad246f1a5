"""Moving runs between workspaces: export to .csv/.json/.parquet and import them back.

Import checks what it reads before it makes a run folder: the file parses, the required
columns are there (``case_id``, ``target``, ``model``), every value has its column's type,
and no call appears twice; each problem is a :class:`~benchwork.errors.StoreError` naming
the file (and the row and column).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from benchwork.errors import BenchworkError, StoreError
from benchwork.results import RESULT_SCHEMA, records_to_frame
from benchwork.store._ids import VALID_ID, new_run_id
from benchwork.store._io import (
    atomic_write_bytes,
    disk_problem,
    dumps,
    rows_to_records,
    typed_frame,
    write_parquet,
)

if TYPE_CHECKING:
    from benchwork.store._store import RunStore

__all__ = ["export_run", "import_run"]

_MANIFEST_KEY = b"benchwork.manifest"
_SUITE_KEY = b"benchwork.suite"
#: columns an imported file must have, never null (a result row is nothing without them)
_REQUIRED = ("case_id", "target", "model")


def export_run(store: RunStore, run_id: str, path: Path) -> Path:
    """Write one run's results frame to ``path`` (format from the extension), scrubbed."""
    ext = path.suffix.lower()
    if ext not in (".csv", ".json", ".parquet"):
        raise BenchworkError(f"cannot export to {path.name!r}: use a .csv, .json or .parquet path")
    frame, manifest = store.frame(run_id), store.manifest(run_id)
    try:
        suite: dict[str, Any] | None = store.suite(run_id)
    except BenchworkError:
        suite = None
    redactor = store._redactor
    try:
        path.parent.mkdir(parents=True, exist_ok=True)  # "export RUN out/run.csv" makes out/
        if ext == ".csv":
            atomic_write_bytes(path, redactor.scrub(frame.write_csv()).encode("utf-8"))
        elif ext == ".json":
            doc = {"manifest": manifest, "suite": suite, "rows": frame.to_dicts()}
            text = dumps(redactor.scrub_obj(doc), indent=1) + "\n"
            atomic_write_bytes(path, text.encode("utf-8"))
        else:
            meta = {_MANIFEST_KEY: dumps(redactor.scrub_obj(manifest)).encode("utf-8")}
            if suite is not None:
                meta[_SUITE_KEY] = dumps(redactor.scrub_obj(suite)).encode("utf-8")
            write_parquet(path, frame, meta)  # rows come from the journal, scrubbed when written
    except OSError as exc:
        raise StoreError(
            f"cannot export run {run_id!r} to {path} ({disk_problem(exc)}); choose another path"
        ) from exc
    return path


def import_run(store: RunStore, path: Path) -> str:
    """Rebuild a run folder (manifest, suite, journal, results) from an exported file."""

    manifest, suite, frame = _read_export(path)
    old_id = manifest.get("run_id") or (
        frame["run_id"].drop_nulls().first() if "run_id" in frame.columns and frame.height else None
    )
    free = old_id and VALID_ID.match(str(old_id)) and not store.exists(str(old_id))
    run_id = str(old_id) if free else new_run_id()
    records = rows_to_records(frame)
    for rec in records:
        rec["run_id"] = run_id
    if not manifest:
        manifest = {"targets": sorted({r["target"] for r in records if r.get("target")})}
        starts = sorted(r["started_at"] for r in records if r.get("started_at"))
        if starts:
            manifest["started_at"] = starts[0]
    manifest = {**manifest, "run_id": run_id, "imported": True, "imported_from": str(path)}
    if old_id and old_id != run_id:
        manifest["original_run_id"] = old_id
    totals = {
        k: manifest[k] for k in ("finished_at", "calls", "errors", "cost_usd") if k in manifest
    }
    with store.create(run_id, manifest, suite or {}) as writer:
        if suite is None:  # unknown suite: leave it out so suite() says so clearly
            (writer.path / "suite.json").unlink()
        for rec in records:
            writer.append(rec, sync=False)
        writer.finish(manifest.get("status") or "finished", **totals)
    return run_id


def _read_export(path: Path) -> tuple[dict[str, Any], dict[str, Any] | None, pl.DataFrame]:
    """``(manifest or {}, suite or None, typed frame)`` from an exported file, checked."""
    if not path.is_file():
        what = "a folder" if path.is_dir() else "no such file"
        raise StoreError(f"{path}: {what}; give a .csv, .json or .parquet file to import")
    ext = path.suffix.lower()
    if ext not in (".csv", ".json", ".parquet"):
        raise BenchworkError(f"cannot import {path.name!r}: use a .csv, .json or .parquet file")
    manifest: Any = {}
    suite: Any = None
    try:
        if ext == ".csv":
            raw = pl.read_csv(path, infer_schema=False)
        elif ext == ".parquet":
            import pyarrow.parquet as pq

            meta = pq.read_schema(path).metadata or {}
            if _MANIFEST_KEY in meta:
                manifest = json.loads(meta[_MANIFEST_KEY])
            if _SUITE_KEY in meta:
                suite = json.loads(meta[_SUITE_KEY])
            raw = pl.read_parquet(path)
        else:
            doc = json.loads(path.read_text(encoding="utf-8"))
            rows = (
                doc if isinstance(doc, list) else doc.get("rows") if isinstance(doc, dict) else None
            )
            if not isinstance(rows, list):
                raise StoreError(f"{path}: expected a list of rows or an object with 'rows'")
            bad = next((i for i, r in enumerate(rows) if not isinstance(r, dict)), None)
            if bad is not None:
                raise StoreError(f"{path}: row {bad + 1} is not an object")
            if isinstance(doc, dict):
                manifest, suite = doc.get("manifest") or {}, doc.get("suite")
            raw = pl.DataFrame(rows, infer_schema_length=None) if rows else records_to_frame([])
    except StoreError:
        raise
    except Exception as exc:  # pyarrow/polars/json each have their own parse errors
        reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise StoreError(
            f"{path}: cannot read it as {ext[1:]} ({reason}); is it a complete file written by "
            "'benchwork export'?"
        ) from exc
    if not isinstance(manifest, dict):
        raise StoreError(f"{path}: its manifest is not an object; re-export the run")
    if suite is not None and not isinstance(suite, dict):
        raise StoreError(f"{path}: its suite is not an object; re-export the run")
    return manifest, suite, _checked_frame(path, raw)


def _checked_frame(path: Path, raw: pl.DataFrame) -> pl.DataFrame:
    """The frame cast to the result schema; a value that does not fit its column, a missing
    required column or value, or a call that appears twice is a StoreError."""
    if raw.height == 0:
        raise StoreError(f"{path}: no rows to import")
    missing = [c for c in _REQUIRED if c not in raw.columns]
    if missing:
        raise StoreError(
            f"{path}: required column(s) {', '.join(map(repr, missing))} missing; import "
            "files written by 'benchwork export'"
        )
    frame = typed_frame(raw)
    for name in frame.columns:
        if name not in RESULT_SCHEMA and not name.startswith("score_"):
            continue
        lost = raw[name].is_not_null() & frame[name].is_null()
        if raw[name].dtype == pl.String():  # '' in a CSV is an empty cell, not a bad value
            lost = lost & (raw[name].str.strip_chars() != "")
        if lost.any():
            i = int(lost.arg_true()[0])
            want = frame.schema[name]
            raise StoreError(
                f"{path}: row {i + 1}: column {name!r}: {raw[name][i]!r} is not a valid "
                f"{want} value; fix the file or re-export the run"
            )
    for name in _REQUIRED:
        nulls = frame[name].is_null()
        if nulls.any():
            i = int(nulls.arg_true()[0])
            raise StoreError(f"{path}: row {i + 1}: {name!r} is empty; every row needs one")
    ident = frame.select(
        pl.col("case_id"),
        pl.col("target"),
        pl.col("repeat").fill_null(0) if "repeat" in frame.columns else pl.lit(0).alias("repeat"),
        pl.col("warmup").fill_null(False)
        if "warmup" in frame.columns
        else pl.lit(False).alias("warmup"),
    )
    dupes = ident.is_duplicated()
    if dupes.any():
        rows = [int(i) + 1 for i in dupes.arg_true()[:2]]
        r = ident.row(rows[0] - 1, named=True)
        raise StoreError(
            f"{path}: rows {rows[0]} and {rows[1]} are the same call (case {r['case_id']!r}, "
            f"target {r['target']!r}, repeat {r['repeat']}); keep one row per call"
        )
    return frame
