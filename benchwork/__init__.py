"""benchwork: a Jupyter-native workbench for evaluating and benchmarking LLMs.

Public names are imported lazily so that ``import benchwork`` stays fast (litellm, Polars
and aiohttp load only when first needed).
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "BenchworkError": "benchwork.errors",
    "SuiteError": "benchwork.errors",
    "TargetError": "benchwork.errors",
    "CacheMissError": "benchwork.errors",
    "RunNotFoundError": "benchwork.errors",
    "CallRecord": "benchwork.schema",
    "RESULT_SCHEMA": "benchwork.schema",
    "Case": "benchwork.suite",
    "Suite": "benchwork.suite",
    "Target": "benchwork.target",
    "load_targets": "benchwork.target",
    "Run": "benchwork.run_result",
    "RunHandle": "benchwork.api",
    "run": "benchwork.api",
    "start": "benchwork.api",
    "run_sync": "benchwork.api",
    "resume": "benchwork.api",
    "aresume": "benchwork.api",
    "runs": "benchwork.api",
    "load_run": "benchwork.api",
    "RetryPolicy": "benchwork.client",
    "Event": "benchwork.events",
    "CallCache": "benchwork.cache",
    "RunStore": "benchwork.store",
    "Score": "benchwork.scoring",
    "compare": "benchwork.pairwise",
    "pairwise_summary": "benchwork.pairwise",
    "scorer": "benchwork.scoring",
    "SimServer": "benchwork.sim",
    "SimModel": "benchwork.sim",
    "Fault": "benchwork.sim",
    "RunProgress": "benchwork.widgets",
}

#: submodules reachable as attributes, e.g. ``bw.cache.why(...)``
_SUBMODULES = ("cache",)

__all__ = ["__version__", *_EXPORTS, *_SUBMODULES]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        value = importlib.import_module(f"benchwork.{name}")
        globals()[name] = value
        return value
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'benchwork' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
