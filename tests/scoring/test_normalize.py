"""One normalisation for every text scorer (issue 9, item 4): exact, contains, not_contains,
starts_with, regex, fuzzy and the tool-argument rules agree on what "the same text" is."""

from __future__ import annotations

from typing import Any

import pytest

from benchwork.results import CallRecord
from benchwork.scoring import Contains, Exact, Fuzzy, NotContains, Regex, StartsWith
from benchwork.scoring._text import normalize_text


def value(scorer: Any, output: str, expected: Any) -> float | None:
    record = CallRecord(run_id="r", case_id="c", target="t", model="m", output_text=output)
    return scorer({"id": "c", "expected": expected}, record).value


# (output, expected): the same text by the one normalisation
SAME = [
    ("STRASSE", "Straße"),  # full case folding: exact said 1, contains said 0
    ("Straße", "STRASSE"),
    ("Pa\u200bris", "Paris"),  # zero-width space
    ("\ufeffParis", "paris"),  # byte-order mark
    ("Pa\u00adris", "Paris"),  # soft hyphen
    ("\u200eParis\u200f", "Paris"),  # direction marks
    ("ＰＡＲＩＳ", "paris"),  # full-width
    ("ﬁnal", "final"),  # ligature
    ("New\u00a0York", "new york"),  # no-break space
    ("New\u2009\u2009York", "New York"),  # thin spaces
    ("new\n\tyork", "New York"),
    ("Ǆ", "ǆ"),  # title/upper/lower digraphs
    ("ΣΊΣΥΦΟΣ", "σίσυφος"),  # final sigma
    ("e\u0301", "é"),  # combining accent vs precomposed
]


@pytest.mark.parametrize(("output", "expected"), SAME)
def test_every_text_scorer_treats_them_as_the_same(output: str, expected: str) -> None:
    assert value(Exact(), output, expected) == 1.0
    assert value(Contains(), f"say {output} now", expected) == 1.0
    assert value(NotContains(), f"say {output} now", expected) == 0.0
    assert value(StartsWith(), f"{output} is it", expected) == 1.0
    assert value(Fuzzy(), output, expected) == 1.0
    assert normalize_text(output) == normalize_text(expected)


@pytest.mark.parametrize(
    ("output", "pattern"),
    [
        ("STRASSE", "straße"),
        ("Straße", "STRASSE"),
        ("Pa\u200bris", "^paris$"),
        ("ＰＡＲＩＳ", "paris"),
    ],
)
def test_regex_folds_case_fully_and_ignores_invisible_characters(output: str, pattern: str) -> None:
    assert value(Regex(pattern), output, None) == 1.0


def test_regex_keeps_line_breaks() -> None:
    assert value(Regex(r"^b$", flags="im"), "a\nb\nc", None) == 1.0
    assert value(Regex(r"a\n\nb"), "a\n\nb", None) == 1.0


def test_case_sensitive_options_still_see_case() -> None:
    assert value(Exact(case_sensitive=True), "STRASSE", "Straße") == 0.0
    assert value(Contains(case_sensitive=True), "STRASSE", "Straße") == 0.0
    assert value(StartsWith(case_sensitive=True), "STRASSE", "Straße") == 0.0
    assert value(Exact(case_sensitive=True), "ＡＢＣ", "ABC") == 1.0  # NFKC all the same


def test_whitespace_and_punctuation_options() -> None:
    assert value(Contains(collapse_whitespace=False), "a  b", "a b") == 0.0
    assert value(Contains(), "a  b", "a b") == 1.0
    assert value(Exact(ignore_punctuation=True), "Paris!", "paris") == 1.0
    assert value(StartsWith(strip=False), "  Paris", "Paris") == 0.0
    assert value(StartsWith(), "  Paris", "Paris") == 1.0


def test_starts_with_a_long_run_of_invisible_characters() -> None:
    output = "P" + "\u200b" * 5000 + "aris and more"
    assert value(StartsWith(), output, "paris") == 1.0


def test_tool_argument_rules_use_the_same_normalisation() -> None:
    from benchwork.scoring._tools import _matches

    assert _matches("exact", "STRASSE", "Straße", 0.8)
    assert _matches("contains", "in Pa\u200bris today", "paris", 0.8)


def test_the_module_docstring_documents_it() -> None:
    from benchwork.scoring import _text

    doc = _text.__doc__ or ""
    assert "NFKC" in doc and "case folding" in doc and "zero-width" in doc
