"""CLI ``schedule``: recurring suite runs, each followed by its report (crontab or systemd)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add ``schedule add|list|remove|run`` to the ``benchwork`` parser's subcommands."""
    p = sub.add_parser("schedule", help="recurring runs with a report after each (crontab)")
    verbs = p.add_subparsers(dest="verb", required=True)
    add = verbs.add_parser("add", help="add (or replace) a schedule and install its crontab line")
    add.add_argument("name")
    add.add_argument("--suite", required=True, help="suite file")
    add.add_argument("--targets", required=True, help="targets file (YAML/JSON)")
    add.add_argument("--every", required=True, help="30m, 6h, 1d, 1w, ...")
    add.add_argument("--report", help="report template to render after each run (e.g. leaderboard)")
    for q in (add, verbs.add_parser("list", help="list schedules"),
              verbs.add_parser("remove", help="remove a schedule and its crontab line"),
              verbs.add_parser("run", help="what the timer calls: run the suite, render the report")):  # fmt: skip
        if q is not add and q.prog.split()[-1] in ("remove", "run"):
            q.add_argument("name")
        q.add_argument(
            "--home", help="run store folder (default: BENCHWORK_HOME or ./benchwork-runs)"
        )
        q.add_argument("--crontab", help="write this crontab file instead of the user's crontab")
        q.set_defaults(handler=_cmd)


def _cmd(args: argparse.Namespace) -> int:
    from benchwork.reports import (
        Schedule,
        describe,
        load_schedules,
        remove_schedule,
        save_schedule,
    )

    crontab = Path(args.crontab) if args.crontab else None
    if args.verb == "add":
        s = Schedule(
            name=args.name,
            suite=str(Path(args.suite).resolve()),
            targets=str(Path(args.targets).resolve()),
            every=args.every,
            report=args.report,
            home=str(Path(args.home).resolve()) if args.home else None,
            workdir=str(Path.cwd()),
        )
        print(save_schedule(s, crontab=crontab))
        return 0
    if args.verb == "list":
        for s in load_schedules(args.home).values():
            d = describe(s)
            print(f"{s.name}: every {s.every} ({d['cron']}) · suite {s.suite} · targets {s.targets}"
                  + (f" · report {s.report}" if s.report else ""))  # fmt: skip
        return 0
    if args.verb == "remove":
        remove_schedule(args.name, args.home, crontab=crontab)
        print(f"removed schedule {args.name!r}")
        return 0
    return _run(args.name, args.home)


def _run(name: str, home: str | None) -> int:
    from benchwork.errors import BenchworkError
    from benchwork.reports import load_schedules, report
    from benchwork.runner import run_sync
    from benchwork.target import load_targets

    schedules = load_schedules(home)
    if name not in schedules:
        raise BenchworkError(f"no schedule {name!r}")
    s = schedules[name]
    run = run_sync(s.suite, load_targets(s.targets), home=s.home, progress=False)
    print(f"run {run.id}: {run.status}")
    if s.report:
        out = Path(s.workdir) / "reports" / f"{s.name}-{run.id}.ipynb"
        report(s.report, out, html=True, run_ids=[run.id], home=s.home or "")
        print(f"report {out.with_suffix('.html')}")
    return 0 if run.status == "finished" else 1
