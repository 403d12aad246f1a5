"""Experiments: runs grouped under a name in the store, with a baseline, the best, notes.

An experiment is a small JSON file in ``<home>/experiments/<name>.json`` (written atomically),
so it survives restarts and travels with the run store. Its table has one row per run and
target for one metric (a score, a speed figure or the cost per call): when, the figure with its
interval, which way is better, and whether it is the baseline or the best in that direction.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
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
    """A named group of runs: ``add(run)``, ``baseline``, ``note(text)``, and per metric
    (a score, ``latency``, ``ttft``, ``output_tps``, ``cost``) ``frame(m)``, ``best(m)``,
    ``chart(m)``."""

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

    def metrics(self) -> list[str]:
        """What ``frame``/``best``/``chart`` can track: the runs' scores, then speed and cost."""
        from benchwork.analysis import score_columns
        from benchwork.runner import load_run

        scores: list[str] = []
        for run_id in self.runs:
            for col in score_columns(load_run(run_id, self.home).results):
                if col.removeprefix("score_") not in scores:
                    scores.append(col.removeprefix("score_"))
        return [*scores, *_SPEED, "cost"]

    def frame(self, metric: str | None = None, *, score: str | None = None) -> pl.DataFrame:
        """One row per run and target, oldest first, for one *metric* (default: the first score).

        *metric* is a score (``"exact"`` or ``"score_exact"``: its mean, higher is better), a
        speed figure (``"latency"``, ``"ttft"``, ``"itl"``: p50 seconds, lower is better;
        ``"output_tps"``: p50 tok/s, higher is better; ``_p95`` after the name for the 95th
        percentile) or ``"cost"`` (USD per successful call, lower is better; null when a price
        is unknown, never 0). Columns: ``run_id``, ``started``, ``target``, ``metric`` (the
        leaderboard column), ``stat``, ``unit``, ``better`` (``"higher"``/``"lower"``),
        ``mean`` (the figure: a mean, or a p50/p95) with its interval ``lo``, ``hi`` (the
        leaderboard's; none for cost) and ``n``, ``vs_baseline`` (the figure minus the baseline
        run's: its only target's, or the same target's when it has several), ``baseline``, and ``best`` (the best figure across the
        experiment in the stated direction). ``score=`` is the old name of *metric*.
        """
        from benchwork.analysis import leaderboard
        from benchwork.runner import load_run

        if score is not None and metric is not None and score != metric:
            raise BenchworkError(f"give metric= or score=, not both ({metric!r}, {score!r})")
        wanted = metric if metric is not None else score
        rows = []
        spec: _Metric | None = None
        for run_id in self.runs:
            run = load_run(run_id, self.home)
            spec = _resolve(wanted, run.results, self.name)
            for r in leaderboard(run).iter_rows(named=True):
                rows.append(
                    {
                        "run_id": run_id,
                        "started": run.manifest.get("started_at"),
                        "target": r["target"],
                        "metric": spec.label,
                        "stat": spec.stat,
                        "unit": spec.unit,
                        "better": spec.better,
                        "mean": _number(r.get(spec.value)),
                        "lo": _number(r.get(spec.lo)) if spec.lo else None,
                        "hi": _number(r.get(spec.hi)) if spec.hi else None,
                        "n": spec.count(r),
                    }
                )
        if not rows or spec is None:
            raise BenchworkError(
                f"experiment {self.name!r} has no runs yet: add one with .add(run)"
            )
        frame = (
            pl.DataFrame(rows, schema=_SCHEMA)
            .with_columns(pl.col("started").str.to_datetime(time_zone="UTC", strict=False))
            .sort("started", maintain_order=True)
        )
        top = frame["mean"].max() if spec.better == "higher" else frame["mean"].min()
        base = frame.filter(pl.col("run_id") == (self.baseline or "")).select(
            "target", pl.col("mean").alias("__base")
        )
        if base.height == 1:  # one baseline figure: every row is compared with it
            joined = frame.with_columns(pl.lit(base["__base"][0], pl.Float64).alias("__base"))
        else:  # several targets in the baseline run: each row with its own target's
            joined = frame.join(base, on="target", how="left", maintain_order="left")
        return (
            joined.with_columns((pl.col("mean") - pl.col("__base")).alias("vs_baseline"))
            .drop("__base")
            .with_columns(
                (pl.col("run_id") == (self.baseline or "")).alias("baseline"),
                (pl.col("mean") == top).fill_null(False).alias("best"),
            )
        )

    def best(self, metric: str | None = None, *, score: str | None = None) -> dict[str, Any]:
        """The run and target with the best figure for *metric* (see ``frame``; ties: the
        earliest): the highest score or tok/s, the lowest latency, TTFT or cost."""
        frame = self.frame(metric, score=score)
        best = frame.filter(pl.col("best"))
        if best.is_empty():
            raise BenchworkError(
                f"experiment {self.name!r}: no run has a value for {frame['metric'][0]!r} "
                "(e.g. unknown prices for cost, or no successful call), so there is no best"
            )
        return best.row(0, named=True)

    def chart(self, metric: str | None = None, *, score: str | None = None) -> Any:
        """Timeline: each run's figure per target with its interval; baseline and best marked."""
        import altair as alt

        data = self.frame(metric, score=score)
        first = data.row(0, named=True)
        label = first["metric"].removeprefix("score_")
        title = f"{label} ({first['stat']}, {first['unit']})"
        base = alt.Chart(data).encode(x=alt.X("started:T", title="run started"), color="target:N")
        return alt.layer(
            base.mark_rule().encode(y=alt.Y("lo:Q", title=title), y2="hi:Q"),
            base.mark_line(point=True).encode(
                y="mean:Q", tooltip=["run_id", "target", "mean", "lo", "hi", "vs_baseline"]
            ),
            base.transform_filter("datum.baseline")
            .mark_point(shape="square", size=120, filled=False)
            .encode(y="mean:Q"),
            base.transform_filter("datum.best")
            .mark_point(shape="diamond", size=160)
            .encode(y="mean:Q"),
        ).properties(
            title=f"Experiment {self.name}: {label}, {first['better']} is better; "
            "square = baseline, diamond = best (95% intervals)"
        )

    def __repr__(self) -> str:
        return f"Experiment({self.name!r}, {len(self.runs)} runs, baseline {self.baseline!r})"


