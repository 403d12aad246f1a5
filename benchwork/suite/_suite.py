"""Suites of test cases: validated on construction, hashed, and rendered into chat messages.

A suite is data (cases, an optional system prompt and template); it never calls a model.
Files are read by ``benchwork.suite._read`` and written by ``benchwork.suite._write``.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

from benchwork._util.canonical import canonical_json
from benchwork.errors import SuiteError
from benchwork.suite import _read, _write
from benchwork.suite._case import Case
from benchwork.suite._check import _json_problem, _kind
from benchwork.suite._template import _VAR, render_template

__all__ = ["Suite"]


@dataclass
class Suite:
    """Named cases plus the prompt settings shared by all of them; ``hash`` identifies the content."""

    name: str
    cases: list[Case]
    system: str | None = None
    template: str | None = None
    scorers: list[Any] = field(default_factory=list)
    version: str | None = None
    description: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_suite(self)

    # -- files and dicts -------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | PathLike[str], *, name: str | None = None) -> Suite:
        """Read a suite from .yaml/.yml, .json, .jsonl or .csv; *name* overrides the file's name."""
        return _read.load(path, name=name, make=cls)

    def save(self, path: str | PathLike[str]) -> Path:
        """Write the suite in the format its extension names; loading it back gives an equal suite."""
        return _write.save(self, path)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | list[Any], source: str | None = None) -> Suite:
        """Build from the mapping (or bare case list) a YAML/JSON file holds; *source* names it in errors."""
        default = Path(source).stem if source else None
        return _read.build(data, source=source, default_name=default, make=cls)

    @classmethod
    def from_records(
        cls, records: Iterable[Mapping[str, Any]], *, name: str = "suite", **suite_fields: Any
    ) -> Suite:
        """Build from case dicts (e.g. ``frame.to_dicts()``); ids default to positions "1", "2", …"""
        return cls.from_dict({"name": name, **suite_fields, "cases": list(records)})

    @classmethod
    def demo(cls) -> Suite:
        """The bundled 24-case factual Q&A suite ("demo-qa") used by the demo and the simulator."""
        from importlib.resources import files

        text = (files("benchwork") / "data" / "demo_suite.yaml").read_text(encoding="utf-8")
        return _read.loads(text, source="demo_suite.yaml", fmt="yaml", make=cls)

    def to_dict(self) -> dict[str, Any]:
        """Every field as plain JSON data, cases included (the form ``hash`` is computed over)."""
        out = {
            f.name: copy.deepcopy(getattr(self, f.name))
            for f in dataclasses.fields(self)
            if f.name != "cases"
        }
        return {**out, "cases": [c.to_dict() for c in self.cases]}

    @property
    def hash(self) -> str:
        """``sha256:<hex>`` over the canonical JSON of everything but ``description``."""
        content = self.to_dict()
        del content["description"]
        blob = canonical_json(content)  # the cache key's canonical form: 0 and 0.0 agree
        return "sha256:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()

    # -- prompts ---------------------------------------------------------------------------
    def messages(self, case: Case | str) -> list[dict[str, Any]]:
        """The chat messages to send for *case* (or its id): system prompt, then the rendered input."""
        if isinstance(case, str):
            case = self[case]
        out: list[dict[str, Any]] = []
        if self.system is not None:
            out.append({"role": "system", "content": _render(self.system, case.vars, case.id)})
        if isinstance(case.input, str):
            text = _render(case.input, case.vars, case.id)
            if self.template is not None:
                text = _render(self.template, {**case.vars, "input": text}, case.id)
            out.append({"role": "user", "content": text})
            return out
        for message in case.input:
            message = copy.deepcopy(message)
            content = message.get("content")
            if isinstance(content, str):
                message["content"] = _render(content, case.vars, case.id)
            elif isinstance(content, list):
                for part in content:
                    if isinstance(part, dict) and isinstance(part.get("text"), str):
                        part["text"] = _render(part["text"], case.vars, case.id)
            out.append(message)
        return out

    def expected_by_prompt(self) -> dict[str, str]:
        """Rendered last user message → ``str(expected)``, for cases that have one (the simulator's key)."""
        answers: dict[str, str] = {}
        for case in self.cases:
            if case.expected is None:
                continue
            users = [m for m in self.messages(case) if m.get("role") == "user"]
            if users and isinstance(users[-1].get("content"), str):
                answers[users[-1]["content"]] = str(case.expected)
        return answers

    def expected_tools_by_prompt(self) -> dict[str, dict[str, Any]]:
        """Rendered last user message → ``{"tool_calls", "final"}`` for cases with
        ``metadata["expected_tool_calls"]`` (the simulator's tool answers; see ``benchwork.sim.tools``).
        """
        answers: dict[str, dict[str, Any]] = {}
        for case in self.cases:
            calls = case.metadata.get("expected_tool_calls")
            if not isinstance(calls, list):
                continue
            users = [m for m in self.messages(case) if m.get("role") == "user"]
            if users and isinstance(users[-1].get("content"), str):
                final = None if case.expected is None else str(case.expected)
                answers[users[-1]["content"]] = {"tool_calls": calls, "final": final}
        return answers

    # -- selection -------------------------------------------------------------------------
    def filter(
        self, tags: str | Iterable[str] | None = None, ids: str | Iterable[str] | None = None
    ) -> Suite:
        """A new suite with the cases having any of *tags* and (if given) an id in *ids*."""
        tag_set = {tags} if isinstance(tags, str) else None if tags is None else set(tags)
        id_set = {ids} if isinstance(ids, str) else None if ids is None else set(ids)
        if id_set is not None:
            unknown = sorted(id_set - {c.id for c in self.cases})
            if unknown:
                raise SuiteError(
                    f"no case with id {', '.join(map(repr, unknown))}", source=self.name
                )
        cases = [
            c
            for c in self.cases
            if (tag_set is None or tag_set.intersection(c.tags))
            and (id_set is None or c.id in id_set)
        ]
        if not cases:
            known = ", ".join(sorted({t for c in self.cases for t in c.tags})) or "none"
            among = f" among ids {sorted(id_set)}" if id_set else ""
            message = f"no case has any of tags {sorted(tag_set or [])}{among}; tags here: {known}"
            raise SuiteError(message, source=self.name)
        return dataclasses.replace(self, cases=cases)

    def __len__(self) -> int:
        return len(self.cases)

    def __iter__(self) -> Iterator[Case]:
        return iter(self.cases)

    def __contains__(self, item: object) -> bool:
        return any(c.id == item or c is item for c in self.cases)

    def __getitem__(self, case_id: str) -> Case:
        if not isinstance(case_id, str):
            raise TypeError(f"look cases up by id (a string), or use suite.cases[{case_id!r}]")
        for case in self.cases:
            if case.id == case_id:
                return case
        ids = [c.id for c in self.cases]
        close = difflib.get_close_matches(case_id, ids, n=3)
        hint = (
            f"did you mean {', '.join(map(repr, close))}?"
            if close
            else f"ids are {', '.join(map(repr, ids[:5]))}{', …' if len(ids) > 5 else ''}"
        )
        raise KeyError(f"suite {self.name!r} has no case with id {case_id!r}; {hint}")

    def __repr__(self) -> str:
        n = len(self.cases)
        return f"Suite({self.name!r}, {n} case{'' if n == 1 else 's'}, {self.hash[:15]}…)"


