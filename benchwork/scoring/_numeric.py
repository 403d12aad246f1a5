"""Numeric scorer: pull a number out of prose and compare it within a tolerance."""

from __future__ import annotations

import math
import re
from typing import Any

from benchwork.errors import BenchworkError
from benchwork.scoring._registry import register_scorer
from benchwork.scoring._score import BaseScorer, Score, clip, fmt_number

__all__ = ["Numeric", "extract_number"]

# "-" first and escaped: unescaped, "[+-…]" was a range from "+" to U+2212 (letters,
# brackets, "=", "€" glued to a digit were taken as a sign and float() raised)
_MINUS = "\\-\u2212\ufe63\uff0d"
_NUMBER = re.compile(
    rf"""
    (?<![A-Za-z_.\d])                    # not glued to a word, a digit or a decimal point
    (?P<sign>[+{_MINUS}])?
    (?P<num>(?:\d{{1,3}}(?:,\d{{3}})+(?!\d)|\d+)(?:\.\d+)?|\.\d+)
    (?P<exp>[eE][+{_MINUS}]?\d+)?
    (?P<pct>\s?%)?
    """,
    re.VERBOSE,
)
_WS = re.compile(r"\s")
_DIGIT = re.compile(r"\d")
_TAIL = 4096


def _value(m: re.Match[str], percent_as_fraction: bool) -> float:
    text = (m.group("sign") or "") + m.group("num").replace(",", "") + (m.group("exp") or "")
    for ch in "\u2212\ufe63\uff0d":
        text = text.replace(ch, "-")
    value = float(text)
    return value / 100 if percent_as_fraction and m.group("pct") else value


def _last_match(text: str, start: int) -> re.Match[str] | None:
    # Long outputs: look in the tail first, starting after whitespace so no number is cut.
    last = None
    if len(text) - start > 2 * _TAIL:
        ws = _WS.search(text, len(text) - _TAIL)
        if ws:
            for last in _NUMBER.finditer(text, ws.end()):  # noqa: B007
                pass
            if last is not None:
                return last
    for last in _NUMBER.finditer(text, start):  # noqa: B007
        pass
    return last


def extract_number(
    text: str, *, pick: str = "last", percent_as_fraction: bool = False
) -> tuple[float, str] | None:
    """The first or last number in ``text`` and the matched span, or None.

    Handles signs (incl. the Unicode minus), thousands separators, decimals, scientific
    notation and ``%`` (divided by 100 when ``percent_as_fraction``).
    """
    digit = _DIGIT.search(text)  # a fast scan; the number pattern itself is slow on megabytes
    if digit is None:
        return None
    # a number starts at most two characters before its first digit ("-.5"); lookbehinds
    # still see the text before ``start``
    start = max(0, digit.start() - 2)
    m = _NUMBER.search(text, start) if pick == "first" else _last_match(text, start)
    if m is None:
        return None
    return _value(m, percent_as_fraction), m.group(0)


def to_number(value: Any, *, percent_as_fraction: bool = False) -> float | None:
    """A number, or a string holding one (``"42"``, ``"1,234.5"``, ``"12%"``), as float."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        found = extract_number(value.strip(), pick="first", percent_as_fraction=percent_as_fraction)
        return found[0] if found else None
    return None


class Numeric(BaseScorer):
    """Extract a number from the output (last by default) and compare with the expected one.

    ``tolerance`` is absolute, or relative to the expected value when ``relative=True``.
    """

    default_name = "numeric"

    def __init__(
        self,
        *,
        tolerance: float = 1e-6,
        relative: bool = False,
        pick: str = "last",
        percent_as_fraction: bool = False,
        name: str | None = None,
        expected: Any = None,
    ) -> None:
        super().__init__(name=name, expected=expected)
        if pick not in ("first", "last"):
            raise BenchworkError(f"numeric: pick must be 'first' or 'last', got {pick!r}")
        if isinstance(tolerance, bool) or not isinstance(tolerance, int | float) or tolerance < 0:
            raise BenchworkError(f"numeric: tolerance must be a number ≥ 0, got {tolerance!r}")
        self.tolerance, self.relative, self.pick = float(tolerance), relative, pick
        self.percent_as_fraction = percent_as_fraction

    def score(self, output: str, expected: Any, case: Any, record: Any) -> Score:
        want = to_number(expected, percent_as_fraction=self.percent_as_fraction)
        if want is None:
            raise BenchworkError(f"numeric: expected value {clip(expected)} is not a number")
        found = extract_number(output, pick=self.pick, percent_as_fraction=self.percent_as_fraction)
        if found is None:
            return Score.passed(False, f"no number in {clip(output)}")
        got, span = found
        diff = abs(got - want)
        tol = self.tolerance * abs(want) if self.relative else self.tolerance
        ok = diff <= tol or (math.isinf(want) and got == want)
        verdict = "≤" if ok else ">"
        return Score.passed(
            ok,
            f"got {fmt_number(got)} (from {clip(span)}), expected {fmt_number(want)}: "
            f"|diff| {diff:.3g} {verdict} tolerance {tol:.3g}",
        )


register_scorer("numeric", Numeric)
