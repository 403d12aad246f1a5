"""CLI commands over the analysis subpackage (statistics on stored runs): compare, pairs, trends.

``benchwork compare RUN_A RUN_B``: RUN_A is the baseline, RUN_B the candidate; per target and
metric the paired change on the shared cases, its interval, the Holm-adjusted p-value and a
verdict (see ``benchwork.analysis.compare_runs``). ``--json`` prints the rows as JSON;
``--fail-on-worse`` exits 1 when any verdict is ``worse`` (for CI).

``benchwork pairs RUN``: every pair of the run's targets on the cases both answered (see
``benchwork.analysis.compare_targets``), then the ``>``/``<``/``≈`` matrix of which targets can
be told apart at alpha.

``benchwork trends SUITE``: the suite's stored runs over time; per target and metric the
7/30/90-day figures with intervals and the newest run against its rolling baseline (see
``benchwork.analysis.trends``). ``--fail-on-regression`` exits 1 when the newest run is flagged.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["compare_table", "pairs_table", "register", "trends_table"]


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

    p = sub.add_parser("pairs", help="paired tests between a run's targets: who beats whom")
    p.add_argument("run_id", metavar="RUN")
    p.add_argument("--home", help="run store folder (default: BENCHWORK_HOME or ./benchwork-runs)")
    p.add_argument("--metric", help="score or column (default: the first score)")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    p.add_argument("--json", action="store_true", help="print the pairs as JSON")
    p.set_defaults(handler=_pairs)

    p = sub.add_parser("trends", help="a suite's runs over time: windows, regression flags")
    p.add_argument("suite", help="suite name (as in 'benchwork runs')")
    p.add_argument("--home", help="run store folder (default: BENCHWORK_HOME or ./benchwork-runs)")
    p.add_argument("--metric", action="append", help="score or p50 column (repeatable)")
    p.add_argument("--baseline-days", type=float, default=30.0, help="rolling baseline (days)")
    p.add_argument("--alpha", type=float, default=0.05, help="flag level (default 0.05)")
    p.add_argument("--json", action="store_true", help="print windows and runs as JSON")
    p.add_argument(
        "--fail-on-regression", action="store_true", help="exit 1 if the newest run regressed"
    )
    p.set_defaults(handler=_trends)


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


def _interval(metric: str, value: float | None, lo: float | None, hi: float | None) -> str:
    return f"{_num(metric, value)} [{_num(metric, lo)}, {_num(metric, hi)}]"


def trends_table(windows: Any, newest: Any, header: str) -> str:
    """Windows (7/30/90 days) per target and metric, then the newest run and its flag."""
    titles = ["target", "metric", *[f"{d:g} days" for d in windows["window_days"].unique()]]
    titles += ["newest run", "vs baseline", "flag"]
    body = []
    for (target, metric), part in windows.group_by(["target", "metric"], maintain_order=True):
        cells = [
            f"{_interval(str(metric), r['value'], r['lo'], r['hi'])} ({r['runs']} runs)"
            for r in part.sort("window_days").iter_rows(named=True)
        ]
        row = newest.filter((newest["target"] == target) & (newest["metric"] == metric))
        r = row.row(0, named=True) if row.height else {}
        m = str(metric)
        delta = "—" if r.get("delta") is None else _num(m, r["delta"], True)
        last = _interval(m, r.get("value"), r.get("lo"), r.get("hi"))
        body.append(
            [str(target), m.removeprefix("score_"), *cells, last, delta, r.get("flag") or ""]
        )
    widths = [max(len(x[i]) for x in [titles, *body]) for i in range(len(titles))]
    lines = [header, ""]
    for line in [titles, ["-" * w for w in widths], *body]:
        lines.append("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())
    return "\n".join(lines)


def _trends(args: argparse.Namespace) -> int:
    from benchwork.analysis import trend_windows, trends
    from benchwork.errors import BenchworkError
    from benchwork.store import RunStore

    store = RunStore(args.home)
    listed = store.runs()
    ids = listed.filter(listed["suite"] == args.suite)["run_id"].to_list() if listed.height else []
    if not ids:
        names = sorted(set(listed["suite"].drop_nulls().to_list())) if listed.height else []
        raise BenchworkError(f"no runs of suite {args.suite!r}; suites: {names}")
    frames = [store.frame(i) for i in ids]  # the rows only (no Run objects): 2x faster
    stacked = [f for f in frames if f.height]
    if not stacked:
        raise BenchworkError(f"the runs of suite {args.suite!r} have no results yet")
    tr = trends(stacked, args.metric, baseline_days=args.baseline_days, alpha=args.alpha)
    win = trend_windows(stacked, args.metric)
    newest_time = tr["run_time"].max()
    newest = tr.filter(tr["run_time"] == newest_time)
    if args.json:
        payload = {"windows": win.to_dicts(), "runs": tr.to_dicts()}
        print(json.dumps(payload, default=str, indent=2))
    else:
        header = f"suite {args.suite}: {len(stacked)} runs, newest {newest_time}"
        header += f"; baseline {args.baseline_days:g} days, alpha={args.alpha:g}"
        print(trends_table(win, newest, header))
    regressed = bool((newest["flag"] == "regression").any())
    return 1 if args.fail_on_regression and regressed else 0


def pairs_table(pairs: Any, matrix: Any, header: str) -> str:
    """compare_targets rows as an aligned table, then the verdict matrix."""
    titles = ["a", "b", "n", "a − b [interval]", "a only/b only", "test", "p (Holm)", "verdict"]
    body = []
    for r in pairs.iter_rows(named=True):
        m = r["metric"]
        change = f"{_num(m, r['diff'], True)} [{_num(m, r['diff_lo'], True)}, "
        change += f"{_num(m, r['diff_hi'], True)}]"
        disc = "" if r["a_only"] is None else f"{r['a_only']}/{r['b_only']}"
        p = "—" if r["p_holm"] is None else f"{r['p_holm']:.3g}"
        n = str(r["n_pairs"]) + (f" (+{r['n_unpaired']} unpaired)" if r["n_unpaired"] else "")
        body.append([r["target_a"], r["target_b"], n, change, disc, r["test"], p, r["verdict"]])
    widths = [max(len(x[i]) for x in [titles, *body]) for i in range(len(titles))]
    lines = [header, ""]
    for line in [titles, ["-" * w for w in widths], *body]:
        lines.append("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())
    names = matrix["target"].to_list()
    width = max(len(t) for t in names)
    lines += ["", " " * width + "  " + "  ".join(t.center(max(len(t), 1)) for t in names)]
    for row in matrix.iter_rows(named=True):
        cells = [(row[t] or "·").center(len(t)) for t in names]
        lines.append(row["target"].ljust(width) + "  " + "  ".join(cells))
    lines.append("(> row better than column, < worse, ≈ not told apart)")
    return "\n".join(lines)


def _pairs(args: argparse.Namespace) -> int:
    from benchwork.analysis import compare_targets, verdict_matrix
    from benchwork.runner import load_run

    run = load_run(args.run_id, args.home)
    pairs = compare_targets(run, args.metric, alpha=args.alpha)
    if args.json:
        print(json.dumps({"run_id": run.id, "pairs": pairs.to_dicts()}, default=str, indent=2))
        return 0
    if pairs.is_empty():
        print(f"run {run.id}: fewer than two targets with scored rows; nothing to compare")
        return 0
    metric = pairs["metric"][0]
    header = f"run {run.id}: {metric}, paired on shared cases, Holm-adjusted, alpha={args.alpha:g}"
    print(pairs_table(pairs, verdict_matrix(pairs), header))
    return 0
