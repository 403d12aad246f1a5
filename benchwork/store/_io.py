"""File-level helpers for the run store: atomic writes, journal reading, frame <-> records."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import warnings
from datetime import date, datetime
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from benchwork._util.redact import Redactor
from benchwork.errors import StoreError
from benchwork.results import RESULT_SCHEMA, fold_scores, is_score_value_column, record_problem

__all__ = [
    "JOURNAL_HASH_KEY",
    "atomic_write_bytes",
    "disk_problem",
    "dumps",
    "journal_hash",
    "latest_records",
    "parquet_journal_hash",
    "read_journal",
    "repair_journal_tail",
    "rows_to_records",
    "typed_frame",
    "write_json",
    "write_parquet",
]


#: parquet metadata key: sha256 of the journal file the results were built from
JOURNAL_HASH_KEY = b"benchwork.journal_sha256"
#: fields every journal line has (``CallRecord`` needs them; they may be null)
_JOURNAL_KEYS = ("run_id", "case_id", "target", "model")


def disk_problem(exc: OSError) -> str:
    """A short reason and what to do for a failed write (full disk, read-only, ...)."""
    import errno

    reason = exc.strerror or str(exc) or type(exc).__name__
    if exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        return f"{reason}: free disk space (or raise the quota/file size limit)"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{reason}: make the folder writable, or use another --home"
    if exc.errno in (errno.ENOTDIR, errno.EEXIST, errno.EISDIR):
        return f"{reason}: a file is in the way of a folder (or the reverse); move it"
    return reason


def journal_hash(path: Path) -> str:
    """sha256 of the journal file's bytes ('' when there is none): what results were built from."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise StoreError(f"{path}: cannot read the journal ({disk_problem(exc)})") from exc
    return digest.hexdigest()


def _default(obj: Any) -> Any:
    if isinstance(obj, datetime | date):
        return obj.isoformat()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, set | frozenset):
        return sorted(obj, key=str)
    if callable(getattr(obj, "to_dict", None)):  # e.g. a judge Target inside a scorer spec
        return obj.to_dict()
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


def dumps(obj: Any, *, indent: int | None = None) -> str:
    """JSON with UTF-8 kept and datetimes as ISO strings (orjson for journal lines: hot path)."""
    if indent is None:
        try:
            return orjson.dumps(obj, default=_default).decode()
        except (orjson.JSONEncodeError, TypeError):  # e.g. lone surrogates: the stdlib copes
            pass
    seps = (",", ":") if indent is None else (",", ": ")
    return json.dumps(obj, ensure_ascii=False, default=_default, indent=indent, separators=seps)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to a temp file beside ``path``, fsync, then ``os.replace``: all or nothing."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):  # a full disk must not also leave a half temp file
            tmp.unlink()
        raise


def write_json(path: Path, obj: Any, redactor: Redactor) -> None:
    """Scrub, then write pretty JSON atomically."""
    atomic_write_bytes(path, (dumps(redactor.scrub_obj(obj), indent=2) + "\n").encode("utf-8"))


