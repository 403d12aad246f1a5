"""The run store: one folder per run, the only module that writes run files.

Workspace layout (``home`` = argument, else ``$BENCHWORK_HOME``, else ``./benchwork-runs``)::

    runs/<run_id>/manifest.json    what ran and how it went (rewritten atomically)
    runs/<run_id>/suite.json       the suite's dict, so the run can be re-planned (resume)
    runs/<run_id>/journal.jsonl    one line per finished call, fsynced before its event
    runs/<run_id>/results.parquet  written at finish, always rebuildable from the journal
    runs/<run_id>/.lock            held (flock) by the one process writing the run

results.parquet carries the sha256 of the journal it was built from, and is read only while
the journal still has exactly those bytes (a resume, a retry or a hand edit makes it stale).
A write that fails (full disk, read-only folder) is a :class:`~benchwork.errors.StoreError`
naming the file and what to do; a run that stops for any reason still records its status.

Every string that reaches disk passes through the run's :class:`~benchwork.redact.Redactor`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from benchwork._util.redact import Redactor
from benchwork.errors import BenchworkError, RunNotFoundError, StoreError
from benchwork.results import record_totals, records_to_frame
from benchwork.store._exchange import export_run, import_run
from benchwork.store._ids import VALID_ID, new_run_id
from benchwork.store._io import (
    JOURNAL_HASH_KEY,
    atomic_write_bytes,
    disk_problem,
    dumps,
    journal_hash,
    latest_records,
    parquet_journal_hash,
    read_journal,
    repair_journal_tail,
    write_json,
    write_parquet,
)
from benchwork.store._list import list_runs
from benchwork.store._lock import RunLock, lock_holder

__all__ = ["RunStore", "RunWriter", "default_home", "new_run_id"]


def default_home() -> Path:
    """``$BENCHWORK_HOME``, else ``./benchwork-runs`` (relative to the current directory)."""
    return Path(os.environ.get("BENCHWORK_HOME") or "benchwork-runs").expanduser().absolute()


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise StoreError(
            f"{path}: the run has no manifest; the folder is not a complete run "
            "(delete it, or re-import the run from an export)"
        ) from exc
    except (OSError, ValueError) as exc:
        reason = disk_problem(exc) if isinstance(exc, OSError) else f"not valid JSON: {exc}"
        raise StoreError(
            f"{path}: cannot read the manifest ({reason}); restore it from a backup or an "
            "export, or delete the run"
        ) from exc
    if not isinstance(manifest, dict):
        raise StoreError(
            f"{path}: the manifest is a JSON {type(manifest).__name__}, not an object; restore "
            "it from a backup or an export, or delete the run"
        )
    return manifest


def _results_metadata(run_dir: Path) -> dict[bytes, bytes]:
    return {JOURNAL_HASH_KEY: journal_hash(run_dir / "journal.jsonl").encode("ascii")}


class RunWriter:
    """Appends finished calls to one run's journal; keeps one file descriptor open for its life.

    Unbuffered ``os.write`` on an ``O_APPEND`` descriptor: a write that fails part way (full
    disk, file size limit) is cut back off, so the journal never keeps a torn line.
    """

    def __init__(self, run_dir: Path, redactor: Redactor, lock: RunLock | None = None) -> None:
        self._dir = run_dir
        self._redactor = redactor
        self._lock = threading.Lock()
        self._run_lock = lock if lock is not None else RunLock(run_dir).acquire()
        try:
            self._fd = os.open(
                run_dir / "journal.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644
            )
            self._size = os.fstat(self._fd).st_size  # we are the only writer (the run's lock)
        except OSError as exc:
            self._run_lock.release()
            raise StoreError(
                f"{run_dir / 'journal.jsonl'}: cannot open the journal ({disk_problem(exc)})"
            ) from exc
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
        self.append_lines([dumps(self._redactor.scrub_obj(record)) + "\n"], sync=sync)

    def serialize(self, record: dict[str, Any]) -> str:
        """The journal line for a record (scrubbed), so callers can encode off their hot thread."""
        return (
            dumps(
                self._redactor.scrub_obj(record if isinstance(record, dict) else record.to_dict())
            )
            + "\n"
        )

    def append_lines(self, lines: list[str], *, sync: bool = True) -> None:
        """Write lines from ``serialize`` with one fsync (group commit); durable on return.

        A failed write (full disk, file size limit, I/O error) is a :class:`StoreError`
        naming the journal; lines written before it are kept, a torn last one is cut on resume.
        """
        # a lone surrogate becomes its JSON escape again (\\udcff): the line still parses back
        data = "".join(lines).encode("utf-8", "backslashreplace")
        with self._lock:
            if self._fd is None:
                raise StoreError(f"{self._dir / 'journal.jsonl'}: the run's writer is closed")
            fd, view, done = self._fd, memoryview(data), 0
            try:
                while done < len(data):
                    done += os.write(fd, view[done:])
                if sync:
                    os.fsync(fd)
            except OSError as exc:
                if done:  # cut a partial write back off: no torn line is left behind
                    with contextlib.suppress(OSError):
                        os.ftruncate(fd, self._size)
                raise self._write_error(exc) from exc
            self._size += len(data)
            self.appended += len(lines)

    def _write_error(self, exc: OSError) -> StoreError:
        return StoreError(
            f"{self._dir / 'journal.jsonl'}: cannot write the journal ({disk_problem(exc)}); "
            f"then 'benchwork resume {self.run_id}' makes only the calls that are missing"
        )

    def manifest(self) -> dict[str, Any]:
        """The manifest as it is on disk now."""
        return _read_manifest(self._dir / "manifest.json")

    def update_manifest(self, **fields: Any) -> dict[str, Any]:
        """Merge ``fields`` into the manifest and rewrite it atomically; returns the new manifest."""
        manifest = self.manifest()
        manifest.update(fields)
        path = self._dir / "manifest.json"
        try:
            write_json(path, manifest, self._redactor)
        except OSError as exc:
            raise StoreError(f"{path}: cannot write the manifest ({disk_problem(exc)})") from exc
        return manifest

    def records(self) -> list[dict[str, Any]]:
        """Every record in the journal so far (including those from before a resume)."""
        return read_journal(self._dir / "journal.jsonl")

    def finish(self, status: str, *, frame: pl.DataFrame | None = None, **fields: Any) -> None:
        """Write results.parquet (atomically), then status/finished_at/summary in the manifest.

        The parquet is built from the journal, unless the caller passes ``frame``: the results
        it already holds, which must be exactly the journal's rows (latest per call); this
        spares re-reading and re-parsing the journal (for a 10,000-call run, ~0.3 s).
        ``calls``, ``errors`` and ``cost_usd`` are computed from the rows unless given.

        The status is recorded even when the rest fails (a full disk, a damaged journal): a
        stopped run never stays 'running'. Failing to write results.parquet is a warning (it
        is rebuilt from the journal when read); failing to write the manifest raises
        :class:`StoreError`.
        """
        problems: list[str] = []
        with self._lock:  # appends made with sync=False become durable here
            try:
                if self._fd is not None:
                    os.fsync(self._fd)
            except OSError as exc:
                problems.append(str(self._write_error(exc)))
        summary: dict[str, Any] = {}
        try:
            if frame is None:
                records = latest_records(read_journal(self._dir / "journal.jsonl"))
                frame = records_to_frame(records)
            else:
                records = frame.select("warmup", "cached", "status", "cost_usd").to_dicts()
            totals = record_totals(records)
            summary = {k: totals[k] for k in ("calls", "errors", "cost_usd")}
            parquet = self._dir / "results.parquet"
            try:
                write_parquet(parquet, frame, _results_metadata(self._dir))
            except OSError as exc:
                problems.append(
                    f"{parquet}: not written ({disk_problem(exc)}); results are read from the "
                    "journal instead"
                )
        except StoreError as exc:
            problems.append(str(exc))
        except Exception as exc:  # rows that do not make a frame: the status still goes down
            problems.append(f"{self._dir}: results not built ({type(exc).__name__}: {exc})")
        fields = {**summary, "status": status, "finished_at": _now_iso(), **fields}
        if problems:
            fields["store_problems"] = problems
            warnings.warn("; ".join(problems), RuntimeWarning, stacklevel=2)
        self.update_manifest(**fields)

    def close(self) -> None:
        """Close the journal and give up the run's lock (idempotent)."""
        with self._lock:
            fd, self._fd = self._fd, None
            try:
                if fd is not None:
                    os.close(fd)
            except OSError:
                pass
            finally:
                self._run_lock.release()

    def __enter__(self) -> RunWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._fd is None else "open"
        return f"RunWriter({self.run_id!r}, {state}, appended={self.appended})"


