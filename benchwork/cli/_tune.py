"""CLI ``tune``: the prompt tuner, quick mode (K rewrites by a meta-model) or evolve mode
(a population over generations within a budget); dev split, held-out confirmation."""

from __future__ import annotations

import argparse
import json
from typing import Any

from benchwork.errors import BenchworkError

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add ``tune`` to the ``benchwork`` parser's subcommands."""
    p = sub.add_parser(
        "tune", help="tune a suite's system prompt; confirm the winner on held-out cases"
    )
    p.add_argument("suite", help="suite file (its system prompt is the one tuned)")
    p.add_argument("-m", "--model", required=True, help="the model whose prompt is tuned")
    p.add_argument("--meta", required=True, help="the model that proposes rewrites")
    p.add_argument("--api-base", help="base URL for both models (OpenAI-compatible server)")
    p.add_argument("--api-key-env", help="NAME of the env variable holding the API key")
    p.add_argument(
        "--mode", choices=("quick", "evolve"), default="quick", help="quick (default) or evolve"
    )
    p.add_argument("--k", type=int, default=4, help="quick mode: rewrites to try (default 4)")
    p.add_argument("--population", type=int, help="evolve: children per generation (default 4)")
    p.add_argument("--generations", type=int, help="evolve: at most this many (default 5)")
    p.add_argument(
        "--patience", type=int, help="evolve: stop after N generations without gain (default 2)"
    )
    p.add_argument("--budget-calls", type=int, help="evolve: stop before exceeding N calls")
    p.add_argument("--budget-usd", type=float, help="evolve: stop before exceeding this cost")
    p.add_argument(
        "--dev", type=float, default=0.5, help="share of cases in the dev split (default 0.5)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the dev/held-out split")
    p.add_argument(
        "--alpha", type=float, default=0.05, help="significance level of the confirmation"
    )
    p.add_argument("--home", help="run store folder (default: BENCHWORK_HOME or ./benchwork-runs)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(handler=_cmd)


def _cmd(args: argparse.Namespace) -> int:
    from benchwork.target import Target
    from benchwork.tuning import tune_prompt_sync

    if args.k < 1:
        raise BenchworkError("--k must be >= 1")
    target = Target(args.model, api_base=args.api_base, api_key_env=args.api_key_env)
    meta = Target(
        args.meta, name=f"meta {args.meta}", api_base=args.api_base, api_key_env=args.api_key_env
    )
    evolve = {"population": args.population, "generations": args.generations,
              "patience": args.patience, "budget_calls": args.budget_calls,
              "budget_usd": args.budget_usd}  # fmt: skip
    if args.mode == "quick":
        given = [f"--{k.replace('_', '-')}" for k, v in evolve.items() if v is not None]
        if given:
            raise BenchworkError(f"{', '.join(given)} need --mode evolve")
    result = tune_prompt_sync(args.suite, target, meta, mode=args.mode, k=args.k, dev=args.dev,
                              seed=args.seed, alpha=args.alpha, home=args.home,
                              on_generation=None if args.json else _progress,
                              **(evolve if args.mode == "evolve" else {}))  # fmt: skip
    c = result.confirmation
    if args.json:
        print(json.dumps({"original": result.original, "winner": result.winner, "confirmed": result.confirmed,
                          "confirmation": c, "stopped": result.stopped, "spent": result.spent,
                          "candidates": result.frame.to_dicts()}, default=str))  # fmt: skip
        return 0
    print()
    for r in result.frame.iter_rows(named=True):
        print(f"{r['candidate']:<10} gen {r['generation']} dev {r['dev_mean'] * 100:5.1f}% [{r['dev_lo'] * 100:.1f}, "
              f"{r['dev_hi'] * 100:.1f}]  {r['prompt']}")  # fmt: skip
    sp = result.spent
    print(f"\nstopped: {result.stopped}; {sp['calls']} calls ({sp['cached']} from the cache)")
    print(f"winner: {result.winner}")
    if "diff" in c:
        print(f"held-out: {c['diff'] * 100:+.1f} points [{c['diff_lo'] * 100:.1f}, {c['diff_hi'] * 100:.1f}] "
              f"vs the original, {c.get('test')}, Holm p = {c.get('p_holm'):.3g}: {c.get('verdict')}")  # fmt: skip
    print(
        "confirmed on held-out cases"
        if result.confirmed
        else "NOT confirmed on held-out cases: keep the original"
    )
    return 0


def _progress(frame: Any) -> None:
    """One line per generation while the tuner runs."""
    g = frame["generation"].max()
    new = frame.filter(frame["generation"] == g)
    print(f"generation {g}: {new.height} new prompt(s), best dev {frame['dev_mean'].max() * 100:.1f}%",
          flush=True)  # fmt: skip
