"""Explain a cache miss for a call of a stored run: which key component differs, and how."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchwork.errors import BenchworkError

__all__ = ["why_missed"]


def why_missed(
    run_id: str,
    *,
    case_id: str,
    target: str | None = None,
    repeat: int = 0,
    home: str | Path | None = None,
    cache_dir: str | Path | None = None,
) -> Any:
    """Re-plan the run's call and compare its key with the nearest OTHER stored entry.

    The run's own entry is left out: the question is why the call did not reuse an older one.
    """
    from benchwork.cache import CacheWhy, CallCache
    from benchwork.client import MockTools
    from benchwork.plan import call_key
    from benchwork.store import RunStore
    from benchwork.suite import Suite
    from benchwork.target import Target

    store = RunStore(home)
    manifest = store.manifest(run_id)
    suite = Suite.from_dict(store.suite(run_id), source=f"run {run_id}")
    targets = [Target.from_dict(t) for t in manifest["targets"]]
    if target is None:
        if len(targets) != 1:
            names = ", ".join(repr(t.name) for t in targets)
            raise BenchworkError(f"run {run_id} has several targets ({names}); pass --target")
        chosen = targets[0]
    else:
        matches = [t for t in targets if t.name == target]
        if not matches:
            names = ", ".join(repr(t.name) for t in targets)
            raise BenchworkError(f"run {run_id} has no target {target!r}; its targets: {names}")
        chosen = matches[0]
    try:
        case = suite[case_id]
    except KeyError as exc:  # unknown id: one clear line, with the ids that exist
        raise BenchworkError(f"run {run_id}: {exc.args[0]}") from None
    mock = MockTools.from_metadata(case.metadata, case.id) if case.tools else None
    key, components = call_key(chosen.resolve(), suite.messages(case), case.tools, mock, repeat)
    for row in store.records(run_id):  # the call hit in this run: say so, no nearest entry
        if (
            row.get("cached")
            and not row.get("warmup")
            and (row.get("case_id"), row.get("target"), row.get("repeat", 0))
            == (case.id, chosen.name, repeat)
        ):
            return CacheWhy(True, key, [], case.id, chosen.name, case.id, chosen.name)
    cache_path = cache_dir or manifest.get("cache_dir")
    with CallCache(cache_path) as cache:
        return cache.why(components, case_id=case.id, target=chosen.name, exclude=key)
