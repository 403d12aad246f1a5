"""Tuning: search prompts and parameters, and keep what wins on held-out cases.

The prompt tuner (``tune_prompt``) has a quick mode (K rewrites by a meta-model) and an
evolutionary mode (``mode="evolve"``: a population bred by mutation and crossover over
generations, guided by failing cases, within a budget in calls and dollars, with an early
stop); both score candidates on a dev split and confirm the winner on held-out cases with a
paired test. Synthetic cases (``synthesize``): variations of example cases by a generator
model, cached, deduplicated, each with its provenance in ``case.metadata["synthetic"]``.
Experiments (``Experiment``) group runs under a name with a baseline, the best and notes.
The parameter grid (``grid``): every setting of a grid or random search over sampling
parameters, validated per provider before any call, its cost estimated first, run as one run
and read as a frame with intervals (``GridResult.frame``, ``.best``, ``.chart()``).
"""

from benchwork.tuning._candidates import split as dev_split
from benchwork.tuning._estimate import estimate_cost
from benchwork.tuning._evolve import check_budget_usd
from benchwork.tuning._experiments import Experiment, experiments
from benchwork.tuning._grid import GridResult, grid, grid_sync
from benchwork.tuning._params import check_params, supported_params
from benchwork.tuning._prompt import TuneResult, tune_prompt, tune_prompt_sync
from benchwork.tuning._synthesize import synthesize, synthesize_sync
from benchwork.tuning._variations import Variations

__all__ = [
    "Experiment",
    "GridResult",
    "TuneResult",
    "Variations",
    "check_budget_usd",
    "check_params",
    "dev_split",
    "estimate_cost",
    "experiments",
    "grid",
    "grid_sync",
    "supported_params",
    "synthesize",
    "synthesize_sync",
    "tune_prompt",
    "tune_prompt_sync",
]
