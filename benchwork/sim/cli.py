"""``benchwork sim``: serve simulated models until SIGINT or SIGTERM.

Bad input ends with one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from benchwork.sim.server import SimServer

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="benchwork sim",
        description="Serve simulated LLMs (OpenAI-compatible streaming API) on 127.0.0.1.",
    )
    p.add_argument("--port", type=int, default=8765, help="port to listen on; 0 picks a free one")
    p.add_argument(
        "--models", metavar="FILE.yaml", help="model profiles (default: the demo models)"
    )
    p.add_argument(
        "--answers",
        metavar="SUITE",
        help="a suite file whose expected outputs (and expected tool calls) are the answers",
    )
    p.add_argument(
        "--require-api-key-env",
        metavar="NAME",
        help="require 'Authorization: Bearer <key>' with the key read from this environment variable",
    )
    return p


def _answers_from_suite(path: str) -> dict[str, Any]:
    from benchwork.suite import Suite  # lazy: the suite module pulls in more than the server needs

    suite = Suite.load(path)
    answers: dict[str, Any] = dict(suite.expected_by_prompt())
    answers.update(suite.expected_tools_by_prompt())  # tool answers (see benchwork.sim.tools)
    return answers


async def _serve(server: SimServer, ready_line: str) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await server.astart()
    try:
        print(ready_line.format(port=server.port), flush=True)
        await stop.wait()
    finally:
        await server.astop()


def main(argv: list[str] | None = None) -> int:
    """Run ``benchwork sim``; returns the exit status."""
    args = _parser().parse_args(argv)
    from benchwork.sim.models import DEMO_MODELS, load_models
    from benchwork.sim.server import HOST, SimServer

    def fail(message: str) -> int:
        print(f"benchwork sim: error: {message}", file=sys.stderr, flush=True)
        return 2

    if not 0 <= args.port <= 65535:
        return fail(f"--port must be between 0 and 65535, not {args.port}")
    key = None
    if args.require_api_key_env:
        key = os.environ.get(args.require_api_key_env)
        if not key:
            return fail(
                f"environment variable {args.require_api_key_env} is not set (--require-api-key-env)"
            )
    try:
        models = load_models(args.models) if args.models else DEMO_MODELS
        answers = _answers_from_suite(args.answers) if args.answers else None
        server = SimServer(models, answers=answers, port=args.port, require_api_key=key)
    except (ValueError, OSError, ImportError) as e:
        return fail(str(e).splitlines()[0] if str(e) else type(e).__name__)
    line = f"benchwork sim: serving {len(server.models)} models on http://{HOST}:{{port}}/v1"
    try:
        asyncio.run(_serve(server, line))
    except OSError as e:  # e.g. the port is taken
        return fail(f"cannot listen on {HOST}:{args.port}: {e.strerror or e}")
    except KeyboardInterrupt:
        pass
    return 0