class RunStore:
    """A workspace of runs on disk: create, resume, list, read, export, import, delete."""

    def __init__(self, home: str | Path | None = None, *, redactor: Redactor | None = None) -> None:
        self._home = Path(home).expanduser().absolute() if home is not None else default_home()
        self._redactor = redactor or Redactor()
        for folder in (self._home, self._home / "runs"):
            if folder.exists() and not folder.is_dir():
                raise StoreError(
                    f"{folder} is a file, not a folder: point --home (or BENCHWORK_HOME) at a "
                    "folder for runs, or move the file away"
                )

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
        try:
            self.runs_dir.mkdir(parents=True, exist_ok=True)
            run_dir.mkdir()
        except FileExistsError:
            raise BenchworkError(
                f"run {run_id!r} already exists in {self.runs_dir}: resume it with "
                "RunStore.open(), or pick a new id with new_run_id()"
            ) from None
        except OSError as exc:
            raise StoreError(
                f"{run_dir}: cannot create the run folder ({disk_problem(exc)})"
            ) from exc
        lock = RunLock(run_dir).acquire()
        manifest = {"run_id": run_id, "status": "running", "started_at": _now_iso(), **manifest}
        try:
            write_json(run_dir / "suite.json", suite, self._redactor)
            write_json(run_dir / "manifest.json", manifest, self._redactor)
        except OSError as exc:
            lock.release()
            raise StoreError(
                f"{run_dir}: cannot write the run's files ({disk_problem(exc)})"
            ) from exc
        return RunWriter(run_dir, self._redactor, lock)

    def open(self, run_id: str) -> RunWriter:
        """Reopen a run's journal for appending (resume); a half-written last line is removed.

        Takes the run's lock first: :class:`~benchwork.errors.RunLockedError` (naming the
        holder's pid) while another process writes the run. Read the journal after this, so
        no other writer can add rows you did not see.
        """
        run_dir = self.path(run_id)
        lock = RunLock(run_dir).acquire()
        try:
            _read_manifest(run_dir / "manifest.json")
            repair_journal_tail(run_dir / "journal.jsonl")
            return RunWriter(run_dir, self._redactor, lock)
        except BaseException:
            lock.release()
            raise

    def writer_pid(self, run_id: str) -> dict[str, Any] | None:
        """``{"pid", "host", "since"}`` of the process writing the run now, or None."""
        return lock_holder(self.path(run_id))

    def rewrite(self, run_id: str, records: list[dict[str, Any]], **manifest_fields: Any) -> None:
        """Replace a finished run's journal with ``records`` (e.g. rescored) atomically, rebuild
        results.parquet, and merge ``manifest_fields`` into the manifest."""
        run_dir = self.path(run_id)
        records = [self._redactor.scrub_obj(r) for r in records]
        lines = "".join(dumps(r) + "\n" for r in records)
        with RunLock(run_dir):
            manifest = self.manifest(run_id)
            manifest.update(manifest_fields)
            try:
                atomic_write_bytes(run_dir / "journal.jsonl", lines.encode("utf-8"))
                write_parquet(
                    run_dir / "results.parquet",
                    records_to_frame(records),
                    _results_metadata(run_dir),
                )
                write_json(run_dir / "manifest.json", manifest, self._redactor)
            except OSError as exc:
                raise StoreError(
                    f"{run_dir}: cannot rewrite the run ({disk_problem(exc)}); its journal is "
                    "either the old one or the new one, never half of each"
                ) from exc

    def delete(self, run_id: str) -> None:
        """Remove a run folder and everything in it (refused while a process writes it)."""
        run_dir = self.path(run_id)
        with RunLock(run_dir):
            shutil.rmtree(run_dir)

    # -- reading ------------------------------------------------------------------------------

    def manifest(self, run_id: str) -> dict[str, Any]:
        """The run's manifest (a dict); :class:`StoreError` naming the file if it is damaged."""
        return _read_manifest(self.path(run_id) / "manifest.json")

    def targets(self, run_id: str) -> list[dict[str, Any]]:
        """The targets the run was planned with (from its manifest), for a resume.

        :class:`StoreError` naming the manifest when they are missing or not target objects.
        """
        path = self.path(run_id) / "manifest.json"
        targets = self.manifest(run_id).get("targets")
        if not isinstance(targets, list) or not targets:
            raise StoreError(
                f"{path}: no 'targets' list, so run {run_id!r} cannot be re-planned; restore "
                "the manifest from a backup, or start a new run"
            )
        for i, t in enumerate(targets):
            if not isinstance(t, dict) or not isinstance(t.get("model"), str):
                raise StoreError(
                    f"{path}: targets[{i}] is {dumps(t)[:60]}, not a target with a 'model' "
                    f"(imported runs cannot be resumed); run {run_id!r} cannot be re-planned"
                )
        return targets

    def suite(self, run_id: str) -> dict[str, Any]:
        """The suite dict saved at create, so the run can be re-planned."""
        path = self.path(run_id) / "suite.json"
        if not path.exists():
            raise StoreError(
                f"run {run_id!r} has no suite.json (imported?): it cannot be re-planned"
            )
        try:
            suite = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            reason = disk_problem(exc) if isinstance(exc, OSError) else f"not valid JSON: {exc}"
            raise StoreError(
                f"{path}: cannot read the run's suite ({reason}); restore it from the suite "
                f"file the run was started with, or start a new run"
            ) from exc
        if not isinstance(suite, dict):
            raise StoreError(
                f"{path}: the suite is a JSON {type(suite).__name__}, not an object; restore "
                "it from the suite file the run was started with"
            )
        return suite

    def records(self, run_id: str) -> list[dict[str, Any]]:
        """Journal records in order, the latest row per call (an errored call retried by a
        resume appears once, as retried); a torn last line is dropped with a warning."""
        return latest_records(read_journal(self.path(run_id) / "journal.jsonl"))

    def done_keys(self, run_id: str) -> set[tuple[str, str, int, bool]]:
        """``(case_id, target, repeat, warmup)`` of every journaled call (errors included)."""
        return {
            (
                str(r.get("case_id") or ""),
                str(r.get("target") or ""),
                r.get("repeat") or 0,
                bool(r.get("warmup")),
            )
            for r in self.records(run_id)
        }

    def frame(self, run_id: str) -> pl.DataFrame:
        """The results frame: results.parquet when it was built from the journal as it is now
        (same sha256), else rebuilt from the journal (the parquet is never trusted on its
        row count: a resume or retry may have changed rows, not added them)."""
        stored = self.stored_frame(run_id)
        if stored is not None:
            return stored
        journal = self.path(run_id) / "journal.jsonl"
        return records_to_frame(latest_records(read_journal(journal)))

    def stored_frame(self, run_id: str) -> pl.DataFrame | None:
        """results.parquet if it matches the journal byte for byte (by sha256), else None."""
        run_dir = self.path(run_id)
        parquet = run_dir / "results.parquet"
        stored = parquet_journal_hash(parquet) if parquet.exists() else None
        if stored is None or stored != journal_hash(run_dir / "journal.jsonl"):
            return None
        try:
            return pl.read_parquet(parquet)
        except Exception:  # damaged after all: the journal is the truth
            return None

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
