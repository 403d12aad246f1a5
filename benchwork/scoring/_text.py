"""Text scorers: exact, contains, not_contains, regex, starts_with."""

from __future__ import annotations

import functools
import re
from typing import Any

from benchwork.errors import BenchworkError
from benchwork.scoring._registry import register_scorer
from benchwork.scoring._score import NO_EXPECTED, BaseScorer, Score, clip, expected_texts

__all__ = ["Contains", "Exact", "NotContains", "Regex", "StartsWith", "normalize_text"]

_WS = re.compile(r"\s+")
_PUNCT = re.compile(r"[^\w\s]+")


def normalize_text(
    text: str,
    *,
    case_sensitive: bool = False,
    strip: bool = True,
    collapse_whitespace: bool = True,
    ignore_punctuation: bool = False,
) -> str:
    """Casefold, drop punctuation, collapse whitespace and strip, as asked."""
    if not case_sensitive:
        text = text.casefold()
    if ignore_punctuation:
        text = _PUNCT.sub("", text).replace("_", "")
    if collapse_whitespace and strip:
        return " ".join(text.split())
    if collapse_whitespace:
        text = _WS.sub(" ", text)
    return text.strip() if strip else text


def _answers(items: list[str]) -> str:
    return clip(items[0]) if len(items) == 1 else "any of [" + ", ".join(map(clip, items)) + "]"


class Exact(BaseScorer):
    """Normalized equality with the expected answer (or any of a list of answers)."""

    default_name = "exact"

    def __init__(
        self,
        *,
        case_sensitive: bool = False,
        strip: bool = True,
        collapse_whitespace: bool = True,
        ignore_punctuation: bool = False,
        name: str | None = None,
        expected: Any = None,
    ) -> None:
        super().__init__(name=name, expected=expected)
        self.case_sensitive, self.strip = case_sensitive, strip
        self.collapse_whitespace, self.ignore_punctuation = collapse_whitespace, ignore_punctuation

    def _norm(self, text: str, strip: bool | None = None) -> str:
        return normalize_text(
            text,
            case_sensitive=self.case_sensitive,
            strip=self.strip if strip is None else strip,
            collapse_whitespace=self.collapse_whitespace,
            ignore_punctuation=self.ignore_punctuation,
        )

    def _longer_than(self, output: str, limit: int) -> bool:
        """Cheap check on a head slice: is the normalized output surely longer than ``limit``?

        Normalization is per character (whitespace runs collapse locally), so the normalized
        head is a prefix of the normalized whole; this skips normalizing megabytes.
        """
        cut = 4 * limit + 1024
        if len(output) <= cut:
            return False
        head = self._norm(output[:cut], strip=False)
        return len(head.strip() if self.strip else head) > limit

    def score(self, output: str, expected: Any, case: Any, record: Any) -> Score:
        answers = expected_texts(expected, self.name)
        targets = [self._norm(a) for a in answers]
        if not self._longer_than(output, max(map(len, targets))):
            got = self._norm(output)
            for answer, target in zip(answers, targets, strict=True):
                if got == target:
                    return Score.passed(True, f"matches {clip(answer)}")
        return Score.passed(False, f"{clip(output)} does not match {_answers(answers)}")


class _Substring(BaseScorer):
    def __init__(
        self,
        *,
        case_sensitive: bool = False,
        collapse_whitespace: bool = True,
        name: str | None = None,
        expected: Any = None,
    ) -> None:
        super().__init__(name=name, expected=expected)
        self.case_sensitive, self.collapse_whitespace = case_sensitive, collapse_whitespace

    def _found(self, output: str, expected: Any) -> tuple[list[str], list[str]] | None:
        needles = expected_texts(expected, self.name, drop_empty=True)
        if not needles:
            return None
        flags = 0 if self.case_sensitive else re.IGNORECASE
        found = [n for n in needles if _needle(n, self.collapse_whitespace, flags).search(output)]
        return found, [n for n in needles if n not in found]


@functools.lru_cache(maxsize=512)
def _needle(text: str, collapse_whitespace: bool, flags: int) -> re.Pattern[str]:
    """A regex for a literal needle; whitespace runs match any whitespace (no copy of the output)."""
    words = text.split() if collapse_whitespace else [text]
    return re.compile(r"\s+".join(map(re.escape, words)) if words else re.escape(text), flags)


