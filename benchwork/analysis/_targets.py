"""``compare_targets``: every pair of targets on the cases both answered, with a paired test.

One row per pair (per ``by`` group); columns:

- keys: ``by`` columns, ``metric``, ``target_a``, ``target_b``.
- ``n_pairs`` (cases both scored), ``n_unpaired`` (cases only one of the two scored: left out,
  never silently), ``repeats`` (most rows per case and target).
- ``mean_a``, ``mean_b``, ``diff`` (mean of a - b over the paired cases), ``diff_lo``,
  ``diff_hi``, ``interval`` (``t`` | ``cluster`` | ``bootstrap``), ``sd_diff``, ``rho`` (the
  correlation of the paired case values: what pairing gains over two independent means).
- ``a_only``, ``b_only``: discordant cases (a passes and b fails, and the reverse) for 0/1 scores.
- ``test`` (``mcnemar`` | ``wilcoxon`` | ``t`` | ``bootstrap``), ``statistic``, ``p_value``,
  ``p_holm`` (Holm over every row of the result: the family), ``significant`` (p_holm < alpha),
  ``better`` (the target that is better, or null), ``verdict`` ("a better", "no detectable
  difference at alpha=0.05", "no paired data"). Score intervals are clipped to [-1, 1].
  Intervals are per pair (not adjusted for multiplicity) while verdicts use the Holm p-value,
  so an interval may exclude 0 while the verdict says no detectable difference.

See ``_paired`` for the intervals and tests. ``verdict_matrix`` turns the rows into the compact
answer to "which targets can we tell apart": a target x target table of ``>``, ``<``, ``≈``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

from benchwork.analysis._frames import (
    Results,
    as_frame,
    is_binary,
    measured,
    pick_score,
    score_columns,
)
from benchwork.analysis._intervals import holm
from benchwork.analysis._paired import Test, lower_is_better, pair_stats
from benchwork.errors import BenchworkError

__all__ = ["PAIR_COLUMNS", "case_values", "compare_targets", "finish_pairs", "verdict_matrix"]

PAIR_COLUMNS = [
    "n_pairs",
    "n_unpaired",
    "repeats",
    "mean_a",
    "mean_b",
    "diff",
    "diff_lo",
    "diff_hi",
    "interval",
    "sd_diff",
    "rho",
    "a_only",
    "b_only",
    "test",
    "statistic",
    "p_value",
    "p_holm",
    "significant",
    "better",
    "verdict",
]


def resolve_metric(frame: pl.DataFrame, metric: str | None) -> str:
    """A score column (``"exact"`` / ``"score_exact"``), or any numeric column (``"ttft_s"``)."""
    if metric is None or f"score_{metric}" in score_columns(frame) or metric.startswith("score_"):
        return pick_score(frame, metric)
    if metric not in frame.columns or not frame.schema[metric].is_numeric():
        raise BenchworkError(
            f"no score or numeric column {metric!r}; scores: {score_columns(frame)}"
        )
    return metric


def case_values(
    frame: pl.DataFrame, metric: str, arm: str, keys: Sequence[str], cluster: str | None = None
) -> pl.DataFrame:
    """One row per (keys, case_id, arm): the mean of the scored rows and how many there were.

    Scores count every measured row (a null score is unscored); any other metric (speed, cost)
    counts the ok calls only.
    """
    if "case_id" not in frame.columns:
        raise BenchworkError("paired comparisons need a 'case_id' column to pair cases")
    rows = measured(frame)
    if not metric.startswith("score_") and "status" in rows.columns:
        rows = rows.filter(pl.col("status") == "ok")
    x = pl.col(metric).cast(pl.Float64)
    rows = rows.filter(x.is_not_null() & x.is_not_nan())
    extra = [pl.col(cluster).first().alias("__cluster")] if cluster else []
    return rows.group_by([*keys, "case_id", arm], maintain_order=True).agg(
        x.mean().alias("__v"), pl.len().alias("__rows"), *extra
    )


def finish_pairs(rows: list[dict[str, Any]], metric: str, alpha: float) -> pl.DataFrame:
    """Holm across the rows, then ``significant``, ``better`` and ``verdict``."""
    if not rows:
        return pl.DataFrame()
    p_holm = holm(np.array([r["p_value"] for r in rows], dtype=float))
    low = lower_is_better(metric)
    for r, ph in zip(rows, p_holm, strict=True):
        r["p_holm"] = None if np.isnan(ph) else float(ph)
        sig = r["p_holm"] is not None and r["p_holm"] < alpha and r["diff"] != 0
        r["significant"] = bool(sig)
        a_wins = (r["diff"] > 0) != low
        r["better"] = (r["target_a"] if a_wins else r["target_b"]) if sig else None
        r["verdict"] = (
            f"{r['better']} better"
            if sig
            else f"no detectable difference at alpha={alpha:g}"
            if r["n_pairs"]
            else "no paired data"
        )
        if metric.startswith("score_"):  # scores lie in [0, 1], so differences in [-1, 1]
            for k in ("diff_lo", "diff_hi"):
                r[k] = min(1.0, max(-1.0, r[k])) if not np.isnan(r[k]) else r[k]
    frame = pl.DataFrame(rows, infer_schema_length=None)
    floats = ("mean_a", "mean_b", "diff", "diff_lo", "diff_hi", "sd_diff", "rho", "statistic")
    return frame.with_columns(
        *[pl.col(c).cast(pl.Float64).fill_nan(None) for c in (*floats, "p_value", "p_holm")],
        *[pl.col(c).cast(pl.Int64) for c in ("n_pairs", "a_only", "b_only")],
        pl.col("better").cast(pl.String),
    )


def compare_targets(
    data: Results,
    metric: str | None = None,
    *,
    alpha: float = 0.05,
    confidence: float | None = None,
    test: Test = "auto",
    targets: Sequence[str] | None = None,
    baseline: str | None = None,
    by: str | Sequence[str] | None = None,
    cluster: str | None = None,
    n_boot: int = 2000,
    seed: int = 0,
) -> pl.DataFrame:
    """One row per pair of targets: paired difference with interval, test, Holm p, verdict.

    ``metric``: a score (default: the first) or a numeric column such as ``ttft_s``.
    ``targets``: which targets and in what order (default: all, best mean first);
    ``baseline``: compare every other target with this one only (a smaller Holm family).
    ``confidence`` of the interval defaults to ``1 - alpha``. ``by`` compares within groups
    (a tag or metadata column constant per case); ``cluster`` names a column of cases that
    share a context (cluster-robust interval and t-test).
    """
    if not 0.0 < alpha < 1.0:
        raise BenchworkError(f"alpha must be in (0, 1), got {alpha}")
    conf = 1.0 - alpha if confidence is None else confidence
    frame = as_frame(data)
    col = resolve_metric(frame, metric)
    keys = [by] if isinstance(by, str) else list(by or [])
    for c in [*keys, *([cluster] if cluster else [])]:
        if c not in frame.columns:
            raise BenchworkError(f"no column {c!r}; columns: {frame.columns}")
    binary = is_binary(measured(frame), col)
    values = case_values(frame, col, "target", keys, cluster)
    rows: list[dict[str, Any]] = []
    parts = values.partition_by(keys, maintain_order=True, as_dict=True) if keys else {(): values}
    for key, part in parts.items():
        key_t = key if isinstance(key, tuple) else (key,)
        means = part.group_by("target", maintain_order=True).agg(pl.col("__v").mean())
        order = means.sort("__v", descending=not lower_is_better(col))["target"].to_list()
        names = [t for t in (targets or order) if t in order]
        if targets and len(names) < len(targets):
            missing = sorted(set(targets) - set(order))
            raise BenchworkError(f"no scored rows for target(s) {missing} ({col})")
        if baseline is not None and baseline not in names:
            raise BenchworkError(f"baseline {baseline!r} is not among the targets {names}")
        pairs = (
            [(t, baseline) for t in names if t != baseline]
            if baseline is not None
            else [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]
        )
        by_target = {t: part.filter(pl.col("target") == t) for t in names}
        for ta, tb in pairs:
            joined = by_target[ta].join(by_target[tb], on="case_id", how="full", suffix="_b")
            both = joined.filter(pl.col("__v").is_not_null() & pl.col("__v_b").is_not_null())
            repeats = int(both.select(pl.max_horizontal("__rows", "__rows_b").max()).item() or 0)
            stats = pair_stats(
                both["__v"].to_numpy(),
                both["__v_b"].to_numpy(),
                binary=binary,
                repeats=repeats,
                groups=both["__cluster"].to_numpy() if cluster else None,
                test=test,
                confidence=conf,
                n_boot=n_boot,
                seed=seed,
            )
            rows.append(
                {
                    **dict(zip(keys, key_t, strict=True)),
                    "metric": col,
                    "target_a": ta,
                    "target_b": tb,
                    **stats,
                    "n_unpaired": joined.height - both.height,
                    "repeats": repeats,
                }
            )
    out = finish_pairs(rows, col, alpha)
    if out.is_empty():
        return out
    return out.select(*keys, "metric", "target_a", "target_b", *PAIR_COLUMNS)


def verdict_matrix(pairs: pl.DataFrame) -> pl.DataFrame:
    """Target x target: ``>`` (row better), ``<`` (column better), ``≈`` (not told apart)."""
    names: list[str] = []
    for t in [*pairs["target_a"].to_list(), *pairs["target_b"].to_list()]:
        if t not in names:
            names.append(t)
    cell = {(t, t): "" for t in names}
    for r in pairs.iter_rows(named=True):
        a, b, better = r["target_a"], r["target_b"], r["better"]
        cell[(a, b)] = ">" if better == a else "<" if better == b else "≈"
        cell[(b, a)] = {">": "<", "<": ">"}.get(cell[(a, b)], "≈")
    return pl.DataFrame({"target": names, **{c: [cell.get((r, c)) for r in names] for c in names}})
