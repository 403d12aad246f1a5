"""Suites of test cases: data that is validated on construction, hashed, and rendered to messages."""

from benchwork.suite._case import Case
from benchwork.suite._suite import Suite
from benchwork.suite._template import render_template

__all__ = ["Case", "Suite", "render_template"]
