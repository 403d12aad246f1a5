"""CLI commands over the analysis subpackage (statistics on stored runs): compare.

``benchwork compare RUN_A RUN_B``: RUN_A is the baseline, RUN_B the candidate; per target and
metric the paired change on the shared cases, its interval, the Holm-adjusted p-value and a
verdict (see ``benchwork.analysis.compare_runs``). ``--json`` prints the rows as JSON;
``--fail-on-worse`` exits 1 when any verdict is ``worse`` (for CI).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["compare_table", "register"]


def register(sub: Any) -> None:
    """Add the analysis subcommands to the ``benchwork`` parser."""
    p = sub.add_parser(
        "compare", help="compare two runs (baseline, candidate): paired tests and verdicts"
    )
    p.add_argument("baseline", metavar="RUN_A", help="baseline run id")
    p.add_argument("candidate", metavar="RUN_B", help="candidate run id")
    p.add_argument("--home", help="run store folder (default: BENCHWORK_HOME or ./benchwork-runs)")
    p.add_argument("--metric", action="append", help="score or column (repeatable; default all)")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    p.add_argument("--fail-on-worse", action="store_true", help="exit 1 if any verdict is worse")
    p.set_defaults(handler=_compare)


def _num(metric: str, value: float | None, signed: bool = False) -> str:
    """A value in the metric's unit: score points in %, seconds in ms, cost in $."""
    if value is None:
        return "—"
    sign = "+" if signed else ""
    if metric.startswith("score_"):
        return f"{value * 100:{sign}.1f}%"
    if metric.endswith("_s"):
        return f"{value * 1000:{sign},.0f} ms"
    if "cost" in metric:
        return f"{value:{sign}.6f} $"
    return f"{value:{sign},.3g}"


def compare_table(rows: Any, header: str) -> str:
    """The compare_runs frame as an aligned text table under ``header``."""
    titles = ["target", "metric", "n", "baseline", "candidate", "change [interval]", "flips -/+"]
    titles += ["test", "p (Holm)", "verdict"]
    body = []
    for r in rows.iter_rows(named=True):
        m = r["metric"]
        change = f"{_num(m, r['diff'], True)} [{_num(m, r['diff_lo'], True)}, "
        change += f"{_num(m, r['diff_hi'], True)}]"
        flips = "" if r["regressions"] is None else f"{r['regressions']}/{r['improvements']}"
        p = "—" if r["p_holm"] is None else f"{r['p_holm']:.3g}"
        n = str(r["n_pairs"]) + (f" (+{r['n_unpaired']} unpaired)" if r["n_unpaired"] else "")
        means = [_num(m, r["mean_baseline"]), _num(m, r["mean_candidate"])]
        result = [change, flips, r["test"], p, r["verdict"]]
        body.append([r["target"], m.removeprefix("score_"), n, *means, *result])
    widths = [max(len(x[i]) for x in [titles, *body]) for i in range(len(titles))]
    lines = [header, ""]
    for line in [titles, ["-" * w for w in widths], *body]:
        lines.append("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())
    return "\n".join(lines)


def _compare(args: argparse.Namespace) -> int:
    from benchwork.analysis import compare_runs
    from benchwork.runner import load_run

    base, cand = load_run(args.baseline, args.home), load_run(args.candidate, args.home)
    rows = compare_runs(base, cand, metrics=args.metric, alpha=args.alpha)
    if args.json:
        payload = {"baseline": base.id, "candidate": cand.id, "rows": rows.to_dicts()}
        print(json.dumps(payload, default=str, indent=2))
    else:
        match = rows["match"][0] if rows.height else ""
        header = f"baseline {base.id} vs candidate {cand.id}: {match}; alpha={args.alpha:g}"
        print(compare_table(rows, header))
    worse = rows.height > 0 and bool((rows["verdict"] == "worse").any())
    return 1 if args.fail_on_worse and worse else 0
