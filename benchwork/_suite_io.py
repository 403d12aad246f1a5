"""Read and write suite files (YAML, JSON, JSONL, CSV), keeping line numbers for error messages.

Every failure becomes one SuiteError like ``suite.yaml: line 12: case 'q7': 'input' is missing``;
no raw yaml/json/csv exception escapes.
"""

from __future__ import annotations

import bisect
import csv
import difflib
import io
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from benchwork.errors import SuiteError
from benchwork.suite import CASE_FIELDS, SUITE_FIELDS, Case, Suite, _kind, _unknown_key_message

__all__ = ["FORMATS", "build", "load", "loads", "save"]

#: File extension -> format name.
FORMATS = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".jsonl": "jsonl", ".csv": "csv"}
_CASE_DEFAULTS: dict[str, Any] = {
    "vars": {},
    "expected": None,
    "tags": [],
    "tools": None,
    "metadata": {},
}
_SUITE_DEFAULTS: dict[str, Any] = {
    "description": None,
    "version": None,
    "system": None,
    "template": None,
    "scorers": [],
    "metadata": {},
}
_CSV_RESERVED = ("system", "template", "tools")  # columns a user may expect to act; CSV can't
_CSV_COLUMNS = ("id", "input", "expected", "tags")


@dataclass
class Parsed:
    """What a file held (a mapping with 'cases', a case list, or None if empty) and where."""

    data: Any
    key_lines: dict[str, int] = field(default_factory=dict)
    case_lines: list[int] = field(default_factory=list)


# -- entry points ----------------------------------------------------------------------------
def load(path: str | os.PathLike[str], *, name: str | None = None) -> Suite:
    """Read and validate the suite file at *path* (format chosen by extension)."""
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
    return loads(text, source=source, fmt=fmt, name=name)


def loads(text: str, *, source: str, fmt: str, name: str | None = None) -> Suite:
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
    )


def save(suite: Suite, path: str | os.PathLike[str]) -> Path:
    """Write *suite* to *path* in the format its extension names; returns the path."""
    source = os.fspath(path)
    dump = {"yaml": _dump_yaml, "json": _dump_json, "jsonl": _dump_jsonl, "csv": _dump_csv}
    text = dump[_format_of(source)](suite, source)
    try:
        Path(path).write_text(text, encoding="utf-8", newline="")
    except OSError as e:
        raise SuiteError(f"cannot write file: {e.strerror or e}", source=source) from None
    return Path(path)


def _format_of(source: str) -> str:
    suffix = Path(source).suffix.lower()
    if suffix in FORMATS:
        return FORMATS[suffix]
    what = f"unsupported file extension {suffix!r}" if suffix else "no file extension"
    raise SuiteError(f"{what}; supported: {', '.join(FORMATS)}", source=source)


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
    source: str | None = None,
    key_lines: dict[str, int] | None = None,
    case_lines: list[int] | None = None,
    default_name: str | None = None,
    name: str | None = None,
) -> Suite:
    """Validate parsed file data into a Suite, attributing errors to their line and case."""
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
        return Suite(cases=built, **top)
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


# -- parsers ----------------------------------------------------------------------------------
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


# -- writers ----------------------------------------------------------------------------------
def _compact(suite: Suite) -> dict[str, Any]:
    """The suite dict without default values, for readable files."""
    data = suite.to_dict()
    out = {"name": data["name"]}
    out |= {k: data[k] for k, default in _SUITE_DEFAULTS.items() if data[k] != default}
    return {**out, "cases": [_compact_case(c) for c in data["cases"]]}


def _compact_case(case: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in case.items() if k not in _CASE_DEFAULTS or v != _CASE_DEFAULTS[k]}


class _Dumper(yaml.SafeDumper):
    """SafeDumper that writes multi-line text as ``|`` blocks and short scalar lists inline."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.Node:
    inline = all(isinstance(v, str | int | float) and "\n" not in str(v) for v in value)
    inline = inline and len(str(value)) <= 60
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=inline)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(list, _represent_list)


def _dump_yaml(suite: Suite, source: str) -> str:
    return yaml.dump(
        _compact(suite), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100
    )


def _dump_json(suite: Suite, source: str) -> str:
    return json.dumps(_compact(suite), indent=2, ensure_ascii=False) + "\n"


def _cases_only(suite: Suite, fmt: str, source: str) -> None:
    """JSONL and CSV hold cases only: refuse to drop suite-level settings silently."""
    data = suite.to_dict()
    lost = [k for k, default in _SUITE_DEFAULTS.items() if data[k] != default]
    if lost:
        message = (
            f"{fmt} files hold cases only, so this suite's {', '.join(map(repr, lost))} would be "
            "lost; save as .yaml or .json"
        )
        raise SuiteError(message, source=source, field=lost[0])


def _dump_jsonl(suite: Suite, source: str) -> str:
    _cases_only(suite, "JSONL", source)
    rows = (json.dumps(_compact_case(c.to_dict()), ensure_ascii=False) for c in suite.cases)
    return "".join(row + "\n" for row in rows)


def _dump_csv(suite: Suite, source: str) -> str:
    _cases_only(suite, "CSV", source)
    var_names = list(dict.fromkeys(k for c in suite.cases for k in c.vars))
    meta_names = list(dict.fromkeys(k for c in suite.cases for k in c.metadata))
    for case in suite.cases:
        _check_csv_case(case, var_names, meta_names, source)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*_CSV_COLUMNS, *var_names, *(f"metadata.{k}" for k in meta_names)])
    for c in suite.cases:
        expected = "" if c.expected is None else c.expected
        cells = [c.vars[k] for k in var_names] + [c.metadata[k] for k in meta_names]
        writer.writerow([c.id, c.input, expected, "|".join(c.tags), *cells])
    return out.getvalue()


def _check_csv_case(case: Case, var_names: list[str], meta_names: list[str], source: str) -> None:
    """Refuse what a CSV cannot give back unchanged (the round trip must be exact)."""

    def fail(message: str, field_name: str) -> SuiteError:
        message += "; save as .yaml, .json or .jsonl instead"
        return SuiteError(message, source=source, case_id=case.id, field=field_name)

    if not isinstance(case.input, str):
        raise fail("CSV cannot hold a list of chat messages as 'input'", "input")
    if case.tools is not None:
        raise fail("CSV cannot hold 'tools'", "tools")
    if case.expected is not None and (not isinstance(case.expected, str) or not case.expected):
        raise fail(
            f"CSV holds 'expected' as non-empty text only, not {case.expected!r}", "expected"
        )
    for tag in case.tags:
        if "|" in tag or tag != tag.strip():
            raise fail(
                f"tag {tag!r} has a '|' or surrounding spaces, which CSV cannot keep", "tags"
            )
    for name, names, values in (
        ("vars", var_names, case.vars),
        ("metadata", meta_names, case.metadata),
    ):
        if set(values) != set(names):
            missing = sorted(set(names) - set(values))
            raise fail(
                f"{name!r} lacks {missing}, which other cases have: CSV gives every case every column",
                name,
            )
        bad = next((k for k, v in values.items() if not isinstance(v, str)), None)
        if bad is not None:
            raise fail(f"{name}[{bad!r}] is {_kind(values[bad])}; CSV holds text only", name)
    reserved = (*_CSV_COLUMNS, *_CSV_RESERVED)
    clash = next((k for k in case.vars if k in reserved or k.startswith("metadata.")), None)
    if clash is not None:
        raise fail(f"var {clash!r} has the name of a reserved CSV column", "vars")
