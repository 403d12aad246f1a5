"""Every Target field is checked at construction, with the target and field named.

Seen in adversarial testing: ``timeout_s: "fast"`` raised "'<=' not supported between 'str'
and 'int'" naming no field; ``concurrency: true`` and ``timeout_s: .nan`` were accepted.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from benchwork.errors import TargetError
from benchwork.target import Target, load_targets


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("timeout_s", "fast"),
        ("timeout_s", math.nan),
        ("timeout_s", math.inf),
        ("timeout_s", 0),
        ("timeout_s", True),
        ("concurrency", True),
        ("concurrency", 2.5),
        ("concurrency", "4"),
        ("concurrency", 0),
        ("rpm", math.nan),
        ("rpm", "60"),
        ("rpm", -1),
        ("input_per_mtok", math.nan),
        ("output_per_mtok", -0.5),
        ("output_per_mtok", "cheap"),
        ("api_base", 8000),
        ("api_base", "  "),
        ("name", ""),
        ("cache_endpoint", 3),
    ],
)
def test_bad_field_is_a_target_error_naming_it(field: str, value: object) -> None:
    with pytest.raises(TargetError) as err:
        Target("openai/m", name="t1", **{field: value}) if field != "name" else Target(
            "openai/m",
            name=value,  # type: ignore[arg-type]
        )
    assert repr(field) in str(err.value)


def test_targets_file_names_the_file_target_and_field(tmp_path: Path) -> None:
    path = tmp_path / "targets.yaml"
    path.write_text("- model: openai/a\n  timeout_s: fast\n", encoding="utf-8")
    with pytest.raises(TargetError) as err:
        load_targets(path)
    message = str(err.value)
    assert str(path) in message and "target #1" in message and "'timeout_s'" in message


@given(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=5)
    )
)
def test_any_timeout_value_is_accepted_only_when_a_positive_finite_number(value: object) -> None:
    good = (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )
    try:
        Target("openai/m", timeout_s=value)  # type: ignore[arg-type]
    except TargetError:
        assert not good
    else:
        assert good
