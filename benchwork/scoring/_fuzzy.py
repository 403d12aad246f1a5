"""Fuzzy scorer: rapidfuzz similarity (``fuzz.ratio``) on normalized text."""

from __future__ import annotations

from typing import Any

from benchwork.errors import BenchworkError
from benchwork.scoring._registry import register_scorer
from benchwork.scoring._score import NO_EXPECTED, BaseScorer, Score, clip, expected_texts
from benchwork.scoring._text import normalize_text

__all__ = ["MAX_FUZZY_CHARS", "Fuzzy", "similarity"]

#: Only the first this many characters of each text are compared (ratio is quadratic).
MAX_FUZZY_CHARS = 10_000


def _prepare(text: str) -> tuple[str, bool]:
    cut = len(text) > 4 * MAX_FUZZY_CHARS
    norm = normalize_text(text[: 4 * MAX_FUZZY_CHARS])
    return norm[:MAX_FUZZY_CHARS], cut or len(norm) > MAX_FUZZY_CHARS


def similarity(a: str, b: str) -> float:
    """``fuzz.ratio`` of the normalized texts (first ``MAX_FUZZY_CHARS``), in 0..1."""
    from rapidfuzz import fuzz

    return fuzz.ratio(_prepare(a)[0], _prepare(b)[0]) / 100


def check_threshold(threshold: float | None, who: str) -> float | None:
    if threshold is None:
        return None
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise BenchworkError(f"{who}: threshold must be a number in 0..1, got {threshold!r}")
    if not 0 <= threshold <= 1:
        raise BenchworkError(f"{who}: threshold must be in 0..1 (e.g. 0.8), got {threshold!r}")
    return float(threshold)


class Fuzzy(BaseScorer):
    """Similarity to the expected text (best of a list); with ``threshold``, 1/0 pass/fail."""

    default_name = "fuzzy"

    def __init__(
        self, *, threshold: float | None = None, name: str | None = None, expected: Any = None
    ) -> None:
        super().__init__(name=name, expected=expected)
        self.threshold = check_threshold(threshold, "fuzzy")

    def score(self, output: str, expected: Any, case: Any, record: Any) -> Score:
        from rapidfuzz import fuzz

        answers = expected_texts(expected, self.name, drop_empty=True)
        if not answers:
            return Score.skipped(NO_EXPECTED)
        got, cut = _prepare(output)
        best, best_answer = -1.0, answers[0]
        for answer in answers:
            sim = fuzz.ratio(got, _prepare(answer)[0]) / 100
            if sim > best:
                best, best_answer = sim, answer
        note = f" (compared the first {MAX_FUZZY_CHARS} chars)" if cut else ""
        if self.threshold is None:
            return Score(best, None, f"similarity {best:.3f} to {clip(best_answer)}{note}")
        ok = best >= self.threshold
        sign = "≥" if ok else "<"
        return Score.passed(
            ok, f"similarity {best:.3f} {sign} {self.threshold:g} to {clip(best_answer)}{note}"
        )


register_scorer("fuzzy", Fuzzy)
