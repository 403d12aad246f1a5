"""Paired comparison of two arms on the same cases: mean difference, interval and test.

An *arm* is a target (``compare_targets``) or a run (``compare_runs``). Both arms are reduced to
one value per case (the mean of its repeats), so each case contributes one paired difference
``d_i = a_i - b_i``; the estimate is the mean of ``d_i`` over the cases both arms scored.

Interval (``interval`` column):

- ``t``: ``mean(d) +/- t_{G-1} * sd(d) / sqrt(G)`` over G cases (as ``scipy.stats.ttest_rel``'s
  confidence interval).
- ``cluster``: the same over case means when some case has repeats. Averaging the repeats within
  a case and using the spread of the case-level differences is the cluster-robust (CR1)
  standard error with cluster = case (Miller 2024, section 2.2). When a ``cluster`` column is
  named (cases sharing a context), the case differences are clustered again by it:
  ``SE^2 = G/(G-1) * sum_g (sum_{i in g} (d_i - mean d))^2 / N^2`` over G clusters, t with G-1 df.
- ``bootstrap``: percentile bootstrap of ``mean(d)`` over cases (``test="bootstrap"``).

Tests (``test`` column; ``auto`` picks the first that applies):

- ``mcnemar``: McNemar's exact test (binomial on the discordant cases ``a_only``/``b_only``),
  for 0/1 scores with one row per case and arm, as statsmodels ``mcnemar(exact=True)``.
- ``t``: paired t-test on the case differences (binary scores with repeats; or with a named
  cluster column, the cluster-robust t-test).
- ``wilcoxon``: Wilcoxon signed-rank test on the case differences (continuous scores, speed),
  as ``scipy.stats.wilcoxon`` with its defaults (zero differences dropped).
- ``bootstrap``: the paired bootstrap's two-sided p-value (``_intervals.bootstrap_mean``).
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Literal

import numpy as np

from benchwork.analysis._intervals import bootstrap_mean

__all__ = ["TESTS", "lower_is_better", "pair_stats"]

TESTS = ("auto", "mcnemar", "wilcoxon", "t", "bootstrap")
Test = Literal["auto", "mcnemar", "wilcoxon", "t", "bootstrap"]
_LOWER_IS_BETTER = ("ttft", "latency", "itl", "cost", "error", "prefill")


def lower_is_better(metric: str) -> bool:
    """True for speed-as-time, cost and error metrics (``ttft_s``, ``latency_s``, ``cost_usd``)."""
    return metric.removeprefix("score_").startswith(_LOWER_IS_BETTER)


def _cluster_se(d: np.ndarray, groups: np.ndarray) -> tuple[float, int]:
    """CR1 standard error of mean(d) with clusters ``groups``, and the number of clusters."""
    _, inverse = np.unique(groups, return_inverse=True)
    g = int(inverse.max()) + 1 if inverse.size else 0
    if g < 2:
        return math.nan, g
    sums = np.bincount(inverse, weights=d - d.mean(), minlength=g)
    return math.sqrt(g / (g - 1) * float(np.sum(sums**2))) / d.size, g


def _pick_test(test: str, binary: bool, repeats: int, clustered: bool) -> str:
    if test not in TESTS:
        raise ValueError(f"test must be one of {TESTS}, got {test!r}")
    if test != "auto":
        return test
    if clustered:
        return "t"
    if binary:
        return "mcnemar" if repeats <= 1 else "t"
    return "wilcoxon"


def pair_stats(
    a: np.ndarray,
    b: np.ndarray,
    *,
    binary: bool,
    repeats: int,
    groups: np.ndarray | None = None,
    test: str = "auto",
    confidence: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    """Statistics for paired case values ``a`` and ``b`` (one entry per case, no nulls)."""
    from scipy import stats  # lazily: scipy.stats loads in ~0.3 s

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    d = a - b
    n = d.size
    clustered = groups is not None
    chosen = _pick_test(test, binary, repeats, clustered)
    if chosen == "mcnemar" and (not binary or repeats > 1 or clustered):
        raise ValueError("McNemar's test needs 0/1 scores with one row per case and arm")
    out: dict[str, Any] = {
        "n_pairs": n,
        "mean_a": float(a.mean()) if n else math.nan,
        "mean_b": float(b.mean()) if n else math.nan,
        "diff": float(d.mean()) if n else math.nan,
        "sd_diff": float(d.std(ddof=1)) if n > 1 else math.nan,
        "rho": math.nan,
        "a_only": None,
        "b_only": None,
        "interval": "cluster" if clustered or repeats > 1 else "t",
        "test": chosen,
        "statistic": math.nan,
        "p_value": math.nan,
        "diff_lo": math.nan,
        "diff_hi": math.nan,
    }
    if n > 1 and a.std() > 0 and b.std() > 0:
        out["rho"] = float(np.corrcoef(a, b)[0, 1])
    if binary and repeats <= 1:
        out["a_only"] = int(np.sum((a == 1) & (b == 0)))
        out["b_only"] = int(np.sum((a == 0) & (b == 1)))
    if n < 2:
        return out
    if clustered:
        se, g = _cluster_se(d, np.asarray(groups))
        df = g - 1
    else:
        se, df = out["sd_diff"] / math.sqrt(n), n - 1
    if df >= 1 and se == se:
        tcrit = float(stats.t.ppf(0.5 + confidence / 2.0, df))
        out["diff_lo"], out["diff_hi"] = out["diff"] - tcrit * se, out["diff"] + tcrit * se
    if chosen == "mcnemar":
        k, m = min(out["a_only"], out["b_only"]), out["a_only"] + out["b_only"]
        out["statistic"] = float(k)
        out["p_value"] = 1.0 if m == 0 else min(1.0, 2.0 * float(stats.binom.cdf(k, m, 0.5)))
    elif chosen == "t":
        if se > 0 and df >= 1:
            t_stat = out["diff"] / se
            out["statistic"] = t_stat
            out["p_value"] = float(2.0 * stats.t.sf(abs(t_stat), df))
        elif se == 0:
            out["p_value"] = 1.0 if out["diff"] == 0 else 0.0
    elif chosen == "wilcoxon":
        if np.all(d == 0):
            out["p_value"] = 1.0
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # scipy warns on ties/small n; p is still right
                res: Any = stats.wilcoxon(a, b)
            out["statistic"], out["p_value"] = float(res.statistic), float(res.pvalue)
    else:  # bootstrap
        lo, hi, p = bootstrap_mean(d, confidence=confidence, n_boot=n_boot, seed=seed)
        out.update(diff_lo=lo, diff_hi=hi, p_value=p, interval="bootstrap")
    return out
