"""Per-group score means with intervals: Wilson, CLT or cluster-robust (one pass in Polars).

Columns per score ``score_<name>``: ``_mean``, ``_lo``, ``_hi``, ``_n`` (scored rows),
``_unscored`` (rows with a null score), ``_method`` (``wilson`` | ``clt`` | ``cluster``).

- ``wilson``: every value is 0 or 1 and no clustering applies.
- ``clt``: mean +/- z * s / sqrt(n), s with ddof=1 (normal critical value, as in Miller 2024).
- ``cluster``: cluster-robust (CR1) standard error of the mean, i.e. an intercept-only OLS with
  ``cov_type="cluster"`` in statsmodels and its default small-sample factor G/(G-1):
  SE^2 = G/(G-1) * sum_g (sum_{i in g} (y_i - mean))^2 / N^2, normal critical value (statsmodels'
  default ``use_t=False``). With one row per cluster it equals the CLT standard error.
  Applies when a cluster column is named, or (by default) when some case has more than one
  scored row in the group (repeats), with cluster = ``case_id``. Needs >= 2 clusters.
Score intervals are clipped to [0, 1], the range of every score.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from benchwork.analysis._frames import is_binary
from benchwork.analysis._intervals import wilson, z_value

__all__ = ["score_stats"]


def score_stats(
    frame: pl.DataFrame,
    keys: list[str],
    cols: list[str],
    *,
    confidence: float = 0.95,
    cluster: str | None = None,
) -> pl.DataFrame:
    """One row per ``keys`` group with mean, interval, n, unscored and method per score."""
    auto = cluster is None and "case_id" in frame.columns
    ccol = cluster or ("case_id" if auto else None)
    base = frame.group_by(keys, maintain_order=True).agg(
        e
        for c in cols
        for e in (
            pl.col(c).mean().alias(f"{c}_mean"),
            pl.col(c).count().cast(pl.Int64).alias(f"{c}_n"),
            pl.col(c).null_count().cast(pl.Int64).alias(f"{c}_unscored"),
            pl.col(c).std().alias(f"{c}__sd"),
        )
    )
    if ccol is not None and cols:
        sums = frame.group_by([*keys, ccol]).agg(
            e
            for c in cols
            for e in (pl.col(c).sum().alias(f"{c}__s"), pl.col(c).count().alias(f"{c}__m"))
        )
        sums = sums.join(
            base.select(*keys, *[f"{c}_mean" for c in cols]), on=keys, nulls_equal=True
        )
        cl = sums.group_by(keys).agg(
            e
            for c in cols
            for e in (
                (pl.col(f"{c}__m") > 0).sum().alias(f"{c}__g"),
                ((pl.col(f"{c}__s") - pl.col(f"{c}__m") * pl.col(f"{c}_mean")) ** 2)
                .sum()
                .alias(f"{c}__ss"),
                pl.col(f"{c}__m").max().alias(f"{c}__maxm"),
            )
        )
        base = base.join(cl, on=keys, how="left", nulls_equal=True, maintain_order="left")
    z = z_value(confidence)
    out = []
    for c in cols:
        mean = base[f"{c}_mean"].to_numpy().astype(float)
        n = base[f"{c}_n"].to_numpy().astype(float)
        sd = base[f"{c}__sd"].to_numpy().astype(float)
        binary = is_binary(frame, c)
        if ccol is not None:
            g = base[f"{c}__g"].fill_null(0).to_numpy().astype(float)
            ss = base[f"{c}__ss"].to_numpy().astype(float)
            maxm = base[f"{c}__maxm"].fill_null(0).to_numpy()
            clustered = (maxm > 1) if auto else np.ones(n.shape, bool)
        else:
            g = ss = np.zeros(n.shape)
            clustered = np.zeros(n.shape, bool)
        with np.errstate(divide="ignore", invalid="ignore"):
            se_clt = sd / np.sqrt(n)
            se_cl = np.sqrt(g / (g - 1.0) * ss) / n
        se = np.where(clustered, np.where(g >= 2, se_cl, np.nan), se_clt)
        lo, hi = mean - z * se, mean + z * se
        if binary:
            wlo, whi = wilson(mean * n, n, confidence)
            lo, hi = np.where(clustered, lo, wlo), np.where(clustered, hi, whi)
        method = np.where(clustered, "cluster", "wilson" if binary else "clt")
        out += [
            pl.Series(f"{c}_lo", np.clip(lo, 0.0, 1.0), nan_to_null=True),
            pl.Series(f"{c}_hi", np.clip(hi, 0.0, 1.0), nan_to_null=True),
            pl.Series(f"{c}_method", method, dtype=pl.String),
        ]
    order = [f"{c}_{s}" for c in cols for s in ("mean", "lo", "hi", "n", "unscored", "method")]
    return base.with_columns(out).select(*keys, *order)
