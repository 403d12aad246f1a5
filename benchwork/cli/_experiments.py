"""CLI ``experiments``: list the experiments, or show one (its runs, baseline, best, notes)
for one metric: a score (the default: the first), or latency, ttft, output_tps, cost."""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add ``experiments [NAME]`` to the ``benchwork`` parser's subcommands."""
    p = sub.add_parser("experiments", help="list experiments, or show one with baseline and best")
    p.add_argument("name", nargs="?", help="an experiment to show")
    p.add_argument(
        "--metric",
        "--score",
        dest="metric",
        help="what to track: a score name (default: the first score; higher is better), "
        "latency, ttft, itl (p50 seconds; add _p95 for the 95th percentile), output_tps "
        "(p50 tok/s) or cost (USD per call); lower is better for latency, ttft, itl and cost",
    )
    p.add_argument("--home", help="run store folder (default: BENCHWORK_HOME or ./benchwork-runs)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=_cmd)


def _figure(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "s":
        return f"{value * 1000:.0f} ms"
    if unit == "tok/s":
        return f"{value:.1f} tok/s"
    if unit == "USD":
        return f"${value:.6f}"
    return f"{value * 100:.1f}%"


def _cmd(args: argparse.Namespace) -> int:
    from benchwork.tuning import Experiment, experiments

    if not args.name:
        names = experiments(args.home)
        print(json.dumps(names) if args.json else ("\n".join(names) or "no experiments yet"))
        return 0
    exp = Experiment(args.name, args.home)
    frame = exp.frame(args.metric)
    first = frame.row(0, named=True)
    if args.json:
        print(json.dumps({"name": exp.name, "baseline": exp.baseline, "metric": first["metric"],
                          "better": first["better"], "rows": frame.to_dicts(),
                          "notes": exp.notes}, default=str))  # fmt: skip
        return 0
    print(f"experiment {exp.name}: {len(exp.runs)} runs, baseline {exp.baseline}")
    print(f"  {first['metric']} ({first['stat']}, {first['unit']}): {first['better']} is better")
    for r in frame.iter_rows(named=True):
        mark = (" baseline" if r["baseline"] else "") + (" best" if r["best"] else "")
        shown = _figure(r["mean"], r["unit"])
        if r["mean"] is not None and r["lo"] is not None and r["hi"] is not None:
            shown += f" [{_figure(r['lo'], r['unit'])}, {_figure(r['hi'], r['unit'])}]"
        print(f"  {r['started']:%Y-%m-%d %H:%M}  {r['run_id']}  {r['target']:<20} {shown}{mark}")
    for n in exp.notes:
        print(
            f"  note {n['at'][:16]}{' (' + n['run_id'] + ')' if n['run_id'] else ''}: {n['text']}"
        )
    return 0
