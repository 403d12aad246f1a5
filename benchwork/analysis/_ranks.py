"""Ranks that admit ties where intervals overlap.

Higher is better (``descending=True``): a target's best possible rank is 1 + the number of
targets whose interval lies entirely above its own (lo_j > hi_i); its worst is the number of
targets whose interval reaches its own lower end or beyond (hi_j >= lo_i, itself included).
So a target ranks "1" only when its interval clears every other one, and two overlapping
leaders both read "1–2". Lower-is-better metrics mirror this. Without intervals the ranks
are plain competition ranks of the values (equal values tie). Null values get no rank.
"""

from __future__ import annotations

import numpy as np
import polars as pl

__all__ = ["interval_ranks"]


def _ranks(
    v: np.ndarray, lo: np.ndarray, hi: np.ndarray, desc: bool
) -> tuple[np.ndarray, np.ndarray]:
    if not desc:
        v, lo, hi = -v, -hi, -lo
    valid = ~np.isnan(v)
    lo = np.where(np.isnan(lo), v, lo)
    hi = np.where(np.isnan(hi), v, hi)
    lo_v, hi_v = lo[valid], hi[valid]
    best = 1 + (lo_v[None, :] > hi_v[:, None]).sum(axis=1)
    worst = (hi_v[None, :] >= lo_v[:, None]).sum(axis=1)
    b, w = np.full(v.shape, np.nan), np.full(v.shape, np.nan)
    b[valid], w[valid] = best, worst
    return b, w


def interval_ranks(
    frame: pl.DataFrame,
    value: str,
    lo: str | None,
    hi: str | None,
    *,
    descending: bool,
    partition: list[str],
) -> pl.DataFrame:
    """``frame`` with ``rank_best``, ``rank_worst`` and ``rank`` ("1", "1–2") added."""
    idx = frame.with_row_index("__row")
    parts = idx.partition_by(partition, maintain_order=True) if partition else [idx]
    rows, best, worst = [], [], []
    for part in parts:
        v = part[value].cast(pl.Float64).fill_nan(None).to_numpy().astype(float)
        lv = part[lo].cast(pl.Float64).to_numpy().astype(float) if lo else np.full(v.shape, np.nan)
        hv = part[hi].cast(pl.Float64).to_numpy().astype(float) if hi else np.full(v.shape, np.nan)
        b, w = _ranks(v, lv, hv, descending)
        rows.append(part["__row"].to_numpy())
        best.append(b)
        worst.append(w)
    order = np.argsort(np.concatenate(rows)) if rows else np.zeros(0, np.int64)
    b_all = pl.Series("rank_best", np.concatenate(best)[order] if best else [], nan_to_null=True)
    w_all = pl.Series("rank_worst", np.concatenate(worst)[order] if worst else [], nan_to_null=True)
    out = frame.with_columns(b_all.cast(pl.Int64), w_all.cast(pl.Int64))
    label = (
        pl.when(pl.col("rank_best") == pl.col("rank_worst"))
        .then(pl.col("rank_best").cast(pl.String))
        .otherwise(pl.format("{}–{}", "rank_best", "rank_worst"))
    )
    return out.with_columns(label.alias("rank"))
