"""Numeric scorer: pull a number out of prose and compare it within a tolerance.

The extractor reads a number the way it is written, or not at all: a wrong value is worse
than none. Read:

- signs (also the Unicode minus), decimals, ``1e-3``, ``%`` (``percent_as_fraction``);
- thousands groups: ``1,234,567.5``, ``1.234.567``, ``1.234,5``, and groups split by a space,
  a no-break or thin space, an apostrophe or an underscore (``1 000``, ``1\u2009000``,
  ``1'000``, ``1_000``);
- a decimal comma: ``3,14`` (a comma before exactly three digits, ``1,234``, is a thousands
  group; ``0,500`` is a decimal);
- fractions and mixed numbers: ``1/2``, ``3 1/2``, ``½``, ``1½``;
- ``0x1F``, ``0b101``, ``0o17``; powers and scientific forms: ``2^10``, ``10⁸``,
  ``3 × 10^8``, ``1.5·10⁻³``; ``1.5 million`` (thousand, million, billion, trillion).

A token that is number-like but cannot be read whole (``0x1G``, ``1/0``, ``3.11.7``,
``1,2,3``, a value beyond the float range) is never read in part: the scorer reports "no
number" with the reason.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from benchwork.errors import BenchworkError
from benchwork.scoring._registry import register_scorer
from benchwork.scoring._score import BaseScorer, Score, clip, fmt_number, safe_repr

__all__ = ["Found", "Numeric", "extract_number", "find_number", "to_number"]

# "-" first and escaped: unescaped, "[+-…]" was a range from "+" to U+2212 (letters,
# brackets, "=", "€" glued to a digit were taken as a sign and float() raised)
_MINUS = "\\-\u2212\ufe63\uff0d"
_SIGN = rf"[+{_MINUS}]"
_SUP = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_SUP_SIGN = "⁺⁻"
_VULGAR = "¼½¾⅐⅑⅒⅓⅔⅕⅖⅗⅘⅙⅚⅛⅜⅝⅞"
_SLASH = "/\u2044"  # solidus, fraction slash
_TIMES = "×xX*·\u22c5"
_GROUP = " \u00a0\u2007\u2009\u202f'\u2019_"  # space first; no-break, figure, thin, narrow; ' ’ _
_SCALE = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}

_NUMBER = re.compile(
    rf"""
    (?<![A-Za-z_.\d])                    # not glued to a word, a digit or a decimal point
    (?<!\d,)(?<!\d[{_SLASH}])            # nor the tail of "1,2,3" or of the date "1/2/2024"
    (?P<sign>{_SIGN})?
    (?:
        (?P<radix>0[xX][0-9A-Fa-f]+|0[bB][01]+|0[oO][0-7]+)(?!\w|\.\w)
      | (?P<badradix>0[xXbBoO][0-9A-Za-z]+)
      | (?P<mw>\d+)[ \u00a0]+(?P<mn>\d+)[ ]?[{_SLASH}][ ]?(?P<md>\d+)(?![{_SLASH}]?\d|[.,]\d)
      | (?:(?P<vw>\d+)[ \u00a0]?)?(?P<vulgar>[{_VULGAR}])
      | (?P<fn>\d+(?:\.\d+)?)[ ]?[{_SLASH}][ ]?(?P<fd>\d+(?:\.\d+)?)(?![{_SLASH}]?\d|[.,]\d)
      | (?:
            (?P<en>(?!0[,\d])\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?)
          | (?P<eu>\d{{1,3}}(?:\.\d{{3}})+,\d+|\d{{1,3}}(?:\.\d{{3}}){{2,}})
          | (?P<grp>\d{{1,3}}(?:[{_GROUP}]\d{{3}})+(?:[.,]\d+)?)
          | (?P<plain>\d+(?:[.,]\d+)?|\.\d+)
        )
        (?![.,]?\d|[{_GROUP[1:]}{_SLASH}]\d)  # a token is read whole, or not at all
        (?:
            [eE](?P<e>{_SIGN}?\d+)
          | [ ]?[{_TIMES}][ ]?10(?:(?:\^|\*\*)(?P<t>{_SIGN}?\d+)|(?P<tsup>[{_SUP_SIGN}]?[{_SUP}]+))
        )?
        (?:(?:\^|\*\*)(?P<p>{_SIGN}?\d+)|(?P<psup>[{_SUP_SIGN}]?[{_SUP}]+))?
        (?:[ ]?(?P<scale>thousand|million|billion|trillion)\b)?
      | (?P<bad>\d[\d.,{_SLASH}{_GROUP[1:]}]*\d)   # number-like, but not one number: "1,2,3"
    )
    (?P<pct>[ ]?%)?
    """,
    re.VERBOSE,
)
_START = re.compile(rf"[\d{_VULGAR}]")
# white space no number can straddle: numbers span white space only after a digit, a slash or
# a times sign ("1 000", "3 1/2", "1 / 2", "3 × 10^8", "5 %", "1.5 million")
_CUT = re.compile(rf"[^\d\s{_SLASH}{_TIMES}]\s+")
_UNGROUP = re.compile(f"[{_GROUP}]")
_TAIL = 4096
_MAX_EXP_DIGITS = 6
_SUP_MAP = str.maketrans(_SUP + _SUP_SIGN, "0123456789+-")


@dataclass(frozen=True, slots=True)
class Found:
    """A number found in text: ``value``, or None with the ``problem`` that kept it unread."""

    value: float | None
    span: str
    problem: str | None = None


def _digits(text: str) -> str:
    """Unicode decimal digits as ASCII (``"１２"`` → ``"12"``), the Unicode minus as "-"."""
    out = []
    for ch in text:
        if ch.isdecimal() and not ch.isascii():
            out.append(str(unicodedata.decimal(ch)))
        elif ch in "\u2212\ufe63\uff0d":
            out.append("-")
        else:
            out.append(ch)
    return "".join(out)


def _exponent(text: str) -> int:
    text = _digits(text.translate(_SUP_MAP)).lstrip("+")
    if len(text.lstrip("-")) > _MAX_EXP_DIGITS:
        raise OverflowError
    return int(text)


def _mantissa(m: re.Match[str]) -> str:
    """The decimal number of the ``num`` forms as a float literal (``"1234.5"``)."""
    if m.group("en"):
        return m.group("en").replace(",", "")
    if m.group("eu"):
        return m.group("eu").replace(".", "").replace(",", ".")
    if m.group("grp"):
        return _UNGROUP.sub("", m.group("grp")).replace(",", ".")
    return m.group("plain").replace(",", ".")


def _read(m: re.Match[str], percent_as_fraction: bool) -> Found:
    span = m.group(0)
    try:
        value = _value(m)
    except ZeroDivisionError:
        return Found(None, span, f"{clip(span)} divides by zero")
    except OverflowError:
        return Found(None, span, f"{clip(span)} is beyond the range of a float")
    if value is None:
        return Found(None, span, f"{clip(span)} is not one number that can be read whole")
    if isinstance(value, str):
        return Found(None, span, value)
    if not math.isfinite(value):
        return Found(None, span, f"{clip(span)} is beyond the range of a float")
    if m.group("sign") and m.group("sign") != "+":
        value = -value
    if percent_as_fraction and m.group("pct"):
        value /= 100
    return Found(value + 0.0, span)  # + 0.0: no -0.0


def _value(m: re.Match[str]) -> float | str | None:
    g = m.group
    if g("badradix"):
        return f"{clip(g('badradix'))} is not a valid hexadecimal, binary or octal number"
    if g("bad"):
        return None
    if g("radix"):
        return float(int(g("radix"), 0))
    if g("md") is not None:
        return int(_digits(g("mw"))) + int(_digits(g("mn"))) / int(_digits(g("md")))
    if g("vulgar"):
        return (int(_digits(g("vw"))) if g("vw") else 0) + unicodedata.numeric(g("vulgar"))
    if g("fd") is not None:
        return float(_digits(g("fn"))) / float(_digits(g("fd")))
    literal = _digits(_mantissa(m))
    if g("e") is not None:
        literal += "e" + _digits(g("e"))
    elif g("t") is not None or g("tsup") is not None:
        literal += f"e{_exponent(g('t') or g('tsup'))}"
    value = float(literal)
    if g("p") is not None or g("psup") is not None:
        value = value ** _exponent(g("p") or g("psup"))
    if g("scale"):
        value *= _SCALE[g("scale")]
    return value


def _last_match(text: str, start: int) -> re.Match[str] | None:
    # Long outputs: look in the tail first, from a place no number can straddle.
    last = None
    if len(text) - start > 2 * _TAIL:
        cut = _CUT.search(text, len(text) - _TAIL)
        if cut:
            for last in _NUMBER.finditer(text, cut.end()):  # noqa: B007
                pass
            if last is not None:
                return last
    for last in _NUMBER.finditer(text, start):  # noqa: B007
        pass
    return last


def find_number(
    text: str, *, pick: str = "last", percent_as_fraction: bool = False
) -> Found | None:
    """The first or last number in ``text``: a ``Found`` (its value is None, with the reason,
    when the number-like token there cannot be read), or None when there is none."""
    first = _START.search(text)  # a fast scan; the number pattern itself is slow on megabytes
    if first is None:
        return None
    # a number starts at most two characters before its first digit ("-.5"); lookbehinds
    # still see the text before ``start``
    start = max(0, first.start() - 2)
    m = _NUMBER.search(text, start) if pick == "first" else _last_match(text, start)
    return None if m is None else _read(m, percent_as_fraction)


def extract_number(
    text: str, *, pick: str = "last", percent_as_fraction: bool = False
) -> tuple[float, str] | None:
    """The first or last number in ``text`` and the matched span, or None (also when that
    number cannot be read whole: see the module docstring and ``find_number``)."""
    found = find_number(text, pick=pick, percent_as_fraction=percent_as_fraction)
    if found is None or found.value is None:
        return None
    return found.value, found.span


def to_number(value: Any, *, percent_as_fraction: bool = False) -> float | None:
    """A number, or a string holding one (``"42"``, ``"1,234.5"``, ``"12%"``), as float."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return float(value)
        except OverflowError:  # an int beyond the float range
            return None
    if isinstance(value, str):
        found = extract_number(value.strip(), pick="first", percent_as_fraction=percent_as_fraction)
        return found[0] if found else None
    return None


