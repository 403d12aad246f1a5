"""CLI commands over the run store and the cache: runs, show, resume, export, import, cache."""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add the store and cache subcommands to the ``benchwork`` parser."""
    home = {"help": "run store folder (default: BENCHWORK_HOME or ./benchwork-runs)"}
    p = sub.add_parser("runs", help="list runs, newest first")
    p.add_argument("--home", **home)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_runs)

    p = sub.add_parser("show", help="show one run's manifest and leaderboard")
    p.add_argument("run_id")
    p.add_argument("--home", **home)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_show)

    p = sub.add_parser("resume", help="finish a run: make only the calls missing from its journal")
    p.add_argument("run_id")
    p.add_argument("--home", **home)
    p.add_argument("--cache-dir")
    p.add_argument("--retry-errors", action="store_true", help="also redo calls that failed")
    p.add_argument("--json", action="store_true")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(handler=_resume)

    p = sub.add_parser("export", help="export a run's results (.csv, .json or .parquet)")
    p.add_argument("run_id")
    p.add_argument("path")
    p.add_argument("--home", **home)
    p.set_defaults(handler=_export)

    p = sub.add_parser("import", help="import results exported by 'benchwork export'")
    p.add_argument("path")
    p.add_argument("--home", **home)
    p.set_defaults(handler=_import)

    cache = sub.add_parser("cache", help="inspect or manage the call cache")
    csub = cache.add_subparsers(dest="cache_command", required=True, parser_class=type(cache))
    for name, helptext in (("stats", "entries, size, age"), ("clear", "remove every entry")):
        c = csub.add_parser(name, help=helptext)
        c.add_argument("--cache-dir")
        c.set_defaults(handler=_cache)
    c = csub.add_parser("prune", help="remove entries older than DAYS")
    c.add_argument("--older-than", type=float, required=True, metavar="DAYS")
    c.add_argument("--cache-dir")
    c.set_defaults(handler=_cache)
    c = csub.add_parser("why", help="explain why a run's call missed the cache")
    c.add_argument("run_id")
    c.add_argument("--case", required=True, help="case id")
    c.add_argument("--target", help="target name (default: the run's only target)")
    c.add_argument("--repeat", type=int, default=0)
    c.add_argument("--home", **home)
    c.add_argument("--cache-dir")
    c.set_defaults(handler=_cache_why)


def _runs(args: argparse.Namespace) -> int:
    from benchwork.runner import runs

    frame = runs(args.home)
    if args.json:
        print(json.dumps(frame.to_dicts(), default=str, indent=2))
    elif frame.is_empty():
        print("no runs yet")
    else:
        for r in frame.iter_rows(named=True):
            cost = "—" if r["cost_usd"] is None else f"${r['cost_usd']:.6f}"
            print(
                f"{r['run_id']}  {r['status']:<9} {r['suite']}  {', '.join(r['targets'] or [])}"
                f"  {r['calls']} calls, {r['errors']} errors, {cost}"
            )
    return 0


def _show(args: argparse.Namespace) -> int:
    from benchwork.analysis import leaderboard_text
    from benchwork.runner import load_run

    run = load_run(args.run_id, args.home)
    if args.json:
        print(
            json.dumps(
                {"manifest": run.manifest, "summary": run.summary().to_dicts()},
                default=str,
                indent=2,
            )
        )
        return 0
    m = run.manifest
    print(f"run {run.id}: {m.get('status')} · suite {m.get('suite')} ({m.get('suite_hash')})")
    print(f"started {m.get('started_at')} · finished {m.get('finished_at')}")
    print(f"config {json.dumps(m.get('config', {}))}")
    print()
    print(leaderboard_text(run.summary()))
    for failure in run.failures():
        print(f"failed: {failure.line()}")
    return 0


def _resume(args: argparse.Namespace) -> int:
    from benchwork.cli._output import exit_code, print_failures, print_summary
    from benchwork.runner import resume_sync

    run = resume_sync(
        args.run_id,
        home=args.home,
        cache_dir=args.cache_dir,
        retry_errors=args.retry_errors,
        progress=not args.quiet,
    )
    print_summary(run, args.json)
    print_failures(run)
    return exit_code(run)


def _export(args: argparse.Namespace) -> int:
    from benchwork.store import RunStore

    path = RunStore(args.home).export(args.run_id, args.path)
    print(f"exported run {args.run_id} to {path}")
    return 0


def _import(args: argparse.Namespace) -> int:
    from benchwork.store import RunStore

    run_id = RunStore(args.home).import_run(args.path)
    print(f"imported {args.path} as run {run_id}")
    return 0


def _cache(args: argparse.Namespace) -> int:
    from benchwork.cache import CallCache
    from benchwork.errors import BenchworkError

    if args.cache_command == "prune" and not args.older_than >= 0:
        raise BenchworkError(f"--older-than must be a number of days >= 0, not {args.older_than:g}")
    with CallCache(args.cache_dir) as cache:
        if args.cache_command == "stats":
            s = cache.stats()
            print(f"{s['entries']} entries · {s['size_bytes'] / 1e6:.1f} MB · {s['directory']}")
            if s["oldest"]:
                print(
                    f"oldest {s['oldest']:%Y-%m-%d %H:%M} · newest {s['newest']:%Y-%m-%d %H:%M} UTC"
                )
        elif args.cache_command == "clear":
            print(f"removed {cache.clear()} entries from {cache.directory}")
        else:
            print(
                f"removed {cache.prune(args.older_than)} entries older than {args.older_than:g} days"
            )
    return 0


def _cache_why(args: argparse.Namespace) -> int:
    from benchwork.runner import why_missed

    print(
        why_missed(
            args.run_id,
            case_id=args.case,
            target=args.target,
            repeat=args.repeat,
            home=args.home,
            cache_dir=args.cache_dir,
        )
    )
    return 0
