"""A finished (or partial) run: its manifest, its rows as a Polars frame, and a summary."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import polars as pl

from benchwork.schema import CallRecord, records_to_frame
from benchwork.summary import summarize

__all__ = ["Run"]


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
            self.__dict__["results"] = frame

    @property
    def status(self) -> str:
        return str(self.manifest.get("status", "unknown"))

    @cached_property
    def results(self) -> pl.DataFrame:
        """One row per call (warm-ups included, flagged); columns as in ``RESULT_SCHEMA``."""
        return records_to_frame(self.records)

    def summary(self, *, speed: Literal["live", "all"] = "live") -> pl.DataFrame:
        """Per-target leaderboard; speed figures from live calls unless ``speed="all"``."""
        return summarize(self.results, speed=speed)

    def rescore(self, scorers: Any, **kw: Any) -> Run:
        """Apply new or changed scorers to this run's calls WITHOUT calling its models again.

        LLM judges answer from the run's cache when they can. The scores are written into the
        run's folder; returns the reloaded Run. Keywords: ``cache_dir``, ``cache`` (mode),
        ``concurrency``. Async twin: ``benchwork.rescore.arescore``.
        """
        from benchwork.rescore import rescore

        return rescore(self, scorers, **kw)

    @property
    def counts(self) -> dict[str, int]:
        measured = [r for r in self.records if not r.warmup]
        return {
            "calls": len(measured),
            "errors": sum(1 for r in measured if r.status != "ok"),
            "cached": sum(1 for r in measured if r.cached),
            "warmup": len(self.records) - len(measured),
        }

    def __repr__(self) -> str:
        c = self.counts
        return (
            f"Run({self.id!r}, {self.status}, {c['calls']} calls, {c['errors']} errors, "
            f"{c['cached']} cached)"
        )
