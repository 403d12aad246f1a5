"""Parse suite file text (YAML, JSON, JSONL, CSV) into data plus the line of each key and case.

Syntax errors become one SuiteError with the file's name and line; no raw yaml/json/csv
exception escapes. Validating the data into a Suite is ``benchwork.suite._read.build``.
"""

from __future__ import annotations

import bisect
import csv
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from benchwork.errors import SuiteError
from benchwork.suite._formats import _CSV_RESERVED

__all__ = ["Parsed"]


@dataclass
class Parsed:
    """What a file held (a mapping with 'cases', a case list, or None if empty) and where."""

    data: Any
    key_lines: dict[str, int] = field(default_factory=dict)
    case_lines: list[int] = field(default_factory=list)


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps date-like scalars as text: an answer '2024-01-01' is a string."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _parse_yaml(text: str, source: str) -> Parsed:
    loader = None
    try:
        loader = _Loader(text)  # checks for unprintable characters right away
        node = loader.get_single_node()
        if node is None:
            return Parsed(None)
        _check_duplicate_keys(node, source)
        data = loader.construct_document(node)
    except SuiteError:
        raise
    except yaml.MarkedYAMLError as e:
        mark, context = e.problem_mark or e.context_mark, ""
        if e.context and e.context_mark and e.problem:
            context = f" ({e.context} at line {e.context_mark.line + 1})"
        what = (e.problem or e.context or "invalid YAML") + context
        line = mark.line + 1 if mark else None
        raise SuiteError(f"YAML syntax error: {what}", source=source, line=line) from None
    except yaml.reader.ReaderError as e:
        line = text.count("\n", 0, e.position) + 1
        char = e.character if isinstance(e.character, int) else ord(e.character)
        message = f"YAML error: control character U+{char:04X} is not allowed"
        raise SuiteError(message, source=source, line=line) from None
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as e:
        raise SuiteError(f"YAML error: {e}", source=source) from None
    finally:
        if loader is not None:
            loader.dispose()
    parsed = Parsed(data)
    items = node
    if isinstance(node, yaml.MappingNode):
        items = None
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                parsed.key_lines.setdefault(key.value, key.start_mark.line + 1)
                if key.value == "cases":
                    items = value
    if isinstance(items, yaml.SequenceNode):
        parsed.case_lines = [item.start_mark.line + 1 for item in items.value]
    return parsed


def _check_duplicate_keys(root: yaml.Node, source: str) -> None:
    """PyYAML keeps the last of two equal keys silently; a repeated key is almost always a slip."""
    stack, seen_nodes = [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: set[str] = set()
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value != "<<":
                    if key.value in keys:
                        line = key.start_mark.line + 1
                        raise SuiteError(f"duplicate key {key.value!r}", source=source, line=line)
                    keys.add(key.value)
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


class _DuplicateKeyError(Exception):
    pass


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKeyError(key)
        out[key] = value
    return out


def _json_value(text: str, source: str, line_offset: int = 0) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_pairs)
    except json.JSONDecodeError as e:
        message = f"JSON syntax error: {e.msg} (column {e.colno})"
        raise SuiteError(message, source=source, line=e.lineno + line_offset) from None
    except _DuplicateKeyError as e:
        line = line_offset or None
        raise SuiteError(f"duplicate key {e.args[0]!r}", source=source, line=line) from None
    except (ValueError, RecursionError) as e:
        raise SuiteError(f"JSON error: {e}", source=source, line=line_offset or None) from None


def _parse_json(text: str, source: str) -> Parsed:
    if not text.strip():
        return Parsed(None)
    data = _json_value(text, source)
    key_lines, case_lines = _json_positions(text)
    return Parsed(data, key_lines, case_lines)


_WS = re.compile(r"[ \t\n\r]*")


