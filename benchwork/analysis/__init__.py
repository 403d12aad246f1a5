"""Analysis: frames in, frames out.

Leaderboards with intervals, paired tests between targets, power, run comparison and
trends. Every function takes a ``Run``, a list of runs, or a results frame (one row per call).
"""

from benchwork.analysis._leaderboard import leaderboard, outliers
from benchwork.analysis._pairwise import PAIRWISE_SCHEMA, pairwise_summary
from benchwork.analysis._summary import summarize
from benchwork.analysis._targets import compare_targets, verdict_matrix
from benchwork.analysis._text import leaderboard_text

__all__: list[str] = [
    "PAIRWISE_SCHEMA",
    "compare_targets",
    "leaderboard",
    "leaderboard_text",
    "outliers",
    "pairwise_summary",
    "summarize",
    "verdict_matrix",
]
