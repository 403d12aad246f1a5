"""Tuning: search prompts and parameters, and keep what wins on held-out cases.

The prompt tuner's quick mode (``tune_prompt``) proposes rewrites with a meta-model, scores
them on a dev split and confirms the winner on held-out cases with a paired test.
Experiments (``Experiment``) group runs under a name with a baseline, the best and notes.
The parameter grid (``grid``): every setting of a grid or random search over sampling
parameters, validated per provider before any call, its cost estimated first, run as one run
and read as a frame with intervals (``GridResult.frame``, ``.best``, ``.chart()``).
"""

from benchwork.tuning._estimate import estimate_cost
from benchwork.tuning._experiments import Experiment, experiments
from benchwork.tuning._grid import GridResult, grid, grid_sync
from benchwork.tuning._params import check_params, supported_params
from benchwork.tuning._prompt import TuneResult, tune_prompt, tune_prompt_sync

__all__ = [
    "Experiment",
    "GridResult",
    "TuneResult",
    "check_params",
    "estimate_cost",
    "experiments",
    "grid",
    "grid_sync",
    "supported_params",
    "tune_prompt",
    "tune_prompt_sync",
]
