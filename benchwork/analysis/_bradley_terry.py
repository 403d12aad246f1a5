"""Bradley–Terry strengths from pairwise judge verdicts, with bootstrap intervals.

P(i beats j) = p_i / (p_i + p_j). Strengths are fitted by Hunter's (2004) MM iteration
``p_i <- W_i / sum_j n_ij / (p_i + p_j)`` (W_i wins, n_ij comparisons; a tie is half a win
each) and reported as ``strength`` = log p_i centred to mean 0, the coefficients of the
no-intercept logistic regression of "i beat j" on +1/-1 indicators (checked against statsmodels
GLM). Intervals: percentile bootstrap over verdicts, all resamples fitted at once (a
multinomial draw of each outcome's count per resample, then the MM iteration on a
(resamples x targets) array: no Python loop per resample). As in Chatbot Arena, the
bootstrap resamples verdicts; ranks tie where intervals overlap (``_ranks``).

A target that wins (or loses) every game has no finite maximum-likelihood strength, so by
default each pair that played also gets ``prior`` = 0.5 virtual ties (half a win each way):
a weak prior that keeps strengths finite and shrinks them a little towards 0 (negligible with
hundreds of verdicts). ``prior=0`` gives the plain MLE.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import polars as pl

from benchwork.analysis._ranks import interval_ranks
from benchwork.errors import BenchworkError

__all__ = ["bradley_terry", "bt_fit", "verdicts"]

_ITER, _TOL = 10_000, 1e-10


def verdicts(comparisons: Any) -> pl.DataFrame:
    """``target_a``, ``target_b``, ``winner`` rows from a frame that has them, or from a dict
    ``{(a, b): bw.compare frame}`` (whose ``winner`` is ``a`` | ``b`` | ``tie``)."""
    if isinstance(comparisons, Mapping):
        parts = []
        for key, frame in comparisons.items():
            if not (isinstance(key, tuple) and len(key) == 2):
                raise BenchworkError("keys must be (target_a, target_b) tuples")
            parts.append(
                frame.select(
                    pl.lit(str(key[0])).alias("target_a"),
                    pl.lit(str(key[1])).alias("target_b"),
                    pl.col("winner"),
                )
            )
        if not parts:
            raise BenchworkError("no comparisons")
        comparisons = pl.concat(parts)
    if not isinstance(comparisons, pl.DataFrame):
        raise BenchworkError("expected a frame or a {(target_a, target_b): frame} dict")
    missing = {"target_a", "target_b", "winner"} - set(comparisons.columns)
    if missing:
        raise BenchworkError(f"pairwise verdicts need columns {sorted(missing)}")
    return comparisons.filter(pl.col("winner").is_in(["a", "b", "tie"]))


def bt_fit(wins: np.ndarray, games: np.ndarray) -> np.ndarray:
    """Log-strengths (mean 0) for each row of ``wins`` (..., k) and ``games`` (..., k, k)."""
    w = np.asarray(wins, dtype=float)
    n = np.asarray(games, dtype=float)
    p = np.ones_like(w)
    for _ in range(_ITER):
        denom = (n / (p[..., :, None] + p[..., None, :])).sum(axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            new = np.where(denom > 0, w / denom, p)
        new = np.maximum(new, 1e-300)
        new /= np.exp(np.log(new).mean(axis=-1, keepdims=True))
        done = np.max(np.abs(np.log(new) - np.log(p))) < _TOL
        p = new
        if done:
            break
    log_p = np.log(p)
    return log_p - log_p.mean(axis=-1, keepdims=True)


def _counts(
    rows: pl.DataFrame, names: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per distinct (i, j, outcome): indices i, j, outcome (0 a wins, 1 b wins, 2 tie), count."""
    index = {t: k for k, t in enumerate(names)}
    g = rows.group_by("target_a", "target_b", "winner").len()
    i = np.array([index[t] for t in g["target_a"]], dtype=np.int64)
    j = np.array([index[t] for t in g["target_b"]], dtype=np.int64)
    o = np.array([{"a": 0, "b": 1, "tie": 2}[w] for w in g["winner"]], dtype=np.int64)
    return i, j, o, g["len"].to_numpy().astype(float)


def _tables(
    i: np.ndarray, j: np.ndarray, o: np.ndarray, c: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Wins (..., k) and games (..., k, k) from outcome counts ``c`` (..., m)."""
    lead = c.shape[:-1]
    flat = c.reshape(-1, c.shape[-1])
    r = np.arange(flat.shape[0])[:, None]
    a_win = np.where(o == 0, 1.0, np.where(o == 2, 0.5, 0.0))
    wins = np.zeros((flat.shape[0], k))
    games = np.zeros((flat.shape[0], k, k))
    np.add.at(wins, (r, i[None, :]), flat * a_win)
    np.add.at(wins, (r, j[None, :]), flat * (1.0 - a_win))
    np.add.at(games, (r, i[None, :], j[None, :]), flat)
    np.add.at(games, (r, j[None, :], i[None, :]), flat)
    wins, games = wins.reshape(*lead, k), games.reshape(*lead, k, k)
    return wins, games


def bradley_terry(
    comparisons: Any,
    *,
    confidence: float = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
    prior: float = 0.5,
) -> pl.DataFrame:
    """One row per target: ``strength`` (log scale, mean 0) with ``lo``/``hi``, ``wins``,
    ``games``, ``win_rate``, ``rank`` ("1", "1–2"), best first.

    ``comparisons``: a frame with ``target_a``, ``target_b``, ``winner`` (``a``/``b``/``tie``),
    or ``{(a, b): bw.compare(run, a, b, ...)}``. Needs three or more targets for a ranking
    to mean more than one win rate; two work too. ``prior``: virtual ties per pair that
    played (see the module docstring).
    """
    rows = verdicts(comparisons)
    names = sorted(set(rows["target_a"].to_list()) | set(rows["target_b"].to_list()))
    if len(names) < 2 or rows.is_empty():
        raise BenchworkError("Bradley–Terry needs judged verdicts between at least two targets")
    if prior < 0:
        raise BenchworkError(f"prior must be >= 0, got {prior}")
    k = len(names)
    i, j, o, c = _counts(rows, names)
    wins, games = _tables(i, j, o, c, k)
    played = games > 0
    virtual_wins, virtual_games = prior / 2.0 * played.sum(axis=1), prior * played
    strength = bt_fit(wins + virtual_wins, games + virtual_games)
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(int(c.sum()), c / c.sum(), size=n_boot).astype(float)
    boot_wins, boot_games = _tables(i, j, o, draws, k)
    boot = bt_fit(boot_wins + virtual_wins, boot_games + virtual_games)
    a = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(boot, [a, 1.0 - a], axis=0)
    played_n = games.sum(axis=1)
    out = pl.DataFrame(
        {
            "target": names,
            "strength": strength,
            "lo": lo,
            "hi": hi,
            "wins": wins,
            "games": played_n,
            "win_rate": np.where(played_n > 0, wins / np.maximum(played_n, 1), np.nan),
        }
    )
    out = interval_ranks(out, "strength", "lo", "hi", descending=True, partition=[])
    return out.sort("strength", descending=True).select(
        "target", "rank", "strength", "lo", "hi", "wins", "games", "win_rate"
    )