# -- metrics ----------------------------------------------------------------------------------

#: speed metric -> (leaderboard stem, unit suffix, direction, unit)
_SPEED = {
    "latency": ("latency", "_s", "lower", "s"),
    "ttft": ("ttft", "_s", "lower", "s"),
    "itl": ("itl_mean", "_s", "lower", "s"),
    "output_tps": ("output_tps", "", "higher", "tok/s"),
}
_ALIASES = {"latency_s": "latency", "ttft_s": "ttft", "itl_mean": "itl", "itl_mean_s": "itl",
            "itl_s": "itl", "tps": "output_tps", "tok/s": "output_tps"}  # fmt: skip
_QUANTILE = re.compile(r"^(?P<name>.+?)(?:_(?P<q>p50|p95))?(?:_s)?$")

_SCHEMA = {
    "run_id": pl.String,
    "started": pl.String,
    "target": pl.String,
    "metric": pl.String,
    "stat": pl.String,
    "unit": pl.String,
    "better": pl.String,
    "mean": pl.Float64,
    "lo": pl.Float64,
    "hi": pl.Float64,
    "n": pl.Int64,
}


@dataclass(frozen=True)
class _Metric:
    """Where a metric's figure and interval are in a leaderboard row, and which way is better."""

    label: str
    value: str
    lo: str | None
    hi: str | None
    n: str | None
    stat: str
    unit: str
    better: str

    def count(self, row: dict[str, Any]) -> int | None:
        if self.n is not None:
            return row.get(self.n)
        return int(row["calls"]) - int(row["errors"])  # cost: the successful calls


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _resolve(metric: str | None, results: pl.DataFrame, name: str) -> _Metric:
    """The leaderboard columns for *metric* in a run with these *results*."""
    from benchwork.analysis import pick_score, score_columns

    key = (metric or "").strip().lower()
    if key in ("cost", "cost_usd", "cost_per_call", "cost_per_call_usd"):
        return _Metric("cost_per_call_usd", "cost_per_call_usd", None, None, None,
                       "mean per call", "USD", "lower")  # fmt: skip
    match = _QUANTILE.match(key) if metric is not None else None
    if match is not None:
        stem_name = _ALIASES.get(match["name"], match["name"])
        if stem_name in _SPEED:
            stem, u, better, unit = _SPEED[stem_name]
            q = match["q"] or "p50"
            col = f"{stem}_{q}{u}"
            return _Metric(col, col, f"{stem}_{q}_lo{u}", f"{stem}_{q}_hi{u}", "speed_n",
                           q, unit, better)  # fmt: skip
    try:
        column = pick_score(results, metric)
    except BenchworkError as e:
        scores = [c.removeprefix("score_") for c in score_columns(results)]
        raise BenchworkError(
            f"experiment {name!r}: no metric {metric!r} ({e}); track one of the scores "
            f"{', '.join(scores) or '(none)'}, or {', '.join(_SPEED)}, cost "
            "(add _p95 to a speed metric for its 95th percentile)"
        ) from None
    return _Metric(column, f"{column}_mean", f"{column}_lo", f"{column}_hi", f"{column}_n",
                   "mean", "score", "higher")  # fmt: skip