def _check_tolerance(tolerance: Any) -> float:
    if isinstance(tolerance, bool) or not isinstance(tolerance, int | float):
        raise BenchworkError(
            f"numeric: option 'tolerance' must be a number ≥ 0, got {tolerance!r} "
            f"({type(tolerance).__name__})"
        )
    if not math.isfinite(tolerance) or tolerance < 0:
        raise BenchworkError(
            f"numeric: option 'tolerance' must be a finite number ≥ 0, got {tolerance!r}"
        )
    return float(tolerance)


def _check_flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise BenchworkError(f"numeric: option {name!r} must be true or false, got {value!r}")
    return value


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
            raise BenchworkError(f"numeric: option 'pick' must be 'first' or 'last', got {pick!r}")
        self.tolerance = _check_tolerance(tolerance)
        self.relative = _check_flag("relative", relative)
        self.pick = pick
        self.percent_as_fraction = _check_flag("percent_as_fraction", percent_as_fraction)
        if expected is not None:
            self._want(expected)

    def _want(self, expected: Any) -> float:
        want = to_number(expected, percent_as_fraction=self.percent_as_fraction)
        if want is None and isinstance(expected, int) and not isinstance(expected, bool):
            raise BenchworkError(f"{self.name}: expected integer is beyond the float range")
        if want is None or math.isnan(want):
            shown = clip(expected) if isinstance(expected, str) else clip(safe_repr(expected))
            raise BenchworkError(
                f"{self.name}: expected value {shown} ({type(expected).__name__}) is not a "
                "number; give a number or a string holding one"
            )
        return want

    def check_expected(self, expected: Any, case: Any) -> None:
        self._want(expected)

    def score(self, output: str, expected: Any, case: Any, record: Any) -> Score:
        want = self._want(expected)
        found = find_number(output, pick=self.pick, percent_as_fraction=self.percent_as_fraction)
        if found is None:
            return Score.passed(False, f"no number in {clip(output)}")
        if found.value is None:
            return Score.passed(False, f"no number read: {found.problem}")
        got = found.value
        tol = self.tolerance * abs(want) if self.relative else self.tolerance
        if math.isinf(want) or math.isinf(tol):
            ok, diff = got == want, (0.0 if got == want else math.inf)
        else:
            diff = abs(got - want)
            ok = diff <= tol
        verdict = "≤" if ok else ">"
        return Score.passed(
            ok,
            f"got {fmt_number(got)} (from {clip(found.span)}), expected {fmt_number(want)}: "
            f"|diff| {diff:.3g} {verdict} tolerance {tol:.3g}",
        )


register_scorer("numeric", Numeric)
