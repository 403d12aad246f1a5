"""Checking scorer input before any call: ``check_cases``.

A case whose input a scorer can never use (an invalid regex in ``expected``, an invalid or
remote-referencing schema in ``metadata.schema``, a non-numeric ``expected`` for ``numeric``,
malformed ``metadata.expected_tool_calls``) is an error naming the case and the field, raised
when scoring is set up, instead of a null score on every row of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from benchwork.errors import BenchworkError, SuiteError

__all__ = ["check_cases"]

_SHOWN = 5


def check_cases(scorers: Sequence[Any], cases: Iterable[Any]) -> None:
    """Run every scorer's ``check(case)`` (scorers without one are skipped) on every case.

    Raises one ``SuiteError``: the problem itself when there is one, else the first few with
    a count. Resolve ``scorers`` first (``resolve_scorers``).
    """
    checks = [(s, c) for s in scorers if callable(c := getattr(s, "check", None))]
    if not checks:
        return
    problems: list[BenchworkError] = []
    for case in cases:
        for _, check in checks:
            try:
                check(case)
            except BenchworkError as e:
                problems.append(e)
    if len(problems) == 1:
        raise problems[0]
    if problems:
        shown = "; ".join(str(p) for p in problems[:_SHOWN])
        more = f"; and {len(problems) - _SHOWN} more" if len(problems) > _SHOWN else ""
        raise SuiteError(f"{len(problems)} problems with the input scorers need: {shown}{more}")
