"""Text scorers: exact, contains, not_contains, regex, starts_with.

One normalisation, ``normalize_text``, serves every text scorer (and fuzzy and the tool
argument rules), so they agree on what "the same text" is:

1. zero-width and direction marks are dropped (ZWSP, ZWJ/ZWNJ, word joiner, BOM, soft
   hyphen, LRM/RLM and bidi embeddings);
2. NFKC: compatibility forms become plain ones (full-width ``ＡＢＣ`` → ``ABC``, ``ﬁ`` →
   ``fi``, no-break and thin spaces → spaces);
3. unless ``case_sensitive``: full case folding, then NFKC again (``Straße`` and
   ``STRASSE`` both become ``strasse``);
4. with ``ignore_punctuation``: punctuation dropped;
5. whitespace runs collapsed to one space and the ends stripped (where the scorer's options
   ask for it).

``regex`` matches the output after steps 1 and 2 only, so patterns keep seeing line breaks;
its ``i`` flag folds case fully, as step 3 does.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

from benchwork.errors import BenchworkError
from benchwork.scoring._registry import register_scorer
from benchwork.scoring._score import (
    NO_EXPECTED,
    REGEX_TIMEOUT_S,
    BaseScorer,
    Score,
    clip,
    compile_regex,
    expected_texts,
)

__all__ = ["Contains", "Exact", "NotContains", "Regex", "StartsWith", "normalize_text"]

_WS = re.compile(r"\s+")
_PUNCT = re.compile(r"[^\w\s]+")
_INVISIBLE = re.compile(
    "[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]"
)


def _nfkc(text: str) -> str:
    return text if unicodedata.is_normalized("NFKC", text) else unicodedata.normalize("NFKC", text)


def normalize_text(
    text: str,
    *,
    case_sensitive: bool = False,
    strip: bool = True,
    collapse_whitespace: bool = True,
    ignore_punctuation: bool = False,
) -> str:
    """The one text normalisation of all scorers (see the module docstring)."""
    text = _nfkc(_INVISIBLE.sub("", text))
    if not case_sensitive:
        text = _nfkc(text.casefold())
    if ignore_punctuation:
        text = _PUNCT.sub("", text).replace("_", "")
    if collapse_whitespace and strip:
        return " ".join(text.split())
    if collapse_whitespace:
        text = _WS.sub(" ", text)
    return text.strip() if strip else text


def _raw_form(text: str) -> str:
    """Steps 1 and 2 of the normalisation only: what ``regex`` matches."""
    return _nfkc(_INVISIBLE.sub("", text))


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
        # +1: the cut may split a pair that NFKC joins into one character
        return len(head.strip() if self.strip else head) > limit + 1

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

    def _norm(self, text: str) -> str:
        return normalize_text(
            text, case_sensitive=self.case_sensitive, collapse_whitespace=self.collapse_whitespace
        )

    def _found(self, output: str, expected: Any) -> tuple[list[str], list[str]] | None:
        needles = [(n, self._norm(n)) for n in expected_texts(expected, self.name, drop_empty=True)]
        needles = [(n, norm) for n, norm in needles if norm]
        if not needles:
            return None
        haystack = self._norm(output)
        found = [n for n, norm in needles if norm in haystack]
        return found, [n for n, _ in needles if n not in found]


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
    import regex

    if not isinstance(flags, str):
        raise BenchworkError(f"regex: option 'flags' must be a string such as 'i', got {flags!r}")
    value = 0
    for ch in flags:
        if ch not in _FLAGS:
            raise BenchworkError(
                f"regex: unknown flag {ch!r} in {flags!r}; allowed flags: {''.join(_FLAGS)}"
            )
        value |= _FLAGS[ch]
    if value & re.IGNORECASE:
        value |= regex.FULLCASE  # "ß" matches "SS", as casefold() has it
    return value


def _compile(pattern: str, flags: int, origin: str) -> Any:
    import regex

    try:
        return compile_regex(pattern, flags)
    except (regex.error, ValueError, OverflowError, RecursionError) as e:
        raise BenchworkError(f"regex: invalid pattern {pattern!r}{origin}: {e}") from None


def _check_timeout(timeout: Any) -> float:
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not math.isfinite(timeout)
        or timeout <= 0
    ):
        raise BenchworkError(
            f"regex: option 'timeout' must be a number of seconds > 0, got {timeout!r}"
        )
    return float(timeout)


class Regex(BaseScorer):
    """A regex search of ``pattern`` (default: the expected value, or any of a list, as regex).

    Matching uses the ``regex`` engine with a time limit per search (``timeout`` seconds): a
    pattern that backtracks catastrophically gives that row an error score, never a hang.
    """

    default_name = "regex"
    offload = "always"  # catastrophic backtracking needs no long output

    def __init__(
        self,
        pattern: str | None = None,
        *,
        flags: str = "i",
        timeout: float = REGEX_TIMEOUT_S,
        name: str | None = None,
        expected: Any = None,
    ) -> None:
        super().__init__(name=name, expected=expected)
        if pattern is not None and not isinstance(pattern, str):
            raise BenchworkError(f"regex: pattern must be a string, got {type(pattern).__name__}")
        self.pattern, self.flags = pattern, flags
        self.timeout = _check_timeout(timeout)
        self._flags = _parse_flags(flags)
        self._compiled = _compile(pattern, self._flags, "") if pattern is not None else None
        if expected is not None and pattern is None:
            self.check_expected(expected, None)

    @property
    def needs_expected(self) -> bool:  # type: ignore[override]
        return self._compiled is None

    def _patterns(self, expected: Any) -> list[Any]:
        texts = expected_texts(expected, self.name, drop_empty=True)
        return [_compile(t, self._flags, " (from the case's expected value)") for t in texts]

    def check_expected(self, expected: Any, case: Any) -> None:
        self._patterns(expected)

    def score(self, output: str, expected: Any, case: Any, record: Any) -> Score:
        patterns = [self._compiled] if self._compiled is not None else self._patterns(expected)
        if not patterns:
            return Score.skipped(NO_EXPECTED)
        text = _raw_form(output)
        for p in patterns:
            try:
                m = p.search(text, timeout=self.timeout)
            except TimeoutError:
                return Score.error(
                    f"regex: /{p.pattern[:100]}/ gave up after {self.timeout:g} s on this "
                    "output (catastrophic backtracking?)"
                )
            if m:
                return Score.passed(True, f"matched {clip(m.group(0))} at {m.start()}")
        shown = " | ".join(f"/{p.pattern}/" for p in patterns)
        return Score.passed(False, f"no match for {shown[:200]}")


class StartsWith(BaseScorer):
    """The normalized output starts with the normalized expected text or any of a list."""

    default_name = "starts_with"

    def __init__(
        self,
        *,
        case_sensitive: bool = False,
        strip: bool = True,
        collapse_whitespace: bool = True,
        name: str | None = None,
        expected: Any = None,
    ) -> None:
        super().__init__(name=name, expected=expected)
        self.case_sensitive, self.strip = case_sensitive, strip
        self.collapse_whitespace = collapse_whitespace

    def _norm(self, text: str, strip: bool) -> str:
        return normalize_text(
            text,
            case_sensitive=self.case_sensitive,
            strip=strip,
            collapse_whitespace=self.collapse_whitespace,
        )

    def _head(self, output: str, n: int) -> str:
        """The normalized output's first ``n`` + 16 characters, normalizing no more than
        needed (a prefix normalizes to a prefix of the whole, but for its last few)."""
        size = 4 * n + 64
        while True:
            head = self._norm(output[:size], strip=False)
            head = head.lstrip() if self.strip else head
            if len(head) >= n + 16 or size >= len(output):
                return head
            size *= 4

    def score(self, output: str, expected: Any, case: Any, record: Any) -> Score:
        prefixes = expected_texts(expected, self.name, drop_empty=True)
        wants = [(p, self._norm(p, self.strip)) for p in prefixes]
        wants = [(p, w) for p, w in wants if w]
        if not wants:
            return Score.skipped(NO_EXPECTED)
        head = self._head(output, max(len(w) for _, w in wants))
        for prefix, want in wants:
            if head.startswith(want):
                return Score.passed(True, f"starts with {clip(prefix)}")
        return Score.passed(False, f"{clip(head, 40)} does not start with {_answers(prefixes)}")


register_scorer("exact", Exact)
register_scorer("contains", Contains)
register_scorer("not_contains", NotContains)
register_scorer("regex", Regex)
register_scorer("starts_with", StartsWith)
