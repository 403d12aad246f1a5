"""Fixtures for chart tests: a synthetic run, and colours forgotten between tests."""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl
import pytest
from chartdata import synth


@pytest.fixture
def frame() -> pl.DataFrame:
    return synth()


@pytest.fixture(autouse=True)
def _fresh_colors() -> Iterator[None]:
    from benchwork.charts import reset_colors

    reset_colors()
    yield
    reset_colors()
