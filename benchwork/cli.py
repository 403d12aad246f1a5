"""``benchwork`` command line: demo, run, sim, and run-store/cache commands.

Bad input ends with one line on stderr and exit code 2, never a traceback
(set ``BENCHWORK_DEBUG=1`` to see one for unexpected failures).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from benchwork.errors import BenchworkError

__all__ = ["main"]

Handler = Callable[[argparse.Namespace], int]
_CACHE_MODES = ("use", "refresh", "off", "replay")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--repeats", type=int, default=1, help="samples per case and target (default 1)")
    p.add_argument("--warmup", type=int, default=0, help="warm-up calls per target, not scored")
    p.add_argument("--cache", choices=_CACHE_MODES, default="use", help="cache mode (default use)")
    p.add_argument(
        "--cache-dir", help="cache directory (default: BENCHWORK_CACHE_DIR or user cache)"
    )
    p.add_argument("--home", help="run store folder (default: BENCHWORK_HOME or ./benchwork-runs)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress line")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="benchwork", description="Evaluate and benchmark LLMs.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    demo = sub.add_parser("demo", help="run the bundled suite against three simulated models")
    _add_run_options(demo)
    demo.add_argument(
        "--tools",
        action="store_true",
        help="run the tool-calling suite against sim models that call tools well, badly or not at all",
    )
    demo.set_defaults(handler=_cmd_demo)

    run = sub.add_parser("run", help="run a suite against one or more models")
    run.add_argument("suite", help="suite file (.yaml, .yml, .json, .jsonl, .csv)")
    run.add_argument(
        "-m", "--model", action="append", default=[], help="litellm model id (repeatable)"
    )
    run.add_argument("--targets", help="targets file (YAML/JSON list of targets)")
    run.add_argument("--api-base", help="base URL for the -m models (OpenAI-compatible server)")
    run.add_argument("--api-key-env", help="NAME of the env variable holding the API key")
    run.add_argument("--concurrency", type=int, help="concurrent calls per target")
    run.add_argument(
        "--scorer", action="append", help="scorer name (repeatable; default from suite)"
    )
    _add_run_options(run)
    run.set_defaults(handler=_cmd_run)

    sim = sub.add_parser(
        "sim", help="serve the simulated OpenAI-compatible provider", add_help=False
    )
    sim.add_argument("args", nargs=argparse.REMAINDER)
    sim.set_defaults(handler=_cmd_sim)

    for register in _extra_commands():
        register(sub)
    return parser


def _extra_commands() -> list[Callable[[Any], None]]:
    from benchwork import cli_score, cli_store

    return [cli_store.register, cli_score.register]


def _print_summary(run: Any, as_json: bool) -> None:
    from benchwork.report_text import leaderboard_text

    summary = run.summary()
    if as_json:
        print(
            json.dumps(
                {"run_id": run.id, "status": run.status, "summary": summary.to_dicts()},
                default=str,
                indent=2,
            )
        )
        return
    print(leaderboard_text(summary))
    print(f"\nresults: {run.path}  (load with benchwork.load_run({run.id!r}))")


def _run_and_print(suite: Any, targets: Any, args: argparse.Namespace, scorers: Any = None) -> int:
    from benchwork.api import run_sync

    run = run_sync(
        suite,
        targets,
        repeats=args.repeats,
        warmup=args.warmup,
        cache=args.cache,
        cache_dir=args.cache_dir,
        home=args.home,
        scorers=scorers,
        progress=not args.quiet,
    )
    _print_summary(run, args.json)
    return 0 if run.status == "finished" else 1


def _cmd_demo(args: argparse.Namespace) -> int:
    from benchwork.demo import (
        DEMO_PORT,
        DEMO_SUITE_PATH,
        TOOLS_SUITE_PATH,
        demo_scorers,
        demo_targets,
    )
    from benchwork.sim import DEMO_JUDGE, DEMO_MODELS, TOOL_DEMO_MODELS, SimProcess
    from benchwork.suite import Suite

    models, suite_path = None, DEMO_SUITE_PATH
    if getattr(args, "tools", False):  # tool calls: right, wrong tool, wrong arguments, none
        models, suite_path = TOOL_DEMO_MODELS, TOOLS_SUITE_PATH
    judged = models is None  # Q&A: exact match and a (simulated) LLM judge side by side
    served = [*DEMO_MODELS, DEMO_JUDGE] if judged else models
    suite = Suite.load(suite_path)
    # the sim runs in its own process so that it never shares a GIL with the client it times
    # a stable port keeps api_base, and so the cache keys, the same from one demo to the next
    try:
        sim = SimProcess(served, answers_suite=suite_path, port=DEMO_PORT).start()
    except RuntimeError:  # the port is taken: any free port will do (the cache will miss)
        sim = SimProcess(served, answers_suite=suite_path).start()
    with sim:
        if not args.json:
            print(
                f"benchwork demo: suite {suite.name!r} ({len(suite)} cases) against "
                f"{len(models or DEMO_MODELS)} simulated models at {sim.base_url}"
                + (f", graded by the simulated judge {DEMO_JUDGE.name!r}" if judged else ""),
                flush=True,
            )
        scorers = demo_scorers(sim.base_url) if judged else None
        return _run_and_print(suite, demo_targets(sim.base_url, models), args, scorers=scorers)


def _cmd_run(args: argparse.Namespace) -> int:
    from benchwork.target import Target, load_targets

    targets = list(load_targets(args.targets)) if args.targets else []
    for model in args.model:
        targets.append(Target(model, api_base=args.api_base, api_key_env=args.api_key_env))
    if not targets:
        raise BenchworkError("no models: give -m MODEL (repeatable) or --targets FILE")
    if args.concurrency is not None:
        if args.concurrency < 1:
            raise BenchworkError("--concurrency must be >= 1")
        for t in targets:
            t.concurrency = args.concurrency
    return _run_and_print(args.suite, targets, args, scorers=args.scorer)


def _cmd_sim(args: argparse.Namespace) -> int:
    from benchwork.sim.cli import main as sim_main

    return sim_main(args.args)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``benchwork`` console script; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["sim"]:  # the sim parses its own options
        return _cmd_sim(argparse.Namespace(args=argv[1:]))
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except BenchworkError as exc:
        print(f"benchwork: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "benchwork: interrupted; finished calls are kept (see 'benchwork runs' and "
            "'benchwork resume RUN')",
            file=sys.stderr,
        )
        return 130
    except Exception as exc:
        if os.environ.get("BENCHWORK_DEBUG"):
            raise
        print(
            f"benchwork: unexpected {type(exc).__name__}: {exc} "
            "(set BENCHWORK_DEBUG=1 for a traceback)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
