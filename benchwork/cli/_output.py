"""Output and options shared by the CLI's command groups: the summary table, run options."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from benchwork.analysis import leaderboard_text
from benchwork.cache import CACHE_MODES

__all__ = ["add_run_options", "exit_code", "print_failures", "print_summary"]


def add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--repeats", type=int, default=1, help="samples per case and target (default 1)")
    p.add_argument("--warmup", type=int, default=0, help="warm-up calls per target, not scored")
    p.add_argument("--cache", choices=CACHE_MODES, default="use", help="cache mode (default use)")
    p.add_argument(
        "--cache-dir", help="cache directory (default: BENCHWORK_CACHE_DIR or user cache)"
    )
    p.add_argument("--home", help="run store folder (default: BENCHWORK_HOME or ./benchwork-runs)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress line")


def print_summary(run: Any, as_json: bool, *, saved: bool = True) -> None:
    summary = run.summary()
    if as_json:
        print(
            json.dumps(
                {
                    "run_id": run.id,
                    "status": run.status,
                    "summary": summary.to_dicts(),
                    "failures": [vars(f) for f in run.failures()],
                },
                default=str,
                indent=2,
            )
        )
        return
    print(leaderboard_text(summary))
    if saved:
        print(f"\nresults: {run.path}  (load with benchwork.load_run({run.id!r}))")
    else:
        print("\nnot saved (--no-save); every call is in the cache, so a rerun costs nothing")


def print_failures(run: Any) -> None:
    """One line per target with failed calls (its dominant error and a hint), on stderr.

    Printed even with ``--quiet`` and ``--json``: it is the result, not progress.
    """
    for failure in run.failures():
        print(f"benchwork: {failure.line()}", file=sys.stderr)


def exit_code(run: Any) -> int:
    """0 when the run finished and every target answered at least once, else 1."""
    if run.status != "finished":
        return 1
    return 1 if any(f.all_failed for f in run.failures()) else 0
