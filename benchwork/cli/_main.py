"""``benchwork`` command line: the parser and the entry point.

Each command group lives in its own module (``_run``: demo, run, sim; ``_store``: runs, show,
resume, export, import, cache; ``_score``: rescore; ``_analysis``: compare; ``_tiers``: tiers; ``_report``: report; ``_schedule``: schedule; ``_models``: models). Bad input ends with one line on stderr
and exit code 2, never a traceback (set ``BENCHWORK_DEBUG=1`` to see one for unexpected
failures).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from benchwork.cli import (
    _analysis,
    _experiments,
    _models,
    _report,
    _run,
    _schedule,
    _score,
    _store,
    _tiers,
    _tune,
)
from benchwork.errors import BenchworkError

__all__ = ["build_parser", "main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``benchwork`` parser with every command group's subcommands."""
    parser = _Parser(prog="benchwork", description="Evaluate and benchmark LLMs.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for group in (_run, _store, _score, _analysis, _tiers, _report, _schedule, _experiments, _tune):
        group.register(sub)
    _models.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``benchwork`` console script; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["sim"]:  # the sim parses its own options
        return _run.cmd_sim(argparse.Namespace(args=argv[1:]))
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
