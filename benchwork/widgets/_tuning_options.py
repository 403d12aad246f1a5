"""The options of a tuning started from a ``TuningView``: which the widget edits, their checks.

``TuningView.tuner`` takes ``tune_prompt``'s options; the widget edits the mode and the key
knobs (``KNOBS``), so they are checked here, when the view is made and again at each start,
with messages that say which option is wrong and what it takes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, TypedDict

from benchwork.errors import BenchworkError

__all__ = [
    "EVOLVE_ONLY",
    "KNOBS",
    "KNOB_DEFAULTS",
    "TuneOptions",
    "check_fixed",
    "check_knobs",
    "meta_failures",
]

#: the options the widget edits (``tune_options``); the rest stay as given to ``tuner``
KNOBS = ("mode", "k", "population", "generations", "budget_calls")
#: options that ``tune_prompt`` accepts in evolve mode only
EVOLVE_ONLY = ("population", "generations", "patience", "budget_calls", "budget_usd")
#: the knobs' values when none is given (``tune_prompt``'s own defaults)
KNOB_DEFAULTS: dict[str, Any] = {
    "mode": "quick", "k": 4, "population": 4, "generations": 5, "budget_calls": None,
}  # fmt: skip


class TuneOptions(TypedDict, total=False):
    """``tune_prompt``'s options that ``TuningView.tuner`` passes on (see its docstring)."""

    mode: Literal["quick", "evolve"]
    k: int
    population: int | None
    generations: int | None
    budget_calls: int | None
    budget_usd: float | None
    patience: int | None
    show_failures: int
    dev: float | list[str]
    seed: int
    alpha: float
    cache_dir: str | Path | None
    home: str | Path | None


def meta_failures(result: Any) -> tuple[int, int, str]:
    """The meta-model's failed calls in a finished tuning, its calls, and the first error."""
    runs = result.runs.get("rewrites") or result.runs.get("meta") or []
    failed = calls = 0
    first = ""
    for run in runs if isinstance(runs, list) else [runs]:
        frame = getattr(run, "results", None)
        if frame is None or "error_type" not in frame.columns:
            continue
        calls += frame.height
        errors = frame.filter(frame["error_type"].is_not_null())
        failed += errors.height
        if errors.height and not first:
            row = errors.row(0, named=True)
            first = f"{row['error_type']}: {row.get('error_message') or ''}".strip()
    return failed, calls, first


def _whole(value: Any, name: str, where: str, *, none_ok: bool = False) -> None:
    if value is None and none_ok:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        extra = " or None (no limit)" if none_ok else ""
        raise BenchworkError(f"{where}: {name} must be a whole number >= 1{extra}, got {value!r}")


def check_knobs(knobs: dict[str, Any], where: str) -> None:
    """The widget's knobs: a known mode, whole numbers >= 1 (``budget_calls`` may be None)."""
    unknown = sorted(set(knobs) - set(KNOBS))
    if unknown:
        raise BenchworkError(f"{where}: unknown knob(s) {unknown}; the knobs are {list(KNOBS)}")
    if knobs.get("mode") not in ("quick", "evolve"):
        raise BenchworkError(
            f"{where}: mode must be 'quick' or 'evolve', got {knobs.get('mode')!r}"
        )
    for key in ("k", "population", "generations"):
        _whole(knobs.get(key), key, where)
    _whole(knobs.get("budget_calls"), "budget_calls", where, none_ok=True)


def check_fixed(opts: dict[str, Any], target: Any, meta: Any) -> None:
    """The options the widget does not edit, checked as ``tune_prompt`` would at its start."""
    from benchwork.tuning import check_budget_usd

    where = "TuningView.tuner"
    _whole(opts.get("patience"), "patience", where, none_ok=True)
    failures = opts.get("show_failures", 3)
    if isinstance(failures, bool) or not isinstance(failures, int) or failures < 0:
        raise BenchworkError(
            f"{where}: show_failures must be a whole number >= 0, got {failures!r}"
        )
    alpha = opts.get("alpha", 0.05)
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha < 1:
        raise BenchworkError(f"{where}: alpha must be in (0, 1), got {alpha!r}")
    usd = opts.get("budget_usd")
    if isinstance(usd, bool) or not isinstance(usd, int | float | None):
        raise BenchworkError(f"{where}: budget_usd must be > 0, got {usd!r}")
    try:
        check_budget_usd(usd, target, meta)
    except BenchworkError as exc:
        raise BenchworkError(f"{where}: {exc}") from None
