"""The run store: one folder per run, the only module that writes run files.

Workspace layout (``home`` = argument, else ``$BENCHWORK_HOME``, else ``./benchwork-runs``)::

    runs/<run_id>/manifest.json    what ran and how it went (rewritten atomically)
    runs/<run_id>/suite.json       the suite's dict, so the run can be re-planned (resume)
    runs/<run_id>/journal.jsonl    one line per finished call, fsynced before its event
    runs/<run_id>/results.parquet  written at finish, always rebuildable from the journal

Every string that reaches disk passes through the run's :class:`~benchwork.redact.Redactor`.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from benchwork._util.redact import Redactor
from benchwork.errors import BenchworkError, RunNotFoundError
from benchwork.results import record_totals, records_to_frame
from benchwork.store._exchange import export_run, import_run
from benchwork.store._ids import VALID_ID, new_run_id
from benchwork.store._io import (
    atomic_write_bytes,
    dumps,
    latest_records,
    read_journal,
    repair_journal_tail,
    write_json,
    write_parquet,
)
from benchwork.store._list import list_runs

__all__ = ["RunStore", "RunWriter", "default_home", "new_run_id"]


def default_home() -> Path:
    """``$BENCHWORK_HOME``, else ``./benchwork-runs`` (relative to the current directory)."""
    return Path(os.environ.get("BENCHWORK_HOME") or "benchwork-runs").expanduser().absolute()


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


class RunWriter:
    """Appends finished calls to one run's journal; keeps one file handle open for its life."""

    def __init__(self, run_dir: Path, redactor: Redactor) -> None:
        self._dir = run_dir
        self._redactor = redactor
        self._lock = threading.Lock()
        self._file = open(run_dir / "journal.jsonl", "a", encoding="utf-8")
        self.appended = 0  #: lines appended through this writer

    @property
    def run_id(self) -> str:
        return self._dir.name

    @property
    def path(self) -> Path:
        """The run's folder."""
        return self._dir

    def append(self, record: dict[str, Any], *, sync: bool = True) -> None:
        """Write one JSON line and fsync it: when this returns, the call survives a crash.

        ``sync=False`` (cache hits, already durable in the cache) flushes without fsync.
        """
        if not isinstance(record, dict):  # a CallRecord
            record = record.to_dict()
        line = dumps(self._redactor.scrub_obj(record)) + "\n"
        with self._lock:
            f = self._file
            f.write(line)
            f.flush()
            if sync:
                os.fsync(f.fileno())
            self.appended += 1

    def serialize(self, record: dict[str, Any]) -> str:
        """The journal line for a record (scrubbed), so callers can encode off their hot thread."""
        return (
            dumps(
                self._redactor.scrub_obj(record if isinstance(record, dict) else record.to_dict())
            )
            + "\n"
        )

    def append_lines(self, lines: list[str], *, sync: bool = True) -> None:
        """Write lines from ``serialize`` with one fsync (group commit); durable on return."""
        with self._lock:
            f = self._file
            f.write("".join(lines))
            f.flush()
            if sync:
                os.fsync(f.fileno())
            self.appended += len(lines)

    def manifest(self) -> dict[str, Any]:
        """The manifest as it is on disk now."""
        return json.loads((self._dir / "manifest.json").read_text(encoding="utf-8"))

    def update_manifest(self, **fields: Any) -> dict[str, Any]:
        """Merge ``fields`` into the manifest and rewrite it atomically; returns the new manifest."""
        manifest = self.manifest()
        manifest.update(fields)
        write_json(self._dir / "manifest.json", manifest, self._redactor)
        return manifest

    def records(self) -> list[dict[str, Any]]:
        """Every record in the journal so far (including those from before a resume)."""
        with self._lock:
            self._file.flush()
        return read_journal(self._dir / "journal.jsonl")

    def finish(self, status: str, *, frame: pl.DataFrame | None = None, **fields: Any) -> None:
        """Write results.parquet (atomically), then status/finished_at/summary in the manifest.

        The parquet is built from the journal, unless the caller passes ``frame``: the results
        it already holds, which must be exactly the journal's rows (latest per call); this
        spares re-reading and re-parsing the journal (for a 10,000-call run, ~0.3 s).
        ``calls``, ``errors`` and ``cost_usd`` are computed from the rows unless given.
        """
        with self._lock:  # appends made with sync=False become durable here
            self._file.flush()
            os.fsync(self._file.fileno())
        if frame is None:
            records = latest_records(read_journal(self._dir / "journal.jsonl"))
            frame = records_to_frame(records)
        else:
            records = frame.select("warmup", "cached", "status", "cost_usd").to_dicts()
        totals = record_totals(records)
        summary = {k: totals[k] for k in ("calls", "errors", "cost_usd")}
        write_parquet(self._dir / "results.parquet", frame)
        self.update_manifest(**{**summary, "status": status, "finished_at": _now_iso(), **fields})

    def close(self) -> None:
        """Close the journal (idempotent)."""
        with self._lock:
            if not self._file.closed:
                self._file.close()

    def __enter__(self) -> RunWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._file.closed else "open"
        return f"RunWriter({self.run_id!r}, {state}, appended={self.appended})"


