"""A finished (or partial) run: its manifest, its rows as a Polars frame, and a summary."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import polars as pl

from benchwork._util.sync import run_blocking
from benchwork.analysis import summarize
from benchwork.results import CallRecord, record_totals, records_to_frame
from benchwork.runner._diagnose import TargetFailure, diagnose
from benchwork.runner._rescore import score_run
from benchwork.scoring import ScorerSpec
from benchwork.store import RunStore

__all__ = ["Run", "load_run", "runs"]


class Run:
    """Results of one run: ``results`` (one row per call), ``summary()``, ``manifest``."""

    def __init__(
        self,
        run_id: str,
        manifest: dict[str, Any],
        records: list[CallRecord],
        path: Path | None = None,
        *,
        frame: pl.DataFrame | None = None,
    ) -> None:
        self.id = run_id
        self.manifest = manifest
        self.records = records
        self.path = path
        if frame is not None:  # ``records`` as a frame, already built (by the runner)
            self._results = frame

    @property
    def status(self) -> str:
        return str(self.manifest.get("status", "unknown"))

    _results: pl.DataFrame | None = None

    @property
    def results(self) -> pl.DataFrame:
        """One row per call (warm-ups included, flagged); columns as in ``RESULT_SCHEMA``.

        Built once from ``records`` (or handed over by the runner) and kept.
        """
        if self._results is None:
            self._results = records_to_frame(self.records)
        return self._results

    def summary(self, *, speed: Literal["live", "all"] = "live") -> pl.DataFrame:
        """Per-target leaderboard; speed figures from live calls unless ``speed="all"``."""
        return summarize(self.results, speed=speed)

    async def rescore(
        self,
        scorers: Sequence[ScorerSpec],
        *,
        cache_dir: str | Path | None = None,
        cache: str = "use",
        concurrency: int = 8,
    ) -> Run:
        """Apply new or changed scorers to this run's calls WITHOUT calling its models again.

        LLM judges answer from the run's cache when they can. The scores are written into the
        run's folder; returns the reloaded Run. Blocking twin: ``rescore_sync``.
        """
        home = await score_run(
            self, scorers, cache_dir=cache_dir, cache=cache, concurrency=concurrency
        )
        return load_run(self.id, home)

    def rescore_sync(
        self,
        scorers: Sequence[ScorerSpec],
        *,
        cache_dir: str | Path | None = None,
        cache: str = "use",
        concurrency: int = 8,
    ) -> Run:
        """Blocking ``rescore`` (scripts, or inside a running event loop such as a notebook)."""
        return run_blocking(
            lambda: self.rescore(scorers, cache_dir=cache_dir, cache=cache, concurrency=concurrency)
        )

    @property
    def counts(self) -> dict[str, int]:
        """calls, errors and cached (warm-ups excluded), and the number of warm-up calls."""
        totals = record_totals(self.records)
        return {
            "calls": totals["calls"],
            "errors": totals["errors"],
            "cached": totals["cached"],
            "warmup": sum(1 for r in self.records if r.warmup),
        }

    def failures(self) -> list[TargetFailure]:
        """Per target with failed calls: how many, the dominant error, and a hint at the cause."""
        return diagnose(self.records)

    def __repr__(self) -> str:
        c = self.counts
        return (
            f"Run({self.id!r}, {self.status}, {c['calls']} calls, {c['errors']} errors, "
            f"{c['cached']} cached)"
        )


def runs(home: str | Path | None = None) -> pl.DataFrame:
    """All runs in the store, newest first (id, suite, targets, started, status, calls, ...)."""
    return RunStore(home).runs()


def load_run(run_id: str, home: str | Path | None = None) -> Run:
    """A stored run as a Run object; ``results`` is results.parquet when it matches the
    journal byte for byte, else rebuilt from the journal (the two always agree)."""
    store = RunStore(home)
    manifest = store.manifest(run_id)
    records = [CallRecord.from_dict(r) for r in store.records(run_id)]
    path = store.home / "runs" / run_id
    return Run(run_id, manifest, records, path, frame=store.stored_frame(run_id))