def write_parquet(
    path: Path, frame: pl.DataFrame, metadata: dict[bytes, bytes] | None = None
) -> None:
    """Write a frame to parquet atomically (temp + fsync + replace), with optional metadata."""
    import pyarrow.parquet as pq

    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    table = frame.to_arrow()
    if metadata:
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **metadata})
    try:
        pq.write_table(table, tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def parquet_journal_hash(path: Path) -> str | None:
    """The journal hash stored in a results.parquet, or None (missing, unreadable, older)."""
    import pyarrow.parquet as pq

    try:
        meta = pq.read_schema(path).metadata or {}
    except Exception:  # missing, truncated, not parquet: the journal is the truth
        return None
    value = meta.get(JOURNAL_HASH_KEY)
    return value.decode("ascii", "replace") if value else None


def read_journal(path: Path) -> list[dict[str, Any]]:
    """Records from a journal; a bad LAST line is dropped with a warning, earlier ones raise.

    Each line is checked: a JSON object whose known fields have their schema types. A line
    with wrong types is a :class:`StoreError` naming the file, line and field (it would break
    the results frame, or a resume, much later).
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise StoreError(f"{path}: cannot read the journal ({disk_problem(exc)})") from exc
    lines = data.split(b"\n")
    last = len(lines) - 1
    while last >= 0 and not lines[last].strip():
        last -= 1
    records: list[dict[str, Any]] = []
    for i, raw in enumerate(lines[: last + 1]):
        if not raw.strip():
            continue
        try:
            rec = json.loads(raw)
            if not isinstance(rec, dict):
                raise ValueError(f"expected a JSON object, got {type(rec).__name__}")
        except ValueError as exc:
            where = f"{path}:{i + 1}"
            if i == last:
                warnings.warn(
                    f"{where}: dropping an incomplete last journal line (the run was probably "
                    f"interrupted while writing it): {exc}",
                    RuntimeWarning,
                    stacklevel=3,
                )
                break
            raise StoreError(
                f"{where}: journal line is not valid JSON ({exc}); the journal is corrupt. "
                "Fix or delete that line to read the run."
            ) from exc
        missing = [k for k in _JOURNAL_KEYS if k not in rec]
        problem = f"field {missing[0]!r} is missing" if missing else record_problem(rec)
        if problem:
            raise StoreError(
                f"{path}:{i + 1}: journal line has a wrong value ({problem}). Fix or delete "
                "that line to read or resume the run (a deleted call is made again on resume)."
            )
        records.append(rec)
    return records


def latest_records(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per call: the LAST journaled row for each (case_id, target, repeat, warmup).

    The journal is append-only history: ``resume(..., retry_errors=True)`` appends a new row
    for a call that failed before, and that newer row is the call's result. Rows without a
    case id (foreign imports) are all kept. Order: the kept rows in journal order.
    """
    last: dict[tuple[Any, ...], int] = {}
    for i, r in enumerate(records):
        case_id = r.get("case_id")
        ident = (case_id, r.get("target"), r.get("repeat") or 0, bool(r.get("warmup")))
        last[ident if case_id is not None else (i,)] = i
    if len(last) == len(records):
        return records
    return [records[i] for i in sorted(last.values())]


def repair_journal_tail(path: Path) -> None:
    """Cut a bad last line (crash mid-write) so appends after a resume stay parseable."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StoreError(f"{path}: cannot read the journal ({disk_problem(exc)})") from exc
    body = data.rstrip(b"\n")
    cut = body.rfind(b"\n") + 1  # offset where the last line starts
    line = body[cut:]
    if not line.strip():
        return
    try:
        ok = data.endswith(b"\n") and isinstance(json.loads(line), dict)
    except ValueError:
        ok = False
    if ok:
        return
    lineno = body.count(b"\n", 0, cut) + 1
    warnings.warn(
        f"{path}:{lineno}: removing an incomplete last journal line "
        "before resuming (the run was interrupted while writing it)",
        RuntimeWarning,
        stacklevel=3,
    )
    try:
        with open(path, "rb+") as f:
            f.truncate(cut)
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:
        raise StoreError(
            f"{path}: cannot remove its incomplete last line ({disk_problem(exc)})"
        ) from exc


def typed_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Cast a frame read from CSV/JSON back to RESULT_SCHEMA dtypes (score columns to Float64)."""
    exprs = []
    for name, dtype in frame.schema.items():
        target = RESULT_SCHEMA.get(name)
        if target is None:
            explanation = name.startswith("score_") and not is_score_value_column(name)
            explanation = explanation and name.endswith("_explanation")
            target = pl.String() if explanation else pl.Float64()
            if not name.startswith("score_"):
                continue
        col = pl.col(name)
        if dtype == pl.String() and target == pl.Boolean():
            col = (
                pl.when(col.str.to_lowercase() == "true")
                .then(True)
                .when(col.str.to_lowercase() == "false")
                .then(False)
            )
        elif dtype == pl.String() and isinstance(target, pl.Datetime):
            col = col.str.to_datetime(time_zone="UTC", time_unit="us", strict=False)
        elif isinstance(dtype, pl.Datetime) and isinstance(target, pl.Datetime):
            col = (
                col.dt.convert_time_zone("UTC")
                if dtype.time_zone
                else col.dt.replace_time_zone("UTC")
            )
        exprs.append(col.cast(target, strict=False).alias(name))
    return frame.with_columns(exprs) if exprs else frame


def rows_to_records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """Result rows back to journal records: score columns folded by ``results.fold_scores``."""
    frame = typed_frame(frame)
    records = []
    for row in frame.iter_rows(named=True):
        rec: dict[str, Any] = {c: row.get(c) for c in RESULT_SCHEMA}
        if isinstance(rec.get("started_at"), datetime):
            rec["started_at"] = rec["started_at"].isoformat()
        rec["scores"] = fold_scores(row)
        records.append(rec)
    return records
