"""``compare_runs``: baseline vs candidate, per target and metric, paired on the shared cases.

The runs match on the suite hash when both manifests carry one and they agree; otherwise on the
case ids they share; the ``match`` column names which, e.g. ``"same suite (ab12cd); 50 cases"``
or ``"different suites; 40 shared cases (baseline 50, candidate 45)"``.

One row per (target, metric); metrics are every score both runs have, then ``ttft_s``,
``latency_s`` and ``cost_usd`` (per call). Speed and cost compare live calls only: a cache hit
replays the original call's timings, so a cached candidate would look identical to its baseline
(with no live calls the row reads ``no paired data``). ``a`` is the candidate and ``b`` the baseline, so
``diff`` = candidate - baseline. Columns: ``target``, ``metric``, ``match``, ``n_pairs``,
``n_unpaired``, ``repeats``, ``mean_baseline``, ``mean_candidate``, ``diff``, ``diff_lo``,
``diff_hi``, ``interval``, ``test``, ``statistic``, ``p_value``, ``p_holm`` (Holm within each
metric: the targets are the family), ``regressions`` / ``improvements`` (cases that got
worse / better: for 0/1 scores with one row per case these are the pass/fail flips),
``verdict`` (``better`` | ``worse`` | ``no detectable difference`` | ``no paired data``). Intervals and tests as in
``compare_targets`` (see ``_paired``). ``flips`` lists the flipped cases themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from benchwork.analysis._frames import as_frame, is_binary, measured, score_columns
from benchwork.analysis._paired import Test, lower_is_better, pair_stats
from benchwork.analysis._targets import case_values, finish_pairs, resolve_metric
from benchwork.errors import BenchworkError

__all__ = ["RUN_SPEED_METRICS", "compare_runs", "flips", "run_match"]

RUN_SPEED_METRICS = ("ttft_s", "latency_s", "cost_usd")


def _suite_hash(run: Any) -> str | None:
    manifest = getattr(run, "manifest", None)
    return manifest.get("suite_hash") if isinstance(manifest, dict) else None


def run_match(baseline: Any, candidate: Any) -> str:
    """How the two runs line up: the same suite hash, or N shared case ids (else an error)."""
    a, b = measured(as_frame(baseline)), measured(as_frame(candidate))
    if "case_id" not in a.columns or "case_id" not in b.columns:
        raise BenchworkError("comparing runs needs a 'case_id' column in both")
    ca, cb = set(a["case_id"].unique().to_list()), set(b["case_id"].unique().to_list())
    shared = len(ca & cb)
    if shared == 0:
        raise BenchworkError("the runs share no case ids: nothing to pair")
    ha, hb = _suite_hash(baseline), _suite_hash(candidate)
    if ha and ha == hb:
        return f"same suite ({ha[:19]}); {shared} cases"
    what = "different suites" if ha and hb else "suite hash unknown"
    return f"{what}; {shared} shared cases (baseline {len(ca)}, candidate {len(cb)})"


def _both(baseline: Any, candidate: Any) -> pl.DataFrame:
    a = measured(as_frame(baseline)).with_columns(pl.lit("baseline").alias("__arm"))
    b = measured(as_frame(candidate)).with_columns(pl.lit("candidate").alias("__arm"))
    return pl.concat([a, b], how="diagonal_relaxed")


def _metrics(baseline: Any, candidate: Any, metrics: Sequence[str] | None) -> list[str]:
    a, b = as_frame(baseline), as_frame(candidate)
    if metrics is not None:
        out = [resolve_metric(a, m) for m in metrics]
        for m in out:
            resolve_metric(b, m)
        return out
    shared = [c for c in score_columns(a) if c in score_columns(b)]
    return shared + [m for m in RUN_SPEED_METRICS if m in a.columns and m in b.columns]


def compare_runs(
    baseline: Any,
    candidate: Any,
    *,
    metrics: Sequence[str] | None = None,
    alpha: float = 0.05,
    confidence: float | None = None,
    test: Test = "auto",
    targets: Sequence[str] | None = None,
    n_boot: int = 2000,
    seed: int = 0,
) -> pl.DataFrame:
    """Per target and metric: the paired change from ``baseline`` to ``candidate`` and a verdict.

    ``baseline``/``candidate``: a Run or a results frame each. ``metrics``: scores (``"exact"``)
    or numeric columns; default every shared score, then TTFT, latency and cost per call.
    ``targets``: default every target in both runs.
    """
    if not 0.0 < alpha < 1.0:
        raise BenchworkError(f"alpha must be in (0, 1), got {alpha}")
    conf = 1.0 - alpha if confidence is None else confidence
    match = run_match(baseline, candidate)
    both = _both(baseline, candidate)
    names = [
        t
        for t in both.filter(pl.col("__arm") == "baseline")["target"].unique(maintain_order=True)
        if t in set(both.filter(pl.col("__arm") == "candidate")["target"].to_list())
    ]
    if targets is not None:
        missing = sorted(set(targets) - set(names))
        if missing:
            raise BenchworkError(f"target(s) {missing} are not in both runs; shared: {names}")
        names = list(targets)
    if not names:
        raise BenchworkError("the runs share no target")
    rows: list[dict[str, Any]] = []
    for col in _metrics(baseline, candidate, metrics):
        binary = is_binary(both, col)
        sub = both.filter(pl.col("target").is_in(names))
        if not col.startswith("score_") and "cached" in sub.columns:
            sub = sub.filter(~pl.col("cached").fill_null(False))  # a hit replays old timings
        values = case_values(sub, col, "__arm", ["target"])
        low = lower_is_better(col)
        for target in names:
            part = values.filter(pl.col("target") == target)
            cand = part.filter(pl.col("__arm") == "candidate")
            base = part.filter(pl.col("__arm") == "baseline")
            joined = cand.join(base, on="case_id", how="full", suffix="_b")
            paired = joined.filter(pl.col("__v").is_not_null() & pl.col("__v_b").is_not_null())
            repeats = int(paired.select(pl.max_horizontal("__rows", "__rows_b").max()).item() or 0)
            c, b = paired["__v"].to_numpy(), paired["__v_b"].to_numpy()
            stats = pair_stats(
                c,
                b,
                binary=binary,
                repeats=repeats,
                test=test,
                confidence=conf,
                n_boot=n_boot,
                seed=seed,
            )
            up, down = int((c > b).sum()), int((c < b).sum())
            rows.append(
                {
                    "target": target,
                    "metric": col,
                    "target_a": "candidate",
                    "target_b": "baseline",
                    **stats,
                    "n_unpaired": joined.height - paired.height,
                    "repeats": repeats,
                    "regressions": (up if low else down) if col.startswith("score_") else None,
                    "improvements": (down if low else up) if col.startswith("score_") else None,
                }
            )
    if not rows:
        return pl.DataFrame()
    out = pl.concat(  # Holm within each metric: the targets are the family
        [
            finish_pairs([r for r in rows if r["metric"] == m], m, alpha)
            for m in dict.fromkeys(r["metric"] for r in rows)
        ],
        how="vertical_relaxed",
    )
    low = pl.Series([lower_is_better(m) for m in out["metric"]], dtype=pl.Boolean)
    gain = pl.when(low).then(-pl.col("diff")).otherwise(pl.col("diff"))
    verdict = (
        pl.when(pl.col("n_pairs") == 0)
        .then(pl.lit("no paired data"))
        .when(~pl.col("significant"))
        .then(pl.lit("no detectable difference"))
        .when(gain > 0)
        .then(pl.lit("better"))
        .otherwise(pl.lit("worse"))
    )
    return out.with_columns(
        pl.lit(match).alias("match"),
        pl.col("mean_a").alias("mean_candidate"),
        pl.col("mean_b").alias("mean_baseline"),
        verdict.alias("verdict"),
        pl.col("regressions").cast(pl.Int64),
        pl.col("improvements").cast(pl.Int64),
    ).select(
        "target",
        "metric",
        "match",
        "n_pairs",
        "n_unpaired",
        "repeats",
        "mean_baseline",
        "mean_candidate",
        "diff",
        "diff_lo",
        "diff_hi",
        "interval",
        "test",
        "statistic",
        "p_value",
        "p_holm",
        "regressions",
        "improvements",
        "verdict",
    )


def flips(baseline: Any, candidate: Any, score: str | None = None) -> pl.DataFrame:
    """The cases whose score changed between the runs (per target; case means over repeats).

    Columns: ``target``, ``case_id``, ``baseline``, ``candidate``, ``change``
    (``regression`` | ``improvement``), regressions first.
    """
    run_match(baseline, candidate)
    both = _both(baseline, candidate)
    col = resolve_metric(as_frame(baseline), score)
    if not col.startswith("score_"):
        raise BenchworkError(f"flips are over scores, got {col!r}")
    values = case_values(both, col, "__arm", ["target"])
    cand = values.filter(pl.col("__arm") == "candidate").select("target", "case_id", "__v")
    base = values.filter(pl.col("__arm") == "baseline").select("target", "case_id", "__v")
    joined = base.join(cand, on=["target", "case_id"], how="inner", suffix="_c")
    return (
        joined.filter(pl.col("__v") != pl.col("__v_c"))
        .select(
            "target",
            "case_id",
            pl.col("__v").alias("baseline"),
            pl.col("__v_c").alias("candidate"),
            pl.when(pl.col("__v_c") < pl.col("__v"))
            .then(pl.lit("regression"))
            .otherwise(pl.lit("improvement"))
            .alias("change"),
        )
        .sort(["change", "target", "case_id"], descending=[True, False, False])
    )
