"""What a run is asked to do: its config (stored in the manifest, so it can be resumed),
and the coercion of the user's suite and target arguments into objects.
"""

from __future__ import annotations

import platform
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from benchwork.cache import CACHE_MODES
from benchwork.client import RetryPolicy
from benchwork.errors import BenchworkError
from benchwork.suite import Suite
from benchwork.target import Target

__all__ = ["RunConfig", "coerce_suite", "coerce_targets", "spec_names", "versions"]


def versions() -> dict[str, str | None]:
    """Versions of Python and the packages whose behaviour shapes results (for provenance)."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for pkg in ("benchwork", "litellm", "polars", "aiohttp", "diskcache"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    return out


def coerce_suite(suite: Suite | str | Path) -> Suite:
    """A Suite, loading it when given a path."""
    return suite if isinstance(suite, Suite) else Suite.load(suite)


def coerce_targets(
    targets: Target | str | Mapping[str, Any] | Sequence[Target | str | Mapping[str, Any]],
) -> list[Target]:
    """Targets from a Target, a model id, a mapping, or a list of those; names must differ."""
    items = [targets] if isinstance(targets, Target | str | Mapping) else list(targets)
    out = [
        t if isinstance(t, Target) else Target(t) if isinstance(t, str) else Target.from_dict(t)
        for t in items
    ]
    if not out:
        raise BenchworkError("no targets given: pass at least one model")
    names = [t.name for t in out]
    dupes = sorted({str(n) for n in names if names.count(n) > 1})
    if dupes:
        raise BenchworkError(f"duplicate target name(s) {dupes}: give each target a distinct name")
    return out


class RunConfig:
    """Settings that shape a run; stored in the manifest so a run can be resumed."""

    def __init__(
        self,
        *,
        repeats: int = 1,
        warmup: int = 0,
        cache_mode: str = "use",
        scorers: Sequence[Any] | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        if not isinstance(repeats, int) or repeats < 1:
            raise BenchworkError(f"repeats must be an integer >= 1, got {repeats!r}")
        if not isinstance(warmup, int) or warmup < 0:
            raise BenchworkError(f"warmup must be an integer >= 0, got {warmup!r}")
        if cache_mode not in CACHE_MODES:
            raise BenchworkError(
                f"cache mode {cache_mode!r} is not one of {', '.join(CACHE_MODES)}"
            )
        self.repeats, self.warmup, self.cache_mode = repeats, warmup, cache_mode
        self.scorers = list(scorers) if scorers is not None else None
        self.retry = retry or RetryPolicy()

    def to_dict(self) -> dict[str, Any]:
        return {
            "repeats": self.repeats,
            "warmup": self.warmup,
            "cache_mode": self.cache_mode,
            "scorers": spec_names(self.scorers or []),
            "retry": vars(self.retry),
        }


def spec_names(specs: Sequence[Any]) -> list[Any]:
    """Scorer specs as JSON-able values for the manifest: names and dicts as given, else names."""
    return [s if isinstance(s, str | dict) else getattr(s, "name", repr(s)) for s in specs]
