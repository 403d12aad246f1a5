"""Explain a cache miss for a call of a stored run: which key component differs, and how."""

from __future__ import annotations

from pathlib import Path

from benchwork.cache import CacheWhy, CallCache
from benchwork.client import MockTools
from benchwork.errors import BenchworkError
from benchwork.runner._plan import call_key
from benchwork.store import RunStore
from benchwork.suite import Suite
from benchwork.target import Target

__all__ = ["why_missed"]


def why_missed(
    run_id: str,
    *,
    case_id: str,
    target: str | None = None,
    repeat: int = 0,
    home: str | Path | None = None,
    cache_dir: str | Path | None = None,
) -> CacheWhy:
    """Why a call of a stored run missed the cache: which key component changed, and how.

    The run's call for ``case_id`` on ``target`` (optional when the run has one target) and
    ``repeat`` is planned again and its key compared with the nearest OTHER stored entry for
    the same case and target (the run's own entry is left out: the question is why it did not
    reuse an older one). ``str()`` of the result reads, e.g.::

        miss: nearest stored entry 3fa9c1d2e4b5 differs in 1 component:
          params.temperature: stored 0.0, requested 0.7

    ``.differences`` holds ``(component, stored, requested)`` tuples. ``home`` is the run store
    and ``cache_dir`` the cache (default: the one the run used). The CLI equivalent is
    ``benchwork cache why RUN --case ID --target NAME``.
    """
    store = RunStore(home)
    manifest = store.manifest(run_id)
    suite = Suite.from_dict(store.suite(run_id), source=f"run {run_id}")
    targets = [Target.from_dict(t) for t in store.targets(run_id)]
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
