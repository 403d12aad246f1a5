"""Numeric extraction and the numeric scorer (issue 9, item 1): characters glued to a digit are
never read as a sign; every notation is read whole or reported unreadable, never a wrong value;
a tolerance that is not a finite number >= 0 is refused when the scorer is built."""

from __future__ import annotations

import math

import pytest

from benchwork.errors import BenchworkError
from benchwork.results import CallRecord
from benchwork.scoring import Numeric, extract_number, find_number


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


# ---- never a wrong number: read the notation whole, or report why not (issue 9, item 1)

READ = [
    # thousands groups: space, no-break, thin, narrow no-break, apostrophe, underscore, mixed
    ("1 000", 1000.0),
    ("1\u00a0000", 1000.0),
    ("1\u2009000", 1000.0),
    ("1\u202f000\u202f000", 1_000_000.0),
    ("1\u202f000 000", 1_000_000.0),
    ("1'000'000", 1_000_000.0),
    ("1’000", 1000.0),
    ("1_000", 1000.0),
    ("1 234,56", 1234.56),
    ("1 234.5", 1234.5),
    ("The total is 12 345 km", 12345.0),
    # decimal comma, European grouping
    ("3,14", 3.14),
    ("Pi is about 3,14.", 3.14),
    ("0,5", 0.5),
    ("0,500", 0.5),
    ("3,1415", 3.1415),
    ("1.234,5", 1234.5),
    ("1.234.567", 1_234_567.0),
    ("1,234", 1234.0),  # a comma before exactly three digits stays a thousands group
    # fractions and mixed numbers
    ("1/2", 0.5),
    ("The answer is 3/4.", 0.75),
    ("1 / 4", 0.25),
    ("3 1/2", 3.5),
    ("-1/2", -0.5),
    ("½", 0.5),
    ("1½", 1.5),
    ("2 ¾ cups", 2.75),
    ("1\u20442", 0.5),
    # other bases
    ("0x1F", 31.0),
    ("0X1f", 31.0),
    ("-0x10", -16.0),
    ("0b101", 5.0),
    ("0o17", 15.0),
    # powers and scientific forms
    ("2^10", 1024.0),
    ("10^-3", 0.001),
    ("10⁸", 1e8),
    ("3 × 10^8", 3e8),
    ("3x10^8 m/s", 3e8),
    ("1.5·10⁻³", 0.0015),
    ("6.02e23", 6.02e23),
    ("1.5 million", 1.5e6),
    ("2 billion", 2e9),
]


@pytest.mark.parametrize(("text", "value"), READ)
def test_notations_are_read_whole(text: str, value: float) -> None:
    found = find_number(text)
    assert found is not None and found.problem is None, found
    assert math.isclose(found.value, value, rel_tol=1e-12)


UNREADABLE = [
    ("0x1G", "hexadecimal"),
    ("0b102", "hexadecimal, binary or octal"),
    ("1/0", "divides by zero"),
    ("1,2,3", "read whole"),
    ("3.11.7", "read whole"),
    ("1/2/2024", "read whole"),
    ("1000\u2009000", "read whole"),
    ("1e400", "range of a float"),
    ("2^99999", "range of a float"),
    ("1" * 5000, "range of a float"),
]


@pytest.mark.parametrize(("text", "why"), UNREADABLE)
def test_unreadable_numbers_are_not_found_with_a_reason(text: str, why: str) -> None:
    found = find_number(text)
    assert found is not None and found.value is None and why in found.problem
    assert extract_number(text) is None  # never part of the token ("0x1G" is not 0)


@pytest.mark.parametrize(
    ("output", "expected", "value"),
    [("1 000", 1000, 1.0), ("3,14", 3.14, 1.0), ("1/2", 0.5, 1.0), ("0x1F", 31, 1.0),
     ("1 000", 0, 0.0), ("3,14", 14, 0.0), ("1/2", 2, 0.0), ("0x1F", 0, 0.0)],
)  # fmt: skip
def test_numeric_scores_the_intended_number(output: str, expected: float, value: float) -> None:
    rec = CallRecord(run_id="r", case_id="c", target="t", model="m", output_text=output)
    assert Numeric()({"id": "c", "expected": expected}, rec).value == value


def test_numeric_unreadable_number_is_a_fail_with_the_reason() -> None:
    rec = CallRecord(run_id="r", case_id="c", target="t", model="m", output_text="it is 0x1G")
    s = Numeric()({"id": "c", "expected": 0}, rec)
    assert (s.value, s.label) == (0.0, "fail")
    assert s.explanation.startswith("no number read: '0x1G' is not a valid hexadecimal")


def test_infinite_expected_with_relative_tolerance_needs_infinity() -> None:
    rec = CallRecord(run_id="r", case_id="c", target="t", model="m", output_text="5")
    assert Numeric(tolerance=0.1, relative=True)({"expected": math.inf}, rec).value == 0.0


@pytest.mark.parametrize("tolerance", [math.nan, math.inf, -math.inf, -0.5, "0.1", True, None])
def test_bad_tolerance_is_rejected_at_construction(tolerance: object) -> None:
    with pytest.raises(BenchworkError, match="numeric: option 'tolerance' must be a"):
        Numeric(tolerance=tolerance)  # type: ignore[arg-type]


def test_bad_tolerance_in_a_spec_names_the_field() -> None:
    from benchwork.scoring import get_scorer

    with pytest.raises(BenchworkError, match=r"'tolerance'.*nan"):
        get_scorer({"type": "numeric", "tolerance": float("nan")})


@pytest.mark.parametrize("flag", ["relative", "percent_as_fraction"])
def test_flags_must_be_booleans(flag: str) -> None:
    with pytest.raises(BenchworkError, match=f"'{flag}' must be true or false"):
        Numeric(**{flag: "yes"})  # type: ignore[arg-type]
