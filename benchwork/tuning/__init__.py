"""Tuning: search prompts and parameters, and keep what wins on held-out cases.

Experiments (``Experiment``) group runs under a name with a baseline, the best and notes.
The parameter grid (``grid``): every setting of a grid or random search over sampling
parameters, validated per provider before any call, its cost estimated first, run as one run
and read as a frame with intervals (``GridResult.frame``, ``.best``, ``.chart()``).
"""

from benchwork.tuning._estimate import estimate_cost
from benchwork.tuning._experiments import Experiment, experiments
from benchwork.tuning._grid import GridResult, grid, grid_sync
from benchwork.tuning._params import check_params, supported_params

__all__ = [
    "Experiment",
    "GridResult",
    "check_params",
    "estimate_cost",
    "experiments",
    "grid",
    "grid_sync",
    "supported_params",
]
