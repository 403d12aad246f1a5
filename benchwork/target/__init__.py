"""Targets: what to call (model, parameters, endpoint, key variable) and what it costs."""

from benchwork.target._pricing import Prices, call_cost, prices_for
from benchwork.target._target import OPENAI_COMPATIBLE, ResolvedTarget, Target, load_targets

__all__ = [
    "OPENAI_COMPATIBLE",
    "Prices",
    "ResolvedTarget",
    "Target",
    "call_cost",
    "load_targets",
    "prices_for",
]
