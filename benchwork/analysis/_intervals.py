"""Interval and test primitives, vectorised over groups (numpy; scipy.special for Binomial tails).

Hand-written only where the leaderboard needs them vectorised across groups; each is checked
against its reference in ``tests/analysis`` (statsmodels for Wilson/Holm/cluster SEs,
``scipy.stats.bootstrap`` for the bootstrap intervals).

- ``wilson``: Wilson score interval for k successes in n (as statsmodels ``method="wilson"``).
- ``quantile_ci``: the percentile-bootstrap interval of a sample quantile, computed EXACTLY
  rather than by resampling. In a bootstrap resample of n points, the count of draws at or
  below the j-th smallest value is Binomial(n, j/n), so the r-th order statistic of the
  resample satisfies P(X*_(r) <= x_(j)) = P(Binomial(n, j/n) >= r). Its alpha/2 and 1-alpha/2
  quantiles are found by bisection over j: O(log n) per group, no resamples, and equal to what
  infinitely many resamples would give. For a quantile that interpolates between ranks r and
  r+1 (polars/numpy "linear"), the bounds interpolate the two ranks' exact bounds with the
  same weight; that agrees with ``scipy.stats.bootstrap`` within its Monte-Carlo error.
- ``bootstrap_quantile`` / ``bootstrap_mean``: plain resampling bootstraps, vectorised (an index
  matrix per chunk of resamples, no Python loop per resample), for small samples and tests.
- ``holm``: Holm's step-down adjustment (as statsmodels ``multipletests(method="holm")``);
  NaN p-values are left out of the family and stay NaN.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import numpy.typing as npt

__all__ = [
    "bootstrap_mean",
    "bootstrap_quantile",
    "holm",
    "quantile_ci",
    "wilson",
    "z_value",
]

FloatArray = npt.NDArray[np.float64]
_CHUNK_CELLS = 4_000_000  # resample-matrix cells per chunk (~32 MB of int64 indices)


def z_value(confidence: float) -> float:
    """The two-sided normal critical value for ``confidence`` (1.96 at 0.95)."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    return NormalDist().inv_cdf(0.5 + confidence / 2.0)


def wilson(
    k: npt.ArrayLike, n: npt.ArrayLike, confidence: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Wilson score interval for k successes out of n (NaN where n == 0)."""
    k_, n_ = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    z2 = z_value(confidence) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k_ / n_
        denom = 1.0 + z2 / n_
        center = (p + z2 / (2.0 * n_)) / denom
        half = np.sqrt(z2) * np.sqrt(p * (1.0 - p) / n_ + z2 / (4.0 * n_**2)) / denom
    return np.clip(center - half, 0.0, 1.0), np.clip(center + half, 0.0, 1.0)


def _smallest_rank(n: np.ndarray, r: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Smallest j in 1..n with P(Binomial(n, j/n) >= r) >= p (vectorised bisection)."""
    from scipy.special import bdtrc  # P(X > k); imported lazily: scipy loads in ~0.3 s

    lo, hi = np.ones_like(n), n.copy()
    while np.any(lo < hi):
        mid = (lo + hi) // 2
        ok = bdtrc(r - 1, n, mid / n) >= p
        hi = np.where(ok, mid, hi)
        lo = np.where(ok, lo, mid + 1)
    return lo


def quantile_ci(
    values: FloatArray, starts: np.ndarray, lengths: np.ndarray, q: float, confidence: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per group: the linear-interpolated ``q`` quantile and its exact bootstrap interval.

    ``values`` holds every group's values, each group sorted ascending, group g at
    ``values[starts[g] : starts[g] + lengths[g]]``. Groups with no values give NaN.
    """
    n = np.asarray(lengths, dtype=np.int64)
    starts = np.asarray(starts, dtype=np.int64)
    out = [np.full(n.shape, np.nan) for _ in range(3)]
    has = n > 0
    if not has.any():
        return out[0], out[1], out[2]
    nn, st = n[has], starts[has]
    h = (nn - 1) * q
    base = np.floor(h).astype(np.int64)  # 0-based rank of the lower neighbour
    frac = h - base
    upper = np.minimum(base + 1, nn - 1)
    lower_v, upper_v = values[st + base], values[st + upper]
    out[0][has] = lower_v + (upper_v - lower_v) * frac
    alpha = 1.0 - confidence
    g = nn.size
    ranks = np.concatenate([base + 1, upper + 1, base + 1, upper + 1])  # 1-based
    probs = np.repeat([alpha / 2, alpha / 2, 1 - alpha / 2, 1 - alpha / 2], g)
    j = _smallest_rank(np.tile(nn, 4), ranks, probs)
    bound = values[np.tile(st, 4) + j - 1]
    for i, k in ((1, 0), (2, 2)):
        below, above = bound[k * g : (k + 1) * g], bound[(k + 1) * g : (k + 2) * g]
        out[i][has] = below + (above - below) * frac
    return out[0], out[1], out[2]


def _resampled(x: FloatArray, n_boot: int, seed: int, stat: str, q: float = 0.5) -> FloatArray:
    rng = np.random.default_rng(seed)
    n = x.size
    chunk = max(1, _CHUNK_CELLS // max(n, 1))
    parts = []
    for start in range(0, n_boot, chunk):
        idx = rng.integers(0, n, size=(min(chunk, n_boot - start), n))
        sample = x[idx]
        parts.append(sample.mean(axis=1) if stat == "mean" else np.quantile(sample, q, axis=1))
    return np.concatenate(parts)


def bootstrap_quantile(
    x: npt.ArrayLike, q: float, *, confidence: float = 0.95, n_boot: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """Percentile-bootstrap interval of the ``q`` quantile by resampling (small samples)."""
    arr = np.asarray(x, dtype=float)
    if arr.size == 0:
        return float("nan"), float("nan")
    boots = _resampled(arr, n_boot, seed, "quantile", q)
    a = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(boots, [a, 1.0 - a])
    return float(lo), float(hi)


def bootstrap_mean(
    x: npt.ArrayLike, *, confidence: float = 0.95, n_boot: int = 2000, seed: int = 0
) -> tuple[float, float, float]:
    """Percentile-bootstrap interval of the mean, and a two-sided p-value for mean == 0.

    The p-value is twice the smaller share of resampled means on either side of zero
    (the bootstrap's own sign test, bounded below by 1/n_boot).
    """
    arr = np.asarray(x, dtype=float)
    if arr.size < 2:
        return float("nan"), float("nan"), float("nan")
    boots = _resampled(arr, n_boot, seed, "mean")
    a = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(boots, [a, 1.0 - a])
    if np.all(arr == 0):
        return float(lo), float(hi), 1.0
    tail = min(np.mean(boots <= 0.0), np.mean(boots >= 0.0))
    p = min(1.0, max(2.0 * tail, 1.0 / n_boot))
    return float(lo), float(hi), float(p)


def holm(pvalues: npt.ArrayLike) -> FloatArray:
    """Holm step-down adjusted p-values (family = the non-NaN entries)."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    keep = ~np.isnan(p)
    m = int(keep.sum())
    if m == 0:
        return out
    pk = p[keep]
    order = np.argsort(pk, kind="stable")
    adj = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * pk[order]))
    res = np.empty(m)
    res[order] = adj
    out[keep] = res
    return out
