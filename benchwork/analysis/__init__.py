"""Analysis: frames in, frames out.

Leaderboards with intervals, paired tests between targets, power, run comparison and
trends. Every function takes a ``Run``, a list of runs, or a results frame (one row per call).
"""

from benchwork.analysis._bradley_terry import bradley_terry
from benchwork.analysis._frames import (
    HasResults,
    Results,
    as_frame,
    measured,
    pick_score,
    score_columns,
)
from benchwork.analysis._leaderboard import leaderboard, outliers
from benchwork.analysis._pairwise import PAIRWISE_SCHEMA, pairwise_summary
from benchwork.analysis._power import (
    mcnemar_power,
    mde_mcnemar,
    mde_paired,
    n_for_half_width,
    n_mcnemar,
    n_paired,
    pair_power,
    paired_t_power,
    target_power,
)
from benchwork.analysis._runs import compare_runs, flips, run_match
from benchwork.analysis._summary import summarize
from benchwork.analysis._targets import compare_targets, verdict_matrix
from benchwork.analysis._text import leaderboard_text
from benchwork.analysis._trends import trend_windows, trends

__all__: list[str] = [
    "PAIRWISE_SCHEMA",
    "HasResults",
    "Results",
    "as_frame",
    "bradley_terry",
    "compare_runs",
    "compare_targets",
    "flips",
    "leaderboard",
    "leaderboard_text",
    "mcnemar_power",
    "mde_mcnemar",
    "mde_paired",
    "measured",
    "n_for_half_width",
    "n_mcnemar",
    "n_paired",
    "outliers",
    "pair_power",
    "paired_t_power",
    "pairwise_summary",
    "pick_score",
    "run_match",
    "score_columns",
    "summarize",
    "target_power",
    "trend_windows",
    "trends",
    "verdict_matrix",
]
