"""Read suite files (YAML, JSON, JSONL, CSV), keeping line numbers for error messages.

Every failure becomes one SuiteError like ``suite.yaml: line 12: case 'q7': 'input' is missing``;
no raw yaml/json/csv exception escapes. Parsing is in :mod:`benchwork.suite._parse`,
writing in :mod:`benchwork.suite._write`.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from benchwork.errors import SuiteError
from benchwork.suite._case import CASE_FIELDS, SUITE_FIELDS, Case
from benchwork.suite._check import _kind, _unknown_key_message
from benchwork.suite._formats import FORMATS, _format_of
from benchwork.suite._parse import _parse_csv, _parse_json, _parse_jsonl, _parse_yaml

__all__ = ["build", "load", "loads"]

S = TypeVar("S")


# -- entry points ----------------------------------------------------------------------------
def load(path: str | os.PathLike[str], *, make: Callable[..., S], name: str | None = None) -> S:
    """Read and validate the suite file at *path* (format chosen by extension); *make* builds it."""
    source = os.fspath(path)
    fmt = _format_of(source)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise SuiteError(_not_found(Path(path)), source=source) from None
    except IsADirectoryError:
        raise SuiteError("is a directory, not a suite file", source=source) from None
    except OSError as e:
        raise SuiteError(f"cannot read file: {e.strerror or e}", source=source) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise SuiteError(
            "not UTF-8 text; save the file as UTF-8", source=source, line=line
        ) from None
    return loads(text, source=source, fmt=fmt, name=name, make=make)


def loads(
    text: str, *, source: str, fmt: str, make: Callable[..., S], name: str | None = None
) -> S:
    """Parse suite *text* in format *fmt* ('yaml', 'json', 'jsonl', 'csv'); *source* names it."""
    parse = {"yaml": _parse_yaml, "json": _parse_json, "jsonl": _parse_jsonl, "csv": _parse_csv}
    parsed = parse[fmt](text, source)
    return build(
        parsed.data,
        source=source,
        key_lines=parsed.key_lines,
        case_lines=parsed.case_lines,
        default_name=Path(source).stem,
        name=name,
        make=make,
    )


def _not_found(path: Path) -> str:
    message = f"file not found (looked for {path.resolve()})"
    try:
        siblings = {p.stem: p.name for p in path.resolve().parent.iterdir() if p.suffix in FORMATS}
    except OSError:
        return message
    close = difflib.get_close_matches(path.stem, siblings, n=1)
    if path.stem in siblings and siblings[path.stem] != path.name:
        close = [path.stem]
    return message + (f"; did you mean {siblings[close[0]]!r}?" if close else "")


# -- building a Suite from parsed data --------------------------------------------------------
def build(
    data: Any,
    *,
    make: Callable[..., S],
    source: str | None = None,
    key_lines: dict[str, int] | None = None,
    case_lines: list[int] | None = None,
    default_name: str | None = None,
    name: str | None = None,
) -> S:
    """Validate parsed file data into a suite built by *make* (``Suite``), errors at their line."""
    key_lines = key_lines or {}
    case_lines = case_lines or []

    def error(message: str, **where: Any) -> SuiteError:
        return SuiteError(message, source=source, **where)

    if data is None:
        raise error("the file is empty: a suite needs at least one case")
    if isinstance(data, list):
        top: dict[str, Any] = {}
        cases, cases_line = data, None
    elif isinstance(data, dict):
        for key in data:
            if key not in SUITE_FIELDS:
                message = _unknown_key_message(key, SUITE_FIELDS, "top-level key")
                if key in CASE_FIELDS:
                    message += " (case fields belong to each case under 'cases:')"
                raise error(message, line=key_lines.get(key), field=str(key))
        if "cases" not in data:
            raise error("'cases' is missing: list the cases under 'cases:'", field="cases")
        top = {k: v for k, v in data.items() if k != "cases" and v is not None}
        cases, cases_line = data["cases"], key_lines.get("cases")
        if not isinstance(cases, list):
            message = f"'cases' must be a list of cases, got {_kind(cases)}"
            raise error(message, line=cases_line, field="cases")
    else:
        message = f"expected a mapping with 'cases', or a list of cases; got {_kind(data)}"
        raise error(message, line=1 if source else None)
    if not cases:
        raise error("the suite has no cases", line=cases_line, field="cases")
    if name is not None:
        top["name"] = name
    top.setdefault("name", default_name)
    if top["name"] is None:
        raise error("'name' is missing: give the suite a name", field="name")
    if isinstance(top.get("version"), int) and not isinstance(top["version"], bool):
        top["version"] = str(top["version"])

    built: list[Case] = []
    seen: dict[str, tuple[int, int | None, bool]] = {}  # id -> (position, line, id given)
    for n, raw in enumerate(cases, 1):
        line = case_lines[n - 1] if n <= len(case_lines) else None
        case, given = _build_case(raw, n, line, error)
        if case.id in seen:
            m, first_line, first_given = seen[case.id]
            message = (
                f"duplicate id: case #{m}{_at(first_line)} and case #{n}{_at(line)} both use it"
            )
            if not first_given:
                message += f" (case #{m} has no id, so its position is its id)"
            raise error(message, line=line, case_id=case.id, field="id")
        seen[case.id] = (n, line, given)
        built.append(case)
    try:
        return make(cases=built, **top)
    except SuiteError as e:
        if e.case_id in seen:
            n, line, given = seen[e.case_id]
            reason, cid = (e.reason, e.case_id) if given else (f"case #{n}: {e.reason}", None)
            raise error(reason, line=line, case_id=cid, field=e.field) from None
        line = key_lines.get(e.field) if e.field else None
        raise error(e.reason, line=line, case_id=e.case_id, field=e.field) from None


def _at(line: int | None) -> str:
    return f" (line {line})" if line else ""


def _build_case(raw: Any, n: int, line: int | None, error: Any) -> tuple[Case, bool]:
    """One Case from a file's case mapping; the id defaults to its 1-based position."""
    if isinstance(raw, Case):
        return raw, True
    if not isinstance(raw, dict):
        optional = ", ".join(f for f in CASE_FIELDS if f != "input")
        message = (
            f"case #{n} must be a mapping with 'input' (optional: {optional}), got {_kind(raw)}"
        )
        raise error(message, line=line)
    case_id = raw.get("id")
    if isinstance(case_id, int) and not isinstance(case_id, bool):
        case_id = str(case_id)
    label = case_id if isinstance(case_id, str) and case_id.strip() else None

    def case_error(message: str, field_name: str | None) -> SuiteError:
        if label is None:
            return error(f"case #{n}: {message}", line=line, field=field_name)
        return error(message, line=line, case_id=label, field=field_name)

    for key in raw:
        if key not in CASE_FIELDS:
            raise case_error(_unknown_key_message(key, CASE_FIELDS, "field"), str(key))
    if raw.get("input") is None:
        raise case_error("'input' is missing", "input")
    fields = {k: v for k, v in raw.items() if v is not None}
    fields["id"] = case_id if case_id is not None else str(n)
    try:
        return Case(**fields), case_id is not None
    except SuiteError as e:
        raise case_error(e.reason, e.field) from None
