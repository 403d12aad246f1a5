"""CLI ``tiers``: one model at growing prompt sizes (TTFT and prefill rate per context tier)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from benchwork.errors import BenchworkError

__all__ = ["register", "run_tiers_for"]


def register(sub: Any) -> None:
    """Add ``tiers`` to the ``benchwork`` parser's subcommands."""
    p = sub.add_parser(
        "tiers", help="TTFT and prefill tok/s of a model at growing prompt sizes (context tiers)"
    )
    p.add_argument("-m", "--model", required=True, help="litellm model id")
    p.add_argument("--api-base", help="base URL (OpenAI-compatible server)")
    p.add_argument("--api-key-env", help="NAME of the env variable holding the API key")
    p.add_argument(
        "--context-tiers",
        "--tiers",
        dest="tiers",
        default="1k,4k,16k",
        help="prompt sizes in tokens, e.g. 1k,4k,16k (default)",
    )
    p.add_argument("--repeats", type=int, default=3, help="calls per tier (default 3)")
    p.add_argument("--max-tokens", type=int, default=16, help="output tokens per call")
    p.add_argument("--window", type=int, help="context window, when the server does not say")
    p.add_argument(
        "--shared-prefix", action="store_true", help="let prompts share a cacheable prefix"
    )
    p.add_argument("--json", action="store_true", help="print every call as JSON lines")
    p.set_defaults(handler=_cmd_tiers)


def _cmd_tiers(args: argparse.Namespace) -> int:
    from benchwork.client import context_tiers_sync, parse_tiers, summarize_tiers
    from benchwork.target import Target

    try:
        tiers = parse_tiers(args.tiers)
    except ValueError as e:
        raise BenchworkError(f"--context-tiers: {e}") from None
    for name in ("repeats", "max_tokens"):
        if getattr(args, name) < 1:
            raise BenchworkError(f"--{name.replace('_', '-')} must be >= 1")
    target = Target(args.model, api_base=args.api_base, api_key_env=args.api_key_env)
    target.concurrency = 1
    rows = context_tiers_sync(
        target,
        tiers,
        repeats=args.repeats,
        max_tokens=args.max_tokens,
        window=args.window,
        shared_prefix=args.shared_prefix,
    )
    if args.json:
        for row in rows.to_dicts():
            print(json.dumps(row))
    else:
        _print(summarize_tiers(rows), _intervals(rows))
    return 0 if (rows["status"] == "ok").any() else 1


def _fmt(value: Any, digits: int) -> str:
    if value is None:
        return "—"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _intervals(rows: Any) -> dict[int, tuple[Any, Any, Any]]:
    """Tier -> TTFT p50 and its 95 % interval (exact bootstrap, from ``analysis.leaderboard``)."""
    import polars as pl

    from benchwork.analysis import leaderboard

    ok = rows.filter(pl.col("status") == "ok")
    if ok.is_empty():
        return {}
    board = leaderboard(ok, by="tier")
    return {
        r["tier"]: (r["ttft_p50_s"], r["ttft_p50_lo_s"], r["ttft_p50_hi_s"])
        for r in board.to_dicts()
    }


def _print(summary: Any, ttft: dict[int, tuple[Any, Any, Any]]) -> None:
    head = ("tier", "calls", "input", "TTFT p50", "95% CI", "prefill tok/s", "out tok/s")
    lines: list[tuple[str, ...]] = [head]
    notes = []
    for r in summary.to_dicts():
        p50, lo, hi = ttft.get(r["tier"], (None, None, None))
        lines.append(
            (
                str(r["tier"]),
                str(r["calls"]),
                _fmt(r["input_tokens"], 0),
                "—" if p50 is None else f"{p50:.3f} s",
                "—" if lo is None or hi is None else f"{lo:.3f}-{hi:.3f} s",
                _fmt(r["prefill_tps_p50"], 1),
                _fmt(r["output_tps_p50"], 1),
            )
        )
        if r["note"]:
            notes.append(f"tier {r['tier']}: {r['note']}")
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    for line in lines:
        print("  ".join(cell.rjust(w) for cell, w in zip(line, widths, strict=True)))
    for note in notes:
        print(note)


def run_tiers_for(target: Any, tiers_text: str, *, as_json: bool = False, repeats: int = 3) -> int:
    """``benchwork run ... --context-tiers``: the tiers for one target, printed like ``tiers``."""
    from benchwork.client import context_tiers_sync, parse_tiers, summarize_tiers

    try:
        tiers = parse_tiers(tiers_text)
    except ValueError as e:
        raise BenchworkError(f"--context-tiers: {e}") from None
    target.concurrency = 1  # one prompt at a time: TTFT is the prefill's alone
    rows = context_tiers_sync(target, tiers, repeats=repeats)
    if as_json:
        for row in rows.to_dicts():
            print(json.dumps(row))
    else:
        print(f"{target.name}:")
        _print(summarize_tiers(rows), _intervals(rows))
    return 0 if (rows["status"] == "ok").any() else 1