def _render(text: str, variables: Mapping[str, Any], case_id: str) -> str:
    return render_template(text, variables, case_id=case_id)


def _check_suite(suite: Suite) -> None:
    """Raise SuiteError for the first invalid suite field, duplicate id or unrenderable case."""

    def fail(message: str, field_name: str, case_id: str | None = None) -> SuiteError:
        return SuiteError(message, case_id=case_id, field=field_name)

    if not isinstance(suite.name, str) or not suite.name.strip():
        raise fail(f"'name' must be a non-empty string, got {_kind(suite.name)}", "name")
    for name in ("system", "template", "version", "description"):
        value = getattr(suite, name)
        if value is not None and not isinstance(value, str):
            hint = ' (quote it: version: "1.10")' if name == "version" else ""
            raise fail(f"{name!r} must be a string, got {_kind(value)}{hint}", name)
        if name in ("system", "template") and value is not None and not value.strip():
            raise fail(f"{name!r} is empty; remove it or write a prompt", name)
    if suite.template is not None and "input" not in _VAR.findall(suite.template):
        raise fail(
            "'template' does not use {{ input }}, so every case's input would be lost", "template"
        )
    if not isinstance(suite.scorers, list) or not all(
        isinstance(s, str | dict) for s in suite.scorers
    ):
        raise fail("'scorers' must be a list of scorer names or mappings", "scorers")
    if not isinstance(suite.metadata, dict):
        raise fail(f"'metadata' must be a mapping, got {_kind(suite.metadata)}", "metadata")
    for name in ("scorers", "metadata"):
        problem = _json_problem(getattr(suite, name), name)
        if problem:
            raise fail(f"{problem}: only JSON data is allowed", name)
    if not isinstance(suite.cases, list):
        if not isinstance(suite.cases, tuple):
            raise fail(f"'cases' must be a list of Case, got {_kind(suite.cases)}", "cases")
        suite.cases = list(suite.cases)
    if not suite.cases:
        raise fail("the suite has no cases", "cases")
    first: dict[str, int] = {}
    for n, case in enumerate(suite.cases, 1):
        if not isinstance(case, Case):
            hint = " (use Suite.from_records for dicts)" if isinstance(case, dict) else ""
            raise fail(f"case #{n} must be a Case, got {_kind(case)}{hint}", "cases")
        if case.id in first:
            raise fail(f"duplicate id: cases #{first[case.id]} and #{n} both use it", "id", case.id)
        first[case.id] = n
        suite.messages(case)  # every template variable must resolve now, not mid-run