def _json_positions(text: str) -> tuple[dict[str, int], list[int]]:
    """Lines of the top-level keys and of each case object in valid JSON text (best effort)."""
    decoder = json.JSONDecoder()
    newlines = [m.start() for m in re.finditer("\n", text)]
    key_lines: dict[str, int] = {}

    def line(i: int) -> int:
        return bisect.bisect_left(newlines, i) + 1

    def skip(i: int) -> int:
        return _WS.match(text, i).end()  # type: ignore[union-attr]

    def items(i: int) -> tuple[list[int], int]:  # text[i] == "["
        lines, i = [], skip(i + 1)
        while text[i] != "]":
            lines.append(line(i))
            i = skip(decoder.raw_decode(text, i)[1])
            i = skip(i + 1) if text[i] == "," else i
        return lines, i + 1

    try:
        i = skip(0)
        if text[i] == "[":
            return key_lines, items(i)[0]
        case_lines: list[int] = []
        i = skip(i + 1) if text[i] == "{" else len(text)
        while i < len(text) and text[i] == '"':
            key_line = line(i)
            key, i = decoder.raw_decode(text, i)
            key_lines.setdefault(key, key_line)
            i = skip(skip(i) + 1)  # past ':'
            if key == "cases" and text[i] == "[":
                case_lines, i = items(i)
            else:
                i = decoder.raw_decode(text, i)[1]
            i = skip(i)
            i = skip(i + 1) if text[i] == "," else len(text)
        return key_lines, case_lines
    except (ValueError, IndexError):
        return key_lines, []


def _parse_jsonl(text: str, source: str) -> Parsed:
    cases, lines = [], []
    for n, raw in enumerate(text.split("\n"), 1):  # not splitlines(): JSON may hold U+2028
        if raw.strip():
            cases.append(_json_value(raw, source, line_offset=n - 1))
            lines.append(n)
    return Parsed(cases or None, case_lines=lines)


def _parse_csv(text: str, source: str) -> Parsed:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            return Parsed(None)
        header = [h.strip() for h in header]
        _check_header(header, source)
        cases, lines, start = [], [], reader.line_num + 1
        for row in reader:
            line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in row):
                continue  # blank line, or a spreadsheet's empty trailing row
            if len(row) > len(header):
                message = f"row has {len(row)} cells but the header has {len(header)} columns"
                raise SuiteError(message, source=source, line=line)
            cases.append(_csv_case(dict(zip(header, row, strict=False))))
            lines.append(line)
    except csv.Error as e:
        raise SuiteError(f"CSV error: {e}", source=source, line=reader.line_num) from None
    if not cases:
        raise SuiteError("the suite has no cases (the CSV has only a header)", source=source)
    return Parsed(cases, case_lines=lines)


def _check_header(header: list[str], source: str) -> None:
    def fail(message: str, column: str | None = None) -> SuiteError:
        return SuiteError(message, source=source, line=1, field=column)

    for i, column in enumerate(header):
        if not column:
            raise fail(f"column {i + 1} has no name in the header")
        if column in header[:i]:
            raise fail(f"column {column!r} appears twice in the header", column)
        if column in _CSV_RESERVED:
            message = f"a {column!r} column is not allowed: CSV holds cases only; put {column!r} in a YAML or JSON suite file"
            raise fail(message, column)
        if column == "metadata.":
            raise fail("column 'metadata.' needs a key after the dot", column)
    if "input" not in header:
        near = [c for c in header if c.lower() in ("input", "prompt", "question")]
        hint = f"; rename {near[0]!r} to 'input'" if near else ""
        raise fail(
            f"the header has no 'input' column (columns: {', '.join(header)}){hint}", "input"
        )


def _csv_case(cells: dict[str, str]) -> dict[str, Any]:
    """A case mapping from one CSV row: known columns, ``metadata.<k>`` columns, the rest vars."""
    case: dict[str, Any] = {}
    variables: dict[str, str] = {}
    metadata: dict[str, str] = {}
    for column, value in cells.items():
        if column == "id":
            if value.strip():
                case["id"] = value
        elif column == "input":
            case["input"] = value
        elif column == "expected":
            case["expected"] = value if value != "" else None
        elif column == "tags":
            case["tags"] = [t.strip() for t in value.split("|") if t.strip()]
        elif column.startswith("metadata."):
            metadata[column.removeprefix("metadata.")] = value
        else:
            variables[column] = value
    return {**case, "vars": variables, "metadata": metadata}
