"""CLI ``experiments``: list the experiments, or show one (its runs, baseline, best, notes)."""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add ``experiments [NAME]`` to the ``benchwork`` parser's subcommands."""
    p = sub.add_parser("experiments", help="list experiments, or show one with baseline and best")
    p.add_argument("name", nargs="?", help="an experiment to show")
    p.add_argument("--score", help="score to rank by (default: the first)")
    p.add_argument("--home", help="run store folder (default: BENCHWORK_HOME or ./benchwork-runs)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=_cmd)


def _cmd(args: argparse.Namespace) -> int:
    from benchwork.tuning import Experiment, experiments

    if not args.name:
        names = experiments(args.home)
        print(json.dumps(names) if args.json else ("\n".join(names) or "no experiments yet"))
        return 0
    exp = Experiment(args.name, args.home)
    frame = exp.frame(args.score)
    if args.json:
        print(json.dumps({"name": exp.name, "baseline": exp.baseline, "rows": frame.to_dicts(),
                          "notes": exp.notes}, default=str))  # fmt: skip
        return 0
    print(f"experiment {exp.name}: {len(exp.runs)} runs, baseline {exp.baseline}")
    for r in frame.iter_rows(named=True):
        mark = (" baseline" if r["baseline"] else "") + (" best" if r["best"] else "")
        mean = (
            "—"
            if r["mean"] is None
            else f"{r['mean'] * 100:.1f}% [{r['lo'] * 100:.1f}, {r['hi'] * 100:.1f}]"
        )
        print(f"  {r['started']:%Y-%m-%d %H:%M}  {r['run_id']}  {r['target']:<20} {mean}{mark}")
    for n in exp.notes:
        print(
            f"  note {n['at'][:16]}{' (' + n['run_id'] + ')' if n['run_id'] else ''}: {n['text']}"
        )
    return 0
