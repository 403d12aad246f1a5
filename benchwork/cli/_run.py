"""CLI commands that run suites: ``demo`` (the built-in default), ``run`` and ``sim``."""

from __future__ import annotations

import argparse
import tempfile
from typing import Any

from benchwork.cli._output import add_run_options, exit_code, print_failures, print_summary
from benchwork.errors import BenchworkError

__all__ = ["cmd_sim", "register"]


def register(sub: Any) -> None:
    """Add ``demo``, ``run`` and ``sim`` to the ``benchwork`` parser's subcommands."""
    demo = sub.add_parser("demo", help="run the bundled suite against three simulated models")
    add_run_options(demo)
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
    run.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUE",
        help="a sampling parameter for every target, e.g. --param temperature=0 (repeatable)",
    )  # fmt: skip
    run.add_argument("--case", action="append", metavar="ID", help="only this case (repeatable)")
    run.add_argument(
        "--tag", action="append", metavar="TAG", help="only cases with this tag (repeatable)"
    )
    run.add_argument(
        "--limit", type=int, metavar="N", help="only the first N cases (after --case/--tag)"
    )
    run.add_argument(
        "--no-save",
        action="store_true",
        help="do not keep the run in the store (calls are still cached)",
    )
    run.add_argument(
        "--context-tiers",
        metavar="1k,4k,16k",
        help="instead of the suite: each model at these prompt sizes (TTFT, prefill per tier)",
    )
    add_run_options(run)
    run.set_defaults(handler=_cmd_run)

    sim = sub.add_parser(
        "sim", help="serve the simulated OpenAI-compatible provider", add_help=False
    )
    sim.add_argument("args", nargs=argparse.REMAINDER)
    sim.set_defaults(handler=cmd_sim)


def _run_and_print(
    suite: Any, targets: Any, args: argparse.Namespace, scorers: Any = None, *, saved: bool = True
) -> int:
    from benchwork.runner import run_sync

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
    print_summary(run, args.json, saved=saved)
    print_failures(run)
    return exit_code(run)


def _cmd_demo(args: argparse.Namespace) -> int:
    from benchwork.sim import (
        DEMO_JUDGE,
        DEMO_MODELS,
        DEMO_PORT,
        DEMO_SUITE_PATH,
        TOOL_DEMO_MODELS,
        TOOLS_SUITE_PATH,
        SimProcess,
        demo_scorers,
        demo_targets,
    )
    from benchwork.suite import Suite

    models, suite_path = None, DEMO_SUITE_PATH
    if getattr(args, "tools", False):  # tool calls: right, wrong tool, wrong arguments, none
        models, suite_path = TOOL_DEMO_MODELS, TOOLS_SUITE_PATH
    judged = models is None  # Q&A: exact match and a (simulated) LLM judge side by side
    served = [*DEMO_MODELS, DEMO_JUDGE] if judged else models
    suite = Suite.load(suite_path)
    # the sim runs in its own process so that it never shares a GIL with the client it times
    # the cache keys name the demo sim, not its URL (DEMO_CACHE_ENDPOINT): any port will do
    try:
        sim = SimProcess(served, answers_suite=suite_path, port=DEMO_PORT).start()
    except RuntimeError:  # the port is taken: any free port will do (the cache still hits)
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
    from benchwork.suite import Suite
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
    if args.context_tiers:
        from benchwork.cli._tiers import run_tiers_for

        return max(run_tiers_for(t, args.context_tiers, as_json=args.json) for t in targets)
    params = _params(args.param)
    if params:  # through Target's own checks, as a targets file's params would be
        targets = [
            Target.from_dict(
                {**t.to_dict(), "api_base": t.api_base, "params": {**t.params, **params}},
                source="--param",
            )
            for t in targets
        ]
    suite = Suite.load(args.suite)
    if args.case or args.tag:
        suite = suite.filter(tags=args.tag, ids=args.case)
    if args.limit is not None:
        if args.limit < 1:
            raise BenchworkError("--limit must be >= 1")
        suite = Suite(**{**_fields(suite), "cases": suite.cases[: args.limit]})
    if not args.no_save:
        return _run_and_print(suite, targets, args, scorers=args.scorer)
    with tempfile.TemporaryDirectory(prefix="benchwork-nosave-") as scratch:
        args.home = scratch  # the run lives here until the summary is printed, then goes
        return _run_and_print(suite, targets, args, scorers=args.scorer, saved=False)


def _params(items: list[str]) -> dict[str, Any]:
    """``NAME=VALUE`` pairs; values read as YAML scalars/lists (``0``, ``0.7``, ``true``, ``[a, b]``)."""
    import yaml

    out: dict[str, Any] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep or not name.strip():
            raise BenchworkError(f"--param {item!r}: write NAME=VALUE, e.g. --param temperature=0")
        try:
            out[name.strip()] = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            raise BenchworkError(
                f"--param {name.strip()!r}: cannot read the value {raw!r}"
            ) from None
    return out


def _fields(suite: Any) -> dict[str, Any]:
    import dataclasses

    return {f.name: getattr(suite, f.name) for f in dataclasses.fields(suite)}


def cmd_sim(args: argparse.Namespace) -> int:
    from benchwork.sim.cli import main as sim_main

    return sim_main(args.args)
