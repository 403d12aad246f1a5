"""``RunStore.runs()``: the table of runs in a workspace, tolerant of damaged folders.

A manifest that still says 'running' while no process holds the run's lock belongs to a
run whose process died (kill -9, power loss): it is listed as 'interrupted' (resume it).
"""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from benchwork.results import record_totals
from benchwork.store._io import latest_records, read_journal
from benchwork.store._lock import lock_holder

__all__ = ["RUNS_SCHEMA", "list_runs"]

RUNS_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "suite": pl.String(),
    "targets": pl.List(pl.String()),
    "started": pl.Datetime("us", "UTC"),
    "finished": pl.Datetime("us", "UTC"),
    "status": pl.String(),
    "calls": pl.Int64(),
    "errors": pl.Int64(),
    "cost_usd": pl.Float64(),
}


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        return None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _suite_name(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("name")
    return None if value is None else str(value)


def _target_names(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    out = []
    for t in value:
        if isinstance(t, dict):
            t = t.get("name") or t.get("model")
        if t is not None:
            out.append(str(t))
    return out


def _row(run_dir: Path) -> dict[str, Any]:
    """One listing row. Reads the manifest; counts the journal only if the manifest lacks totals."""
    row: dict[str, Any] = dict.fromkeys(RUNS_SCHEMA)
    row["run_id"], row["targets"] = run_dir.name, []
    try:
        m = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
        if not isinstance(m, dict):
            raise ValueError("manifest is not a JSON object")
    except (OSError, ValueError):
        row["status"] = "corrupt"
        return row
    row.update(
        suite=_suite_name(m.get("suite_name") or m.get("suite")),
        targets=_target_names(m.get("targets")),
        started=_when(m.get("started_at")),
        finished=_when(m.get("finished_at")),
        status=str(m.get("status") or "unknown"),
    )
    if row["status"] == "running" and lock_holder(run_dir) is None:
        row["status"] = "interrupted"  # no live writer: its process died mid-run
    if all(k in m for k in ("calls", "errors")):
        row.update(calls=m.get("calls"), errors=m.get("errors"), cost_usd=m.get("cost_usd"))
    else:  # still running or interrupted: count what the journal holds
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                recs = latest_records(read_journal(run_dir / "journal.jsonl"))
        except Exception:
            recs = []
        totals = record_totals(recs)
        row.update(calls=totals["calls"], errors=totals["errors"], cost_usd=totals["cost_usd"])
    return row


def list_runs(runs_dir: Path) -> pl.DataFrame:
    """Every run folder under ``runs_dir``, newest first (by start time, else folder time)."""
    rows, order = [], []
    if runs_dir.is_dir():
        for run_dir in runs_dir.iterdir():
            if not run_dir.is_dir() or run_dir.name.startswith("."):
                continue
            row = _row(run_dir)
            started = row["started"]
            stamp = started.timestamp() if started else run_dir.stat().st_mtime
            rows.append(row)
            order.append((stamp, run_dir.name))
    rows = [r for _, r in sorted(zip(order, rows, strict=True), key=lambda x: x[0], reverse=True)]
    return pl.DataFrame(rows, schema=RUNS_SCHEMA) if rows else pl.DataFrame(schema=RUNS_SCHEMA)
