"""One test case and the field names a suite file may use.

Kept apart from ``Suite`` so that the file reader and writer can build and inspect cases
without importing the suite class (which imports them).
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from typing import Any

from benchwork.suite._check import _check_case

__all__ = ["CASE_FIELDS", "SUITE_FIELDS", "Case"]

CASE_FIELDS = ("id", "input", "vars", "expected", "tags", "tools", "metadata")
SUITE_FIELDS = (
    "name",
    "description",
    "version",
    "system",
    "template",
    "scorers",
    "metadata",
    "cases",
)


def _short(text: str, width: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


@dataclass
class Case:
    """One test case: a prompt (a string template or chat messages) and what a good answer is."""

    id: str
    input: str | list[dict[str, Any]]
    vars: dict[str, Any] = field(default_factory=dict)
    expected: Any = None
    tags: list[str] = field(default_factory=list)
    tools: list[dict[str, Any]] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_case(self)

    def to_dict(self) -> dict[str, Any]:
        """Every field as plain JSON data (deep-copied)."""
        return {f.name: copy.deepcopy(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def __repr__(self) -> str:
        text = self.input if isinstance(self.input, str) else f"<{len(self.input)} messages>"
        parts = [repr(self.id), repr(_short(text))]
        if self.expected is not None:
            parts.append(f"expected={_short(repr(self.expected), 30)}")
        if self.tags:
            parts.append(f"tags={self.tags!r}")
        return f"Case({', '.join(parts)})"
