"""Sentences generated from the statistics, e.g. "alpha beats beta on exact by 65 points
[42, 88] (McNemar, Holm p = 0.0002)": never a claim the tests do not support."""

from __future__ import annotations

import polars as pl

__all__ = ["narrative"]


def _p(p: float | None) -> str:
    if p is None:
        return "p n/a"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _points(metric: str, x: float) -> str:
    # scores in [0, 1] read as percentage points; other metrics in their own unit
    return f"{x * 100:.0f} points" if metric.startswith("score_") else f"{x:.3g}"


def narrative(comparison: pl.DataFrame, alpha: float = 0.05) -> list[str]:
    """One sentence per pair in a ``compare_targets`` frame.

    Significant after Holm's correction at *alpha*: "A beats B on M by D [lo, hi] (test,
    Holm p)". Otherwise: "no detectable difference", with the interval, so the reader sees
    how large a difference the data could still hide.
    """
    out = []
    for row in comparison.iter_rows(named=True):
        metric = str(row["metric"]).removeprefix("score_")
        a, b = row["target_a"], row["target_b"]
        diff, lo, hi = row.get("diff"), row.get("diff_lo"), row.get("diff_hi")
        p = row.get("p_holm")
        if diff is None or lo is None or hi is None:
            out.append(f"{a} vs {b} on {metric}: too few paired cases to compare.")
            continue
        interval = f"[{_points(row['metric'], lo)}, {_points(row['metric'], hi)}]".replace(
            " points", ""
        )
        if p is not None and p < alpha:
            better = row.get("better")  # the analysis knows which direction is better
            winner = better if better in (a, b) else (a if diff > 0 else b)
            loser = b if winner == a else a
            size = _points(row["metric"], abs(diff))
            if diff < 0:
                interval = (
                    f"[{_points(row['metric'], -hi)}, {_points(row['metric'], -lo)}]".replace(
                        " points", ""
                    )
                )
            out.append(
                f"{winner} beats {loser} on {metric} by {size} {interval} "
                f"({row.get('test')}, Holm {_p(p)}, n = {row.get('n_pairs')})."
            )
        else:
            out.append(
                f"No detectable difference between {a} and {b} on {metric}: "
                f"{_points(row['metric'], diff)} {interval} (Holm {_p(p)}, n = {row.get('n_pairs')})."
            )
    return out
