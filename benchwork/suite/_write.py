"""Write suites to YAML, JSON, JSONL or CSV, refusing what a format cannot give back unchanged.

Files are compact (default values left out) and load back into an equal suite.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from benchwork.errors import SuiteError
from benchwork.suite._case import Case
from benchwork.suite._check import _kind
from benchwork.suite._formats import _CSV_RESERVED, _format_of

if TYPE_CHECKING:
    from benchwork.suite._suite import Suite

__all__ = ["save"]

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
_CSV_COLUMNS = ("id", "input", "expected", "tags")


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
    data = _compact(suite)
    text = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    if yaml.safe_load(text) != data:
        # PyYAML writes some characters it then reads differently (U+0085, a YAML line break,
        # in a key comes back as a space): fall back to escaped text, which round-trips
        text = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=False, width=100)
    if yaml.safe_load(text) != data:  # last resort: JSON with \u escapes is valid YAML
        text = json.dumps(data, indent=2, ensure_ascii=True) + "\n"
    return text


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
    rows = []
    for c in suite.cases:
        expected = "" if c.expected is None else c.expected
        cells = [c.vars[k] for k in var_names] + [c.metadata[k] for k in meta_names]
        rows.append([c.id, c.input, expected, "|".join(c.tags), *cells])
    # QUOTE_MINIMAL leaves a lone "\r" unquoted (only "\n" is the line terminator), and a
    # reader takes it for a line break: quote every cell when any holds one
    has_cr = any("\r" in str(cell) for row in rows for cell in row)
    out = io.StringIO()
    writer = csv.writer(
        out, lineterminator="\n", quoting=csv.QUOTE_ALL if has_cr else csv.QUOTE_MINIMAL
    )
    writer.writerow([*_CSV_COLUMNS, *var_names, *(f"metadata.{k}" for k in meta_names)])
    writer.writerows(rows)
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
