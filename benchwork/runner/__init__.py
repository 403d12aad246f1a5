"""Runner: plan a run, execute it (async, durable, cached, retried), and hand back a ``Run``.

``run``/``run_sync``/``start``/``resume``/``resume_sync`` are the entry points; ``Run`` is the
result (manifest, one row per call, summary); ``compare``/``compare_sync`` judge two
targets' outputs pairwise. Naming rule: the plain name is the coroutine, ``*_sync`` blocks.
"""

from benchwork.runner._api import (
    CacheMode,
    RunHandle,
    TargetsArg,
    resume,
    resume_sync,
    run,
    run_sync,
    start,
)
from benchwork.runner._compare import compare, compare_sync
from benchwork.runner._config import RunConfig, coerce_suite, coerce_targets, versions
from benchwork.runner._diagnose import TargetFailure, diagnose
from benchwork.runner._events import Event, EventBus, EventKind, Progress
from benchwork.runner._health import LAG_FLAG_MS, LoopMonitor
from benchwork.runner._plan import PlannedCall, call_key, plan_calls
from benchwork.runner._progress import ConsoleProgress, NotebookProgress, attach_progress
from benchwork.runner._result import Run, load_run, runs
from benchwork.runner._session import Session
from benchwork.runner._why import why_missed

__all__ = [
    "LAG_FLAG_MS",
    "CacheMode",
    "ConsoleProgress",
    "Event",
    "EventBus",
    "EventKind",
    "LoopMonitor",
    "NotebookProgress",
    "PlannedCall",
    "Progress",
    "Run",
    "RunConfig",
    "RunHandle",
    "Session",
    "TargetFailure",
    "TargetsArg",
    "attach_progress",
    "call_key",
    "coerce_suite",
    "coerce_targets",
    "compare",
    "compare_sync",
    "diagnose",
    "load_run",
    "plan_calls",
    "resume",
    "resume_sync",
    "run",
    "run_sync",
    "runs",
    "start",
    "versions",
    "why_missed",
]
