"""CLI ``models``: what a server offers (``--api-base URL``) or what litellm knows (``--known``).

A server without ``/models``, or one that is not running, ends with one line on stderr and exit
code 2 (the error comes from ``benchwork.client.list_models``). Unknown prices print as ``?``,
never as 0.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["register", "table_text"]


def register(sub: Any) -> None:
    """Add ``models`` to the ``benchwork`` parser's subcommands."""
    p = sub.add_parser(
        "models",
        help="list a server's models (--api-base URL) or litellm's priced models (--known)",
    )
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--api-base", help="an OpenAI-compatible base URL; lists {URL}/models")
    where.add_argument("--known", action="store_true", help="litellm's chat models with prices")
    p.add_argument("--provider", help="with --known: only this litellm provider (e.g. anthropic)")
    p.add_argument("--search", help="with --known: only models whose name contains this")
    p.add_argument("--api-key-env", help="with --api-base: NAME of the variable with the key")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds (default 10)")
    p.add_argument("--json", action="store_true", help="print JSON (a list of objects)")
    p.set_defaults(handler=_cmd)


def _cmd(args: argparse.Namespace) -> int:
    import polars as pl

    from benchwork.client import known_models, list_models_sync
    from benchwork.errors import BenchworkError

    if args.api_base is not None:
        if args.provider or args.search:
            raise BenchworkError("--provider and --search go with --known, not --api-base")
        frame = list_models_sync(
            args.api_base, api_key_env=args.api_key_env, timeout_s=args.timeout
        )
        if frame.height == 0 and not args.json:
            raise BenchworkError(f"{args.api_base.rstrip('/')}/models lists no models")
        columns = ["id", "owned_by", "context_window", "input_per_mtok", "output_per_mtok"]
    else:
        frame = known_models(args.provider)
        if args.search:
            frame = frame.filter(
                pl.col("model").str.to_lowercase().str.contains(args.search.lower(), literal=True)
            )
        if frame.height == 0 and not args.json:
            what = f" for provider {args.provider!r}" if args.provider else ""
            what += f" matching {args.search!r}" if args.search else ""
            raise BenchworkError(f"litellm knows no chat models{what}")
        columns = ["model", "provider", "context_window", "input_per_mtok", "output_per_mtok"]
    if args.json:
        print(json.dumps(frame.select(columns).to_dicts()))
    else:
        print(table_text(frame.select(columns).to_dicts(), columns))
    return 0


_HEADERS = {
    "id": "model",
    "owned_by": "owner",
    "context_window": "context",
    "input_per_mtok": "$/Mtok in",
    "output_per_mtok": "$/Mtok out",
}


def _cell(value: Any) -> str:
    if value is None:
        return "?"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table_text(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """Rows as an aligned text table (numbers right-aligned; unknown values as ``?``)."""
    head = [_HEADERS.get(c, c) for c in columns]
    body = [[_cell(r.get(c)) for c in columns] for r in rows]
    numeric = [c in ("context_window", "input_per_mtok", "output_per_mtok") for c in columns]
    widths = [max(len(x) for x in col) for col in zip(head, *body, strict=False)]

    def line(cells: list[str]) -> str:
        parts = [
            c.rjust(w) if num else c.ljust(w)
            for c, w, num in zip(cells, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    out = [line(head), line(["-" * w for w in widths])]
    out += [line(r) for r in body]
    out.append(f"{len(rows)} model{'' if len(rows) == 1 else 's'}")
    return "\n".join(out)
