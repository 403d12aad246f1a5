"""Power: the smallest difference a comparison can detect, and the n it would need.

Paired, continuous (``paired t``): the two-sided paired t-test on case differences with standard
deviation ``sd_diff`` (which holds both variances and their correlation:
``sd_diff^2 = sd_a^2 + sd_b^2 - 2 rho sd_a sd_b``). Power at n and effect delta is
``P(|T| > t_{1-alpha/2, n-1})`` with ``T`` noncentral t (df n-1, noncentrality delta sqrt(n)/sd),
as statsmodels ``TTestPower``; the minimum detectable effect (MDE) and the n are its roots.

Paired, binary (``mcnemar``): the exact power of McNemar's exact test. With ``discordant`` the
share of cases on which the two disagree (psi) and delta = p(a passes, b fails) - p(b passes,
a fails), the discordant count is Binomial(n, psi) and, given m of them, a's share is
Binomial(m, (psi + delta) / (2 psi)); power sums the binomial test's rejection probability over
m. The n search starts from Connor's (1987) approximation
``n = (z_{1-alpha/2} sqrt(psi) + z_power sqrt(psi - delta^2))^2 / delta^2``. ``psi`` is held
at its observed value.

One target: an interval's half-width is ``z * s / sqrt(n)``; the n for a wanted half-width is
``(z s / h)^2`` with ``s^2 = p(1 - p)`` for 0/1 scores (as statsmodels
``samplesize_confint_proportion``) and the sample variance otherwise. With repeats (cluster
intervals) the n scales the current n by ``(half-width now / wanted)^2``, at the same repeats.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import polars as pl

from benchwork.analysis._frames import Results, as_frame, group_keys, is_binary, measured
from benchwork.analysis._intervals import z_value
from benchwork.analysis._scores import score_stats
from benchwork.analysis._targets import compare_targets, resolve_metric
from benchwork.errors import BenchworkError

__all__ = [
    "mcnemar_power",
    "mde_mcnemar",
    "mde_paired",
    "n_for_half_width",
    "n_mcnemar",
    "n_paired",
    "pair_power",
    "paired_t_power",
    "target_power",
]


def _root(f: Callable[[float], float], lo: float, hi: float, xtol: float = 2e-12) -> float:
    """The root of ``f`` in [lo, hi] (scipy's brentq)."""
    from scipy.optimize import brentq

    root: Any = brentq(f, lo, hi, xtol=xtol)
    return float(root)


def _check(alpha: float, power: float) -> None:
    if not (0.0 < alpha < 1.0 and 0.0 < power < 1.0):
        raise BenchworkError(f"alpha and power must be in (0, 1), got {alpha}, {power}")


def paired_t_power(n: float, effect: float, sd_diff: float, alpha: float = 0.05) -> float:
    """Power of the two-sided paired t-test with n cases for a true mean difference ``effect``."""
    from scipy import stats

    if n < 2 or sd_diff <= 0:
        return math.nan
    df, nc = n - 1.0, abs(effect) / sd_diff * math.sqrt(n)
    crit = float(stats.t.isf(alpha / 2.0, df))
    upper, lower = float(stats.nct.sf(crit, df, nc)), float(stats.nct.cdf(-crit, df, nc))
    if math.isnan(upper):  # scipy's nct gives NaN far in the tails
        upper = 1.0 if nc > crit else 0.0
    return upper + (0.0 if math.isnan(lower) else lower)


def mde_paired(n: int, sd_diff: float, *, alpha: float = 0.05, power: float = 0.8) -> float:
    """Smallest mean difference the paired t-test detects with ``power`` at n cases."""
    _check(alpha, power)
    if n < 2 or not sd_diff > 0:
        return math.nan
    hi = sd_diff
    while paired_t_power(n, hi, sd_diff, alpha) < power:
        hi *= 2.0
    return _root(lambda e: paired_t_power(n, e, sd_diff, alpha) - power, 0.0, hi)


def n_paired(effect: float, sd_diff: float, *, alpha: float = 0.05, power: float = 0.8) -> int:
    """Cases the paired t-test needs to detect a mean difference ``effect`` with ``power``."""
    _check(alpha, power)
    if effect == 0 or not sd_diff > 0:
        raise BenchworkError("n_paired needs a nonzero effect and a positive sd_diff")
    hi = 4.0
    while paired_t_power(hi, effect, sd_diff, alpha) < power:
        hi *= 2.0
    root = _root(lambda n: paired_t_power(n, effect, sd_diff, alpha) - power, 2.0, hi)
    return max(2, math.ceil(root - 1e-9))


def _connor_n(delta: float, psi: float, alpha: float, power: float) -> float:
    za, zb = z_value(1.0 - alpha), z_value(2.0 * power - 1.0)
    return (za * math.sqrt(psi) + zb * math.sqrt(psi - delta**2)) ** 2 / delta**2


def mcnemar_power(n: int, effect: float, discordant: float, alpha: float = 0.05) -> float:
    """Exact power of McNemar's exact test (p < alpha) at n cases: a sum over the number of
    discordant cases m ~ Binomial(n, psi) of the binomial test's rejection probability."""
    from scipy import stats

    if n < 1 or not 0 <= abs(effect) <= discordant <= 1:
        return math.nan
    m = np.arange(n + 1)
    crit = stats.binom.ppf(alpha / 2.0, m, 0.5) - 1  # largest k with 2 P(X <= k) < alpha
    crit = np.where(2.0 * stats.binom.cdf(crit + 1, m, 0.5) < alpha, crit + 1, crit)
    q = (discordant + abs(effect)) / (2.0 * discordant) if discordant > 0 else 0.5
    reject = np.where(
        crit >= 0, stats.binom.cdf(crit, m, q) + stats.binom.sf(m - crit - 1, m, q), 0.0
    )
    return float(np.sum(stats.binom.pmf(m, n, discordant) * reject))


def n_mcnemar(effect: float, discordant: float, *, alpha: float = 0.05, power: float = 0.8) -> int:
    """Smallest n at which McNemar's exact test detects ``effect`` (difference in pass rates)
    with ``power`` when the targets disagree on a share ``discordant`` of cases.

    Starts from Connor's (1987) normal approximation and steps to the exact power.
    """
    _check(alpha, power)
    if not 0 < abs(effect) <= discordant <= 1:
        raise BenchworkError(
            f"need 0 < |effect| <= discordant <= 1, got effect={effect}, discordant={discordant}"
        )
    n = max(1, math.floor(0.8 * _connor_n(abs(effect), discordant, alpha, power)))
    while mcnemar_power(n, effect, discordant, alpha) < power:
        n += 1
    return n


def mde_mcnemar(n: int, discordant: float, *, alpha: float = 0.05, power: float = 0.8) -> float:
    """Smallest difference in pass rates McNemar's exact test detects with ``power`` at n."""
    _check(alpha, power)
    if n < 1 or not 0 < discordant <= 1:
        return math.nan
    if mcnemar_power(n, discordant, discordant, alpha) < power:
        return math.nan  # not detectable even if every disagreement went one way
    return _root(lambda d: mcnemar_power(n, d, discordant, alpha) - power, 0.0, discordant, 1e-6)


def n_for_half_width(sd: float, half_width: float, *, confidence: float = 0.95) -> int:
    """Rows a CLT interval needs for half-width ``half_width`` when the rows' sd is ``sd``."""
    if not half_width > 0:
        raise BenchworkError(f"half_width must be positive, got {half_width}")
    return math.ceil((z_value(confidence) * sd / half_width) ** 2 - 1e-9)


def pair_power(
    data: Results,
    metric: str | None = None,
    *,
    effect: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    targets: Sequence[str] | None = None,
    baseline: str | None = None,
    by: str | Sequence[str] | None = None,
) -> pl.DataFrame:
    """Per pair of targets: the MDE at today's n and the n needed for ``effect``.

    Columns: keys and ``n_pairs``, ``diff`` (observed), ``sd_diff``, ``rho``, ``discordant``
    (0/1 scores with one row per case), ``power_method`` (``mcnemar`` | ``paired t``),
    ``mde`` (at ``n_pairs``; null when nothing is detectable at that n), ``effect`` (given, else the observed |diff|), ``n_needed``,
    ``power_now`` (paired t only: power at n_pairs for ``effect``). ``alpha`` is per test:
    pass alpha / number of pairs for a Bonferroni-safe plan.
    """
    _check(alpha, power)
    pairs = compare_targets(
        data, metric, alpha=alpha, targets=targets, baseline=baseline, by=by, test="t"
    )
    keys = [by] if isinstance(by, str) else list(by or [])
    rows = []
    for r in pairs.iter_rows(named=True):
        n, sd = r["n_pairs"], r["sd_diff"] if r["sd_diff"] is not None else math.nan
        eff = abs(effect) if effect is not None else abs(r["diff"] or 0.0)
        mcn = r["a_only"] is not None
        row: dict[str, Any] = {k: r[k] for k in (*keys, "metric", "target_a", "target_b")}
        row.update(n_pairs=n, diff=r["diff"], sd_diff=sd, rho=r["rho"], effect=eff)
        if mcn:
            psi = (r["a_only"] + r["b_only"]) / n if n else math.nan
            row.update(discordant=psi, power_method="mcnemar")
            row["mde"] = mde_mcnemar(n, psi, alpha=alpha, power=power) if psi > 0 else None
            row["n_needed"] = (
                n_mcnemar(eff, psi, alpha=alpha, power=power) if 0 < eff <= psi else None
            )
            row["power_now"] = None
        else:
            ok = sd > 0
            row.update(discordant=None, power_method="paired t")
            row["mde"] = mde_paired(n, sd, alpha=alpha, power=power) if ok else None
            row["n_needed"] = n_paired(eff, sd, alpha=alpha, power=power) if ok and eff else None
            row["power_now"] = paired_t_power(n, eff, sd, alpha) if ok and eff else None
        rows.append(row)
    if not rows:
        return pl.DataFrame()
    return pl.DataFrame(rows, infer_schema_length=None).with_columns(
        pl.col("n_needed").cast(pl.Int64),
        *[
            pl.col(c).cast(pl.Float64).fill_nan(None)
            for c in ("discordant", "mde", "power_now", "rho")
        ],
    )


def target_power(
    data: Results,
    metric: str | None = None,
    *,
    half_width: float | None = None,
    confidence: float = 0.95,
    by: str | Sequence[str] | None = None,
    cluster: str | None = None,
) -> pl.DataFrame:
    """Per target: today's interval half-width and the n for a wanted ``half_width``.

    Columns: keys, ``n`` (scored rows), ``mean``, ``sd``, ``method`` (as the leaderboard),
    ``half_width`` (now: half the leaderboard interval's width), ``wanted_half_width``,
    ``n_needed`` (rows, at today's repeats per case; null when the scores have no spread).
    """
    frame = measured(as_frame(data))
    col = resolve_metric(frame, metric)
    if not col.startswith("score_"):
        raise BenchworkError(f"target_power works on scores, got {col!r}")
    keys = group_keys(frame, by)
    st = score_stats(frame, keys, [col], confidence=confidence, cluster=cluster)
    binary = is_binary(frame, col)
    sd = frame.group_by(keys, maintain_order=True).agg(pl.col(col).std().alias("sd"))
    out = st.join(sd, on=keys, how="left", nulls_equal=True).select(
        *keys,
        pl.col(f"{col}_n").alias("n"),
        pl.col(f"{col}_mean").alias("mean"),
        pl.col("sd"),
        pl.col(f"{col}_method").alias("method"),
    )
    p = out["mean"].to_numpy().astype(float)
    n = out["n"].to_numpy().astype(float)
    method = out["method"].to_list()
    z = z_value(confidence)
    s = np.sqrt(p * (1 - p)) if binary else out["sd"].to_numpy().astype(float)
    clt_hw = z * s / np.sqrt(n)
    lo, hi = st[f"{col}_lo"].to_numpy().astype(float), st[f"{col}_hi"].to_numpy().astype(float)
    hw_now = (hi - lo) / 2.0
    needed: list[int | None] = []
    for i in range(out.height):
        if half_width is None or np.isnan(hw_now[i]) or not s[i] > 0:
            needed.append(None)  # no plan from a sample without spread (all 0s or all 1s)
        elif method[i] == "cluster":  # symmetric CLT-form interval: scales with 1/sqrt(n)
            needed.append(math.ceil(n[i] * (hw_now[i] / half_width) ** 2 - 1e-9))
        else:
            needed.append(n_for_half_width(float(s[i]), half_width, confidence=confidence))
    return out.with_columns(
        pl.Series("half_width", np.where(np.isnan(hw_now), clt_hw, hw_now), nan_to_null=True),
        pl.lit(half_width, dtype=pl.Float64).alias("wanted_half_width"),
        pl.Series("n_needed", needed, dtype=pl.Int64),
    )
