"""CLI command ``benchwork rescore``: new or changed scorers on a finished run, no model calls.

``--scorer`` takes a registered name (``exact``, ``judge``, ``judge_reference``, ``panel``) or
a JSON object (``'{"type": "judge", "rubric": "..."}'``). The judge scorers get their model
from ``--judge-model`` (repeat it for a panel) and ``--judge-api-base``.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from benchwork.errors import BenchworkError

__all__ = ["register", "scorer_specs"]

_JUDGES = ("judge", "judge_reference")


def register(sub: Any) -> None:
    """Add ``rescore`` to the ``benchwork`` parser."""
    p = sub.add_parser(
        "rescore", help="apply scorers to a finished run without calling its models again"
    )
    p.add_argument("run_id")
    p.add_argument(
        "--scorer",
        action="append",
        required=True,
        help="scorer name or JSON object (repeatable), e.g. exact, judge, panel",
    )
    p.add_argument(
        "--judge-model", action="append", default=[], help="judge model id (repeat for a panel)"
    )
    p.add_argument("--judge-api-base", help="base URL of the judge's OpenAI-compatible server")
    p.add_argument("--judge-api-key-env", help="NAME of the env variable holding the judge's key")
    p.add_argument("--home", help="run store folder (default: BENCHWORK_HOME or ./benchwork-runs)")
    p.add_argument("--cache-dir", help="cache for judge calls (default: the run's cache)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    p.set_defaults(handler=_rescore)


def _judge(model: str, args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {"model": model, "params": {"temperature": 0}}
    if args.judge_api_base:
        out["api_base"] = args.judge_api_base
    if args.judge_api_key_env:
        out["api_key_env"] = args.judge_api_key_env
    return out


def scorer_specs(args: argparse.Namespace) -> list[Any]:
    """The ``--scorer`` values as scorer specs, with the ``--judge-*`` options filled in."""
    specs: list[Any] = []
    for raw in args.scorer:
        if raw.lstrip().startswith("{"):
            try:
                spec: Any = json.loads(raw)
            except ValueError as e:
                raise BenchworkError(f"--scorer {raw!r} is not valid JSON: {e}") from None
        else:
            spec = {"type": raw}
        if not isinstance(spec, dict):
            raise BenchworkError(f"--scorer {raw!r}: expected a name or a JSON object")
        kind = spec.get("type")
        if kind in _JUDGES and "judge" not in spec and "model" not in spec and args.judge_model:
            if len(args.judge_model) > 1:
                raise BenchworkError(
                    f"--scorer {kind} takes one --judge-model; use --scorer panel for several"
                )
            spec["judge"] = _judge(args.judge_model[0], args)
        elif kind == "panel" and "judges" not in spec:
            if len(args.judge_model) < 2:
                raise BenchworkError("--scorer panel needs --judge-model at least twice")
            spec["judges"] = [_judge(m, args) for m in args.judge_model]
        specs.append(spec if len(spec) > 1 else spec["type"])
    return specs


def _rescore(args: argparse.Namespace) -> int:
    from benchwork.cli._output import print_summary
    from benchwork.results import score_value_columns
    from benchwork.runner import load_run

    run = load_run(args.run_id, args.home)
    new = run.rescore_sync(scorer_specs(args), cache_dir=args.cache_dir)
    if not args.json:
        names = ", ".join(score_value_columns(new.results.columns))
        print(f"rescored run {new.id}: {len(new.records)} calls, no candidate calls made")
        print(f"score columns: {names}\n")
    print_summary(new, args.json)
    return 0
