"""Analysis: frames in, frames out.

Leaderboards with intervals, paired tests between targets, power, run comparison and
trends. Every function takes a ``Run``, a list of runs, or a results frame (one row per call).
"""

from benchwork.analysis._leaderboard import leaderboard, outliers

__all__: list[str] = [
    "leaderboard",
    "outliers",
]
