"""Moving runs between workspaces: export to .csv/.json/.parquet and import them back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from benchwork.errors import BenchworkError
from benchwork.results import records_to_frame
from benchwork.store._ids import VALID_ID, new_run_id
from benchwork.store._io import (
    atomic_write_bytes,
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


def export_run(store: RunStore, run_id: str, path: Path) -> Path:
    """Write one run's results frame to ``path`` (format from the extension), scrubbed."""
    ext = path.suffix.lower()
    if ext not in (".csv", ".json", ".parquet"):
        raise BenchworkError(f"cannot export to {path.name!r}: use a .csv, .json or .parquet path")
    frame, manifest = store.frame(run_id), store.manifest(run_id)
    path.parent.mkdir(parents=True, exist_ok=True)  # "export RUN out/run.csv" makes out/
    try:
        suite: dict[str, Any] | None = store.suite(run_id)
    except BenchworkError:
        suite = None
    redactor = store._redactor
    if ext == ".csv":
        atomic_write_bytes(path, redactor.scrub(frame.write_csv()).encode("utf-8"))
    elif ext == ".json":
        doc = {"manifest": manifest, "suite": suite, "rows": frame.to_dicts()}
        atomic_write_bytes(path, (dumps(redactor.scrub_obj(doc), indent=1) + "\n").encode("utf-8"))
    else:
        meta = {_MANIFEST_KEY: dumps(redactor.scrub_obj(manifest)).encode("utf-8")}
        if suite is not None:
            meta[_SUITE_KEY] = dumps(redactor.scrub_obj(suite)).encode("utf-8")
        write_parquet(path, frame, meta)  # rows come from the journal, scrubbed when written
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
    """``(manifest or {}, suite or None, typed frame)`` from an exported file."""
    if not path.exists():
        raise BenchworkError(f"{path}: no such file to import")
    ext = path.suffix.lower()
    manifest: dict[str, Any] = {}
    suite: dict[str, Any] | None = None
    if ext == ".csv":
        frame = typed_frame(pl.read_csv(path, infer_schema=False))
    elif ext == ".parquet":
        import pyarrow.parquet as pq

        meta = pq.read_schema(path).metadata or {}
        if _MANIFEST_KEY in meta:
            manifest = json.loads(meta[_MANIFEST_KEY])
        if _SUITE_KEY in meta:
            suite = json.loads(meta[_SUITE_KEY])
        frame = typed_frame(pl.read_parquet(path))
    elif ext == ".json":
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise BenchworkError(f"{path}: not valid JSON ({exc})") from exc
        rows = doc if isinstance(doc, list) else doc.get("rows")
        if not isinstance(rows, list):
            raise BenchworkError(f"{path}: expected a list of rows or an object with 'rows'")
        if isinstance(doc, dict):
            manifest, suite = doc.get("manifest") or {}, doc.get("suite")
        frame = pl.DataFrame(rows, infer_schema_length=None) if rows else records_to_frame([])
        frame = typed_frame(frame)
    else:
        raise BenchworkError(f"cannot import {path.name!r}: use a .csv, .json or .parquet file")
    return manifest, suite, frame
