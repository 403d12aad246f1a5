"""Typed errors: each says what is wrong, where, and what to do.

The CLI prints ``str(error)`` as one line and exits non-zero; Python users catch the type.
"""

from __future__ import annotations

__all__ = [
    "BenchworkError",
    "CacheError",
    "CacheMissError",
    "RunLockedError",
    "RunNotFoundError",
    "StoreError",
    "SuiteError",
    "TargetError",
]


class BenchworkError(Exception):
    """Base class for every error benchwork raises on purpose (bad input, bad state)."""


class SuiteError(BenchworkError, ValueError):
    """A suite file or case is invalid.

    ``str()`` reads like ``suite.yaml: line 12: case 'q7': 'input' is missing``.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        case_id: str | None = None,
        field: str | None = None,
    ) -> None:
        self.source, self.line, self.case_id, self.field = source, line, case_id, field
        self.reason = message
        parts = []
        if source:
            parts.append(str(source))
        if line is not None:
            parts.append(f"line {line}")
        if case_id is not None:
            parts.append(f"case {case_id!r}")
        parts.append(message)
        super().__init__(": ".join(parts))


class TargetError(BenchworkError, ValueError):
    """A target (model + settings) is invalid or cannot be resolved."""


class CacheError(BenchworkError):
    """The call cache cannot be used (damaged, not a folder, read-only, full); names its path."""


class StoreError(BenchworkError):
    """A run store file cannot be read or written; names the file and what to do."""


class RunLockedError(StoreError):
    """Another process is writing this run (its lock names the pid and host)."""


class CacheMissError(BenchworkError, LookupError):
    """Replay mode found no cached response for a call; names the case, target and repeat."""


class RunNotFoundError(BenchworkError, LookupError):
    """No run with the given id exists in the run store."""