class Contains(_Substring):
    """The output contains the expected text; with a list, any of them (``mode="all"``: all)."""

    default_name = "contains"

    def __init__(
        self,
        *,
        mode: str = "any",
        case_sensitive: bool = False,
        collapse_whitespace: bool = True,
        name: str | None = None,
        expected: Any = None,
    ) -> None:
        if mode not in ("any", "all"):
            raise BenchworkError(f"contains: mode must be 'any' or 'all', got {mode!r}")
        super().__init__(
            case_sensitive=case_sensitive,
            collapse_whitespace=collapse_whitespace,
            name=name,
            expected=expected,
        )
        self.mode = mode

    def score(self, output: str, expected: Any, case: Any, record: Any) -> Score:
        result = self._found(output, expected)
        if result is None:
            return Score.skipped(NO_EXPECTED)
        found, missing = result
        ok = not missing if self.mode == "all" else bool(found)
        if ok:
            return Score.passed(True, "contains " + ", ".join(map(clip, found)))
        return Score.passed(False, "missing " + ", ".join(map(clip, missing)))


class NotContains(_Substring):
    """The output contains none of the expected texts."""

    default_name = "not_contains"

    def score(self, output: str, expected: Any, case: Any, record: Any) -> Score:
        result = self._found(output, expected)
        if result is None:
            return Score.skipped(NO_EXPECTED)
        found, _ = result
        if found:
            return Score.passed(False, "contains " + ", ".join(map(clip, found)))
        return Score.passed(True, "contains none of the forbidden texts")


_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE, "a": re.ASCII}


def _parse_flags(flags: str) -> int:
    value = 0
    for ch in flags or "":
        if ch not in _FLAGS:
            raise BenchworkError(
                f"regex: unknown flag {ch!r} in {flags!r}; allowed flags: {''.join(_FLAGS)}"
            )
        value |= _FLAGS[ch]
    return value


@functools.lru_cache(maxsize=512)
def _compile(pattern: str, flags: int, origin: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, flags)
    except re.error as e:
        raise BenchworkError(f"regex: invalid pattern {pattern!r}{origin}: {e}") from None


class Regex(BaseScorer):
    """``re.search`` of ``pattern`` (default: the expected value, or any of a list, as regex)."""

    default_name = "regex"

    def __init__(
        self,
        pattern: str | None = None,
        *,
        flags: str = "i",
        name: str | None = None,
        expected: Any = None,
    ) -> None:
        super().__init__(name=name, expected=expected)
        self.pattern, self.flags = pattern, flags
        self._flags = _parse_flags(flags)
        self._compiled = _compile(pattern, self._flags, "") if pattern is not None else None

    @property
    def needs_expected(self) -> bool:  # type: ignore[override]
        return self._compiled is None

    def score(self, output: str, expected: Any, case: Any, record: Any) -> Score:
        if self._compiled is not None:
            patterns = [self._compiled]
        else:
            texts = expected_texts(expected, self.name, drop_empty=True)
            if not texts:
                return Score.skipped(NO_EXPECTED)
            patterns = [
                _compile(t, self._flags, " (from the case's expected value)") for t in texts
            ]
        for p in patterns:
            m = p.search(output)
            if m:
                return Score.passed(True, f"matched {clip(m.group(0))} at {m.start()}")
        shown = " | ".join(f"/{p.pattern}/" for p in patterns)
        return Score.passed(False, f"no match for {shown[:200]}")


class StartsWith(BaseScorer):
    """The output (leading whitespace ignored) starts with the expected text or any of a list."""

    default_name = "starts_with"

    def __init__(
        self,
        *,
        case_sensitive: bool = False,
        strip: bool = True,
        name: str | None = None,
        expected: Any = None,
    ) -> None:
        super().__init__(name=name, expected=expected)
        self.case_sensitive, self.strip = case_sensitive, strip

    def score(self, output: str, expected: Any, case: Any, record: Any) -> Score:
        prefixes = expected_texts(expected, self.name, drop_empty=True)
        if not prefixes:
            return Score.skipped(NO_EXPECTED)
        head = output.lstrip() if self.strip else output
        fold = (lambda s: s) if self.case_sensitive else str.casefold
        for prefix in prefixes:
            want = fold(prefix.strip() if self.strip else prefix)
            # casefold never shortens text, so a slice as long as the prefix is enough
            if fold(head[: len(want) + 8]).startswith(want):
                return Score.passed(True, f"starts with {clip(prefix)}")
        return Score.passed(False, f"{clip(head, 40)} does not start with {_answers(prefixes)}")


register_scorer("exact", Exact)
register_scorer("contains", Contains)
register_scorer("not_contains", NotContains)
register_scorer("regex", Regex)
register_scorer("starts_with", StartsWith)
