"""Experiments: runs grouped under a name in the store, with a baseline, the best, notes.

An experiment is a small JSON file in ``<home>/experiments/<name>.json`` (written atomically),
so it survives restarts and travels with the run store. Its table has one row per run and
target: when, the score's mean with its interval, and whether it is the baseline or the best.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from benchwork.errors import BenchworkError

__all__ = ["Experiment", "experiments"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def _dir(home: str | Path | None) -> Path:
    from benchwork.store import default_home

    return (Path(home) if home else default_home()) / "experiments"


def experiments(home: str | Path | None = None) -> list[str]:
    """The names of the experiments in the store."""
    folder = _dir(home)
    return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []


class Experiment:
    """A named group of runs: ``add(run)``, ``baseline``, ``note(text)``, ``frame()``, ``best()``."""

    def __init__(self, name: str, home: str | Path | None = None) -> None:
        if not _NAME.match(name or ""):
            raise BenchworkError(f"experiment name {name!r}: use letters, digits, '.', '_', '-'")
        self.name, self.home = name, home
        self.path = _dir(home) / f"{name}.json"
        self._data: dict[str, Any] = {"name": name, "runs": [], "baseline": None, "notes": []}
        if self.path.exists():
            try:
                self._data = json.loads(self.path.read_text(encoding="utf-8"))
            except ValueError as e:
                raise BenchworkError(
                    f"{self.path}: not an experiment file ({e}); fix or delete it"
                ) from None

    # -- changes (each written at once) ----------------------------------------------------
    def add(self, run: Any, *, baseline: bool = False, note: str | None = None) -> Experiment:
        """Add a run (a ``Run`` or its id); the first one added is the baseline unless set."""
        run_id = run if isinstance(run, str) else run.id
        if run_id not in self._data["runs"]:
            self._data["runs"].append(run_id)
        if baseline or self._data["baseline"] is None:
            self._data["baseline"] = run_id
        if note:
            self.note(note, run_id=run_id, save=False)
        self._save()
        return self

    def set_baseline(self, run_id: str) -> None:
        if run_id not in self._data["runs"]:
            raise BenchworkError(f"run {run_id!r} is not in experiment {self.name!r}")
        self._data["baseline"] = run_id
        self._save()

    def note(self, text: str, *, run_id: str | None = None, save: bool = True) -> None:
        """A dated note (about one run, or the experiment)."""
        self._data["notes"].append(
            {"at": datetime.now(UTC).isoformat(), "run_id": run_id, "text": text}
        )
        if save:
            self._save()

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".exp-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(self._data, f, indent=2)
        os.replace(tmp, self.path)

    # -- reading ------------------------------------------------------------------------------
    @property
    def runs(self) -> list[str]:
        return list(self._data["runs"])

    @property
    def baseline(self) -> str | None:
        return self._data["baseline"]

    @property
    def notes(self) -> list[dict[str, Any]]:
        return list(self._data["notes"])

    def frame(self, score: str | None = None) -> pl.DataFrame:
        """One row per run and target, oldest first: ``started``, the score's mean [lo, hi],
        ``baseline`` and ``best`` (the highest mean across the experiment) flags."""
        from benchwork.analysis import leaderboard, pick_score
        from benchwork.runner import load_run

        rows = []
        for run_id in self.runs:
            run = load_run(run_id, self.home)
            column = pick_score(run.results, score)
            board = leaderboard(run)
            for r in board.iter_rows(named=True):
                rows.append(
                    {
                        "run_id": run_id,
                        "started": run.manifest.get("started_at"),
                        "target": r["target"],
                        "metric": column,
                        "mean": r.get(f"{column}_mean"),
                        "lo": r.get(f"{column}_lo"),
                        "hi": r.get(f"{column}_hi"),
                        "n": r.get(f"{column}_n"),
                    }
                )
        if not rows:
            raise BenchworkError(
                f"experiment {self.name!r} has no runs yet: add one with .add(run)"
            )
        frame = (
            pl.DataFrame(rows)
            .with_columns(pl.col("started").str.to_datetime(time_zone="UTC", strict=False))
            .sort("started")
        )
        top = frame["mean"].max()
        return frame.with_columns(
            (pl.col("run_id") == (self.baseline or "")).alias("baseline"),
            (pl.col("mean") == top).alias("best"),
        )

    def best(self, score: str | None = None) -> dict[str, Any]:
        """The run and target with the highest mean score (ties: the earliest)."""
        return self.frame(score).filter(pl.col("best")).row(0, named=True)

    def chart(self, score: str | None = None) -> Any:
        """Timeline: each run's mean per target with its interval; baseline and best marked."""
        import altair as alt

        data = self.frame(score)
        base = alt.Chart(data).encode(x=alt.X("started:T", title="run started"), color="target:N")
        return alt.layer(
            base.mark_rule().encode(y=alt.Y("lo:Q", title="mean score"), y2="hi:Q"),
            base.mark_line(point=True).encode(
                y="mean:Q", tooltip=["run_id", "target", "mean", "lo", "hi"]
            ),
            base.transform_filter("datum.baseline")
            .mark_point(shape="square", size=120, filled=False)
            .encode(y="mean:Q"),
            base.transform_filter("datum.best")
            .mark_point(shape="diamond", size=160)
            .encode(y="mean:Q"),
        ).properties(
            title=f"Experiment {self.name}: square = baseline, diamond = best (95% intervals)"
        )

    def __repr__(self) -> str:
        return f"Experiment({self.name!r}, {len(self.runs)} runs, baseline {self.baseline!r})"
