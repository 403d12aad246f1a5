"""``leaderboard``: one row per target (per ``by`` group), every figure with its interval.

Columns (``<u>`` is ``_s`` for seconds, nothing for tok/s):

- keys: ``by`` columns then ``target``; ``rank`` ("1", "1–2"), ``rank_best``, ``rank_worst``
  (see ``_ranks``; over the ``sort`` metric, within each ``by`` group).
- ``calls``, ``errors``, ``error_rate`` with Wilson ``error_rate_lo``/``_hi``, ``cached``.
- per score ``score_<name>``: ``_mean``, ``_lo``, ``_hi``, ``_n``, ``_unscored``, ``_method``
  (``wilson`` | ``clt`` | ``cluster``; see ``_scores``).
- speed: ``speed_from`` (``live`` | ``all`` | ``cached (original timings)`` | ``none``),
  ``speed_n``; per metric ``<stem>_p50<u>``, ``_p50_lo<u>``, ``_p50_hi<u>``, ``_p95...``,
  ``<stem>_std<u>``, ``<stem>_outliers``; ``ttft_cv``/``ttft_jitter``,
  ``latency_cv``/``latency_jitter`` (see ``_speed``). Stems: ttft, latency, output_tps, itl_mean.
- tokens and cost: ``input_tokens``, ``output_tokens``, ``cost_usd`` (total over ok calls; null
  when ANY ok call's cost is unknown, never a partial sum), ``cost_per_call_usd``,
  ``cost_unknown`` (ok calls with unknown cost).
- value: ``score_<name>_per_usd`` (mean score per dollar per call), ``output_tps_per_usd``
  (p50 tok/s per dollar per call); null when the cost is unknown or zero, and ``value_note``
  says which.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import polars as pl

from benchwork.analysis._frames import Results, as_frame, group_keys, measured, score_columns
from benchwork.analysis._intervals import wilson
from benchwork.analysis._ranks import interval_ranks
from benchwork.analysis._scores import score_stats
from benchwork.analysis._speed import metric_stem, speed_stats
from benchwork.errors import BenchworkError

__all__ = ["leaderboard", "outliers", "speed_rows"]

_LOWER_IS_BETTER = ("ttft", "latency", "itl", "cost", "error", "errors")


def speed_rows(frame: pl.DataFrame, keys: list[str], speed: str) -> tuple[pl.Expr, pl.Expr]:
    """(row filter, per-group label): live ok calls, or all ok calls where a group has none."""
    if speed not in ("live", "all"):
        raise BenchworkError(f"speed must be 'live' or 'all', got {speed!r}")
    ok = pl.col("status") == "ok" if "status" in frame.columns else pl.lit(True)
    live = ok & ~pl.col("cached").fill_null(False) if "cached" in frame.columns else ok
    has_live = live.any().over(keys)
    if speed == "all":
        return ok, pl.when(ok.any()).then(pl.lit("all")).otherwise(pl.lit("none"))
    label = (
        pl.when(live.any())
        .then(pl.lit("live"))
        .when(ok.any())
        .then(pl.lit("cached (original timings)"))
        .otherwise(pl.lit("none"))
    )
    return live | (ok & ~has_live), label


def _bounds(out: pl.DataFrame, metric: str) -> tuple[str, str | None, str | None]:
    """The column to sort on and its interval columns, from a loose metric name."""
    name = metric
    if not name.startswith("score_") and f"score_{name}_mean" in out.columns:
        name = f"score_{name}"
    if f"{name}_mean" in out.columns:
        name = f"{name}_mean"
    if name not in out.columns:
        raise BenchworkError(f"cannot sort by {metric!r}; columns: {out.columns}")
    if name.endswith("_mean") or name == "error_rate":
        stem = name.removesuffix("_mean")
        return name, f"{stem}_lo", f"{stem}_hi"
    stem, u = metric_stem(name)
    lo, hi = f"{stem}_lo{u}", f"{stem}_hi{u}"
    if lo in out.columns and hi in out.columns:
        return name, lo, hi
    return name, None, None


def leaderboard(
    data: Results,
    *,
    confidence: float = 0.95,
    by: str | Sequence[str] | None = None,
    cluster: str | None = None,
    sort: str | None = None,
    descending: bool | None = None,
    speed: Literal["live", "all"] = "live",
    jitter_thresholds: tuple[float, float] = (0.1, 0.3),
    n_boot: int = 2000,
    seed: int = 0,
    speed_ci: Literal["exact", "resample"] = "exact",
) -> pl.DataFrame:
    """One row per target with every score and speed figure carrying its interval and n."""
    frame = measured(as_frame(data))
    keys = group_keys(frame, by)
    if cluster is not None and cluster not in frame.columns:
        raise BenchworkError(f"no cluster column {cluster!r}; columns: {frame.columns}")
    t1, t2 = jitter_thresholds
    if not 0 < t1 <= t2:
        raise BenchworkError(
            f"jitter_thresholds must satisfy 0 < t1 <= t2, got {jitter_thresholds}"
        )
    scores = score_columns(frame)
    has = set(frame.columns)
    ok = pl.col("status") == "ok" if "status" in has else pl.lit(True)
    keep, speed_label = speed_rows(frame, keys, speed)
    cost = pl.col("cost_usd").filter(ok)
    aggs: list[pl.Expr] = [
        pl.len().cast(pl.Int64).alias("calls"),
        (~ok).sum().cast(pl.Int64).alias("errors"),
        (pl.col("cached").fill_null(False).sum() if "cached" in has else pl.lit(0))
        .cast(pl.Int64)
        .alias("cached"),
        ok.sum().cast(pl.Int64).alias("__ok"),
        speed_label.alias("speed_from"),
    ]
    for col in ("input_tokens", "output_tokens"):
        if col in has:
            aggs.append(pl.col(col).filter(ok).sum().alias(col))
    if "cost_usd" in has:
        aggs += [
            pl.when(cost.null_count() == 0).then(cost.sum()).otherwise(None).alias("cost_usd"),
            cost.null_count().cast(pl.Int64).alias("cost_unknown"),
        ]
    base = frame.group_by(keys, maintain_order=True).agg(aggs).with_row_index("__gid")
    base = base.with_columns(pl.col("__gid").cast(pl.Int64))
    n_groups = base.height
    tagged = frame.join(base.select(*keys, "__gid"), on=keys, how="left", nulls_equal=True)
    fast = tagged.filter(keep)
    speed_n = np.bincount(fast["__gid"].to_numpy(), minlength=n_groups) if n_groups else []
    speed_df = speed_stats(
        fast,
        n_groups,
        confidence=confidence,
        jitter_thresholds=jitter_thresholds,
        ci=speed_ci,
        n_boot=n_boot,
        seed=seed,
    ).with_columns(pl.Series("speed_n", speed_n, dtype=pl.Int64))
    err_lo, err_hi = wilson(base["errors"].to_numpy(), base["calls"].to_numpy(), confidence)
    out = base.with_columns(
        (pl.col("errors") / pl.col("calls")).alias("error_rate"),
        pl.Series("error_rate_lo", err_lo, nan_to_null=True),
        pl.Series("error_rate_hi", err_hi, nan_to_null=True),
    )
    if scores:
        stats = score_stats(tagged, ["__gid"], scores, confidence=confidence, cluster=cluster)
        out = out.join(stats, on="__gid", how="left")
    out = out.join(speed_df, on="__gid", how="left").sort("__gid")
    if "cost_usd" in has:
        per_call = (pl.col("cost_usd") / pl.col("__ok")).alias("cost_per_call_usd")
        out = out.with_columns(per_call)
        priced = pl.col("cost_per_call_usd") > 0
        out = out.with_columns(
            *[
                pl.when(priced)
                .then(pl.col(f"{s}_mean") / pl.col("cost_per_call_usd"))
                .alias(f"{s}_per_usd")
                for s in scores
            ],
            pl.when(priced)
            .then(pl.col("output_tps_p50") / pl.col("cost_per_call_usd"))
            .alias("output_tps_per_usd"),
            pl.when(pl.col("cost_per_call_usd").is_null())
            .then(pl.lit("cost unknown"))
            .when(pl.col("cost_per_call_usd") == 0)
            .then(pl.lit("cost zero"))
            .alias("value_note"),
        )
    metric = sort or (f"{scores[0]}_mean" if scores else "latency_p50_s")
    name, lo, hi = _bounds(out, metric)
    if descending is None:
        stem = name.removeprefix("score_")
        descending = name.startswith("score_") or not any(
            stem.startswith(p) for p in _LOWER_IS_BETTER
        )
    by_cols = keys[:-1]
    out = interval_ranks(out, name, lo, hi, descending=descending, partition=by_cols)
    out = out.sort(
        [*by_cols, name], descending=[False] * len(by_cols) + [descending], nulls_last=True
    )
    lead = [*keys, "rank", "rank_best", "rank_worst", "calls", "errors", "error_rate"]
    lead += ["error_rate_lo", "error_rate_hi", "cached"]
    score_block = [c for c in out.columns if c.startswith("score_") and not c.endswith("_per_usd")]
    rest = [c for c in out.columns if c not in {*lead, *score_block, "__gid", "__ok"}]
    return out.select(*lead, *score_block, *rest)


def outliers(
    data: Results,
    metric: str = "ttft_s",
    *,
    by: str | Sequence[str] = "target",
    speed: Literal["live", "all"] = "live",
) -> pl.DataFrame:
    """The rows beyond 1.5 x IQR of their group (as counted in ``leaderboard``), with fences."""
    frame = measured(as_frame(data))
    keys = group_keys(frame, by) if by != "target" else ["target"]
    if metric not in frame.columns:
        raise BenchworkError(f"no column {metric!r}; columns: {frame.columns}")
    keep, _ = speed_rows(frame, keys, speed)
    x = pl.col(metric)
    q1, q3 = x.quantile(0.25, "linear").over(keys), x.quantile(0.75, "linear").over(keys)
    rows = frame.filter(keep & x.is_not_null() & x.is_not_nan()).with_columns(
        (q1 - 1.5 * (q3 - q1)).alias(f"{metric}_fence_lo"),
        (q3 + 1.5 * (q3 - q1)).alias(f"{metric}_fence_hi"),
    )
    return rows.filter((x < pl.col(f"{metric}_fence_lo")) | (x > pl.col(f"{metric}_fence_hi")))
