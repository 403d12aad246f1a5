"""Numeric extraction: characters glued to a digit are never read as a sign (issue 9, item 1)."""

from __future__ import annotations

import pytest

from benchwork.scoring import extract_number


@pytest.mark.parametrize("text", ["`42`", "[42]", "=42", "€42", "→42", "(42)", "{42}", "x=42"])
def test_glued_characters_are_not_signs(text: str) -> None:
    assert extract_number(text)[0] == 42.0


@pytest.mark.parametrize("text", ["v2", "w38", "gpt4"])
def test_digits_glued_to_letters_are_part_of_a_word(text: str) -> None:
    assert extract_number(text) is None  # no raise; the scorer reports "no number"


@pytest.mark.parametrize(
    ("text", "value"), [("-3", -3.0), ("−3", -3.0), ("+7", 7.0), ("1e-3", 0.001)]
)
def test_real_signs_still_work(text: str, value: float) -> None:
    assert extract_number(text)[0] == value
