"""benchwork: a Jupyter-native workbench for evaluating and benchmarking LLMs.

The front door holds the names a user types; everything else lives in its subpackage
(``benchwork.suite``, ``.target``, ``.client``, ``.cache``, ``.store``, ``.scoring``,
``.runner``, ``.analysis``, ``.sim``, ``.widgets``, ``.cli``). Names are imported lazily so
that ``import benchwork`` stays fast (litellm, Polars and aiohttp load on first use); the
``TYPE_CHECKING`` block shows them to type checkers and IDEs.

Naming rule for async/sync pairs: the plain name is the coroutine (``await bw.run(...)``),
``*_sync`` blocks (``bw.run_sync(...)``), for every pair.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from benchwork import (
        analysis,
        cache,
        charts,
        client,
        errors,
        reports,
        results,
        runner,
        scoring,
        sim,
        store,
        suite,
        target,
        tuning,
        widgets,
    )
    from benchwork.client import context_tiers, context_tiers_sync
    from benchwork.errors import BenchworkError
    from benchwork.reports import report
    from benchwork.runner import (
        Run,
        RunHandle,
        compare,
        compare_sync,
        load_run,
        resume,
        resume_sync,
        run,
        run_sync,
        runs,
        start,
    )
    from benchwork.scoring import Score, scorer
    from benchwork.suite import Case, Suite
    from benchwork.target import Target
    from benchwork.widgets import RunProgress

# public name -> subpackage that defines it
_EXPORTS: dict[str, str] = {
    "BenchworkError": "benchwork.errors",
    "Case": "benchwork.suite",
    "Suite": "benchwork.suite",
    "Target": "benchwork.target",
    "context_tiers": "benchwork.client",
    "context_tiers_sync": "benchwork.client",
    "Run": "benchwork.runner",
    "RunHandle": "benchwork.runner",
    "run": "benchwork.runner",
    "run_sync": "benchwork.runner",
    "start": "benchwork.runner",
    "resume": "benchwork.runner",
    "resume_sync": "benchwork.runner",
    "runs": "benchwork.runner",
    "load_run": "benchwork.runner",
    "compare": "benchwork.runner",
    "compare_sync": "benchwork.runner",
    "Score": "benchwork.scoring",
    "scorer": "benchwork.scoring",
    "RunProgress": "benchwork.widgets",
    "report": "benchwork.reports",
}

#: subpackages reachable as attributes, e.g. ``bw.analysis.leaderboard(run)``
_SUBMODULES = (
    "analysis",
    "cache",
    "charts",
    "client",
    "errors",
    "reports",
    "results",
    "runner",
    "scoring",
    "sim",
    "store",
    "suite",
    "target",
    "tuning",
    "widgets",
)

__all__ = [
    "BenchworkError",
    "Case",
    "Run",
    "RunHandle",
    "RunProgress",
    "Score",
    "Suite",
    "Target",
    "__version__",
    "analysis",
    "cache",
    "charts",
    "client",
    "compare",
    "compare_sync",
    "context_tiers",
    "context_tiers_sync",
    "errors",
    "load_run",
    "report",
    "reports",
    "results",
    "resume",
    "resume_sync",
    "run",
    "run_sync",
    "runner",
    "runs",
    "scorer",
    "scoring",
    "sim",
    "start",
    "store",
    "suite",
    "target",
    "tuning",
    "widgets",
]


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
