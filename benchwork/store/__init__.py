"""Run store: one folder per run (manifest, journal, results), listing, export and import."""

from benchwork.store._exchange import export_run, import_run
from benchwork.store._list import RUNS_SCHEMA, list_runs
from benchwork.store._store import RunStore, RunWriter, default_home, new_run_id

__all__ = [
    "RUNS_SCHEMA",
    "RunStore",
    "RunWriter",
    "default_home",
    "export_run",
    "import_run",
    "list_runs",
    "new_run_id",
]