class RunStore:
    """A workspace of runs on disk: create, resume, list, read, export, import, delete."""

    def __init__(self, home: str | Path | None = None, *, redactor: Redactor | None = None) -> None:
        self._home = Path(home).expanduser().absolute() if home is not None else default_home()
        self._redactor = redactor or Redactor()

    @property
    def home(self) -> Path:
        """The workspace folder (runs live in ``home/runs``)."""
        return self._home

    @property
    def runs_dir(self) -> Path:
        return self._home / "runs"

    def path(self, run_id: str) -> Path:
        """The folder of an existing run; :class:`RunNotFoundError` if there is none."""
        run_dir = self.runs_dir / run_id
        if not VALID_ID.match(run_id or "") or not run_dir.is_dir():
            names = self._ids_newest_first()[:5]
            hint = f"newest: {', '.join(names)}" if names else "the store has no runs yet"
            raise RunNotFoundError(f"no run {run_id!r} in {self.runs_dir} ({hint})")
        return run_dir

    def exists(self, run_id: str) -> bool:
        return bool(VALID_ID.match(run_id or "")) and (self.runs_dir / run_id).is_dir()

    # -- writing ------------------------------------------------------------------------------

    def create(self, run_id: str, manifest: dict[str, Any], suite: dict[str, Any]) -> RunWriter:
        """Start a new run folder; refuses an id that already exists.

        ``run_id``, ``status`` ("running") and ``started_at`` are filled in the manifest if absent.
        """
        if not VALID_ID.match(run_id or ""):
            raise BenchworkError(
                f"invalid run id {run_id!r}: use letters, digits, '.', '_' or '-' (see new_run_id())"
            )
        run_dir = self.runs_dir / run_id
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        try:
            run_dir.mkdir()
        except FileExistsError:
            raise BenchworkError(
                f"run {run_id!r} already exists in {self.runs_dir}: resume it with "
                "RunStore.open(), or pick a new id with new_run_id()"
            ) from None
        manifest = {"run_id": run_id, "status": "running", "started_at": _now_iso(), **manifest}
        write_json(run_dir / "suite.json", suite, self._redactor)
        write_json(run_dir / "manifest.json", manifest, self._redactor)
        return RunWriter(run_dir, self._redactor)

    def open(self, run_id: str) -> RunWriter:
        """Reopen a run's journal for appending (resume); a half-written last line is removed."""
        run_dir = self.path(run_id)
        repair_journal_tail(run_dir / "journal.jsonl")
        return RunWriter(run_dir, self._redactor)

    def rewrite(self, run_id: str, records: list[dict[str, Any]], **manifest_fields: Any) -> None:
        """Replace a finished run's journal with ``records`` (e.g. rescored) atomically, rebuild
        results.parquet, and merge ``manifest_fields`` into the manifest."""
        run_dir = self.path(run_id)
        records = [self._redactor.scrub_obj(r) for r in records]
        lines = "".join(dumps(r) + "\n" for r in records)
        atomic_write_bytes(run_dir / "journal.jsonl", lines.encode("utf-8"))
        write_parquet(run_dir / "results.parquet", records_to_frame(records))
        manifest = self.manifest(run_id)
        manifest.update(manifest_fields)
        write_json(run_dir / "manifest.json", manifest, self._redactor)

    def delete(self, run_id: str) -> None:
        """Remove a run folder and everything in it."""
        shutil.rmtree(self.path(run_id))

    # -- reading ------------------------------------------------------------------------------

    def manifest(self, run_id: str) -> dict[str, Any]:
        path = self.path(run_id) / "manifest.json"
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise BenchworkError(f"{path}: cannot read the manifest ({exc})") from exc

    def suite(self, run_id: str) -> dict[str, Any]:
        """The suite dict saved at create, so the run can be re-planned."""
        path = self.path(run_id) / "suite.json"
        if not path.exists():
            raise BenchworkError(
                f"run {run_id!r} has no suite.json (imported?): it cannot be re-planned"
            )
        return json.loads(path.read_text(encoding="utf-8"))

    def records(self, run_id: str) -> list[dict[str, Any]]:
        """Journal records in order, the latest row per call (an errored call retried by a
        resume appears once, as retried); a torn last line is dropped with a warning."""
        return latest_records(read_journal(self.path(run_id) / "journal.jsonl"))

    def done_keys(self, run_id: str) -> set[tuple[str, str, int, bool]]:
        """``(case_id, target, repeat, warmup)`` of every journaled call (errors included)."""
        return {
            (r.get("case_id"), r.get("target"), r.get("repeat", 0), bool(r.get("warmup")))
            for r in self.records(run_id)
        }

    def frame(self, run_id: str) -> pl.DataFrame:
        """The results frame: results.parquet when it matches the journal, else the journal."""
        run_dir = self.path(run_id)
        records = latest_records(read_journal(run_dir / "journal.jsonl"))
        parquet = run_dir / "results.parquet"
        if parquet.exists():
            try:
                if pl.scan_parquet(parquet).select(pl.len()).collect().item() == len(records):
                    return pl.read_parquet(parquet)
            except Exception:  # unreadable parquet: the journal is the truth
                pass
        return records_to_frame(records)

    def runs(self) -> pl.DataFrame:
        """One row per run folder, newest first; an unreadable manifest shows as ``corrupt``."""
        return list_runs(self.runs_dir)

    def _ids_newest_first(self) -> list[str]:
        if not self.runs_dir.is_dir():
            return []
        return self.runs()["run_id"].to_list()

    # -- exchange -----------------------------------------------------------------------------

    def export(self, run_id: str, path: str | Path) -> Path:
        """Write the results as .csv, .json (``{"manifest", "suite", "rows"}``) or .parquet.

        Parquet exports carry the manifest and suite in the file's metadata.
        """
        return export_run(self, run_id, Path(path))

    def import_run(self, path: str | Path) -> str:
        """Make a run folder from an exported file; returns its id.

        The original id is kept when it is free here, else a new one is minted (rows follow).
        A file without a manifest (CSV, foreign parquet) gets a minimal one; all are marked
        ``imported: true``.
        """
        return import_run(self, Path(path))

    def __repr__(self) -> str:
        return f"RunStore({str(self._home)!r})"
