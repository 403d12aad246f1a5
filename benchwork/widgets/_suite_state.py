"""The SuiteBuilder's pure logic: suite <-> editable state, checking, preview, import, grid ops.

The state is the suite as editable text (JSON fields stay text until they parse, so nothing
typed is lost while it is invalid). Conversions are exact; every check is the suite loader's
own (``Case(...)`` per case, ``Suite.from_dict`` for the whole, ``Suite.load`` for files) and
every message is its ``SuiteError``, per case and field.
"""

from __future__ import annotations

import copy
import json
import tempfile
from pathlib import Path
from typing import Any

from benchwork.errors import BenchworkError, SuiteError
from benchwork.suite import Case, Suite

__all__ = [
    "EDITED_LISTS",
    "State",
    "blank_case",
    "case_to_state",
    "check_index",
    "drop_stale",
    "duplicate_case",
    "import_bytes",
    "move_case",
    "preview_case",
    "problem",
    "state_to_case",
    "state_to_suite",
    "suite_to_state",
    "validate",
]

State = dict[str, Any]


# -- suite <-> state ---------------------------------------------------------------------------
def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _text(value: Any) -> str:
    """JSON text of a value; empty mappings are empty text (the field's default)."""
    return "" if value == {} else _json(value)


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _parse(
    text: str, field: str, default: Any, case_id: str | None = None, label: str | None = None
) -> Any:
    """The JSON value of a text field; empty text is *default*; bad JSON is a SuiteError."""
    if not text.strip():
        return default
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as e:
        reason = f"not valid JSON: {e.msg} (line {e.lineno}, column {e.colno})"
    except _DuplicateKey as e:
        reason = f"not valid JSON: the key {e.args[0]!r} appears twice"
    except (ValueError, RecursionError) as e:
        reason = f"not valid JSON: {e}"
    raise SuiteError(f"{label or field}: {reason}", case_id=case_id, field=field)


def _message_to_state(message: dict[str, Any]) -> State:
    if isinstance(message.get("content"), str):
        rest = {k: v for k, v in message.items() if k not in ("role", "content")}
        content: str | None = message["content"]
    else:  # multimodal parts, null, or no content at all: kept verbatim in `extra`
        rest = {k: v for k, v in message.items() if k != "role"}
        content = None
    return {"role": message.get("role"), "content": content, "extra": _text(rest)}


def case_to_state(case: Case, *, provenance: bool = False) -> State:
    """The editable form of *case*: text fields, JSON fields as text, chat messages as rows."""
    chat = isinstance(case.input, list)
    expected_kind = (
        "none" if case.expected is None else "text" if isinstance(case.expected, str) else "json"
    )
    state: State = {
        "id": case.id,
        "input_kind": "chat" if chat else "text",
        "input": "" if chat else case.input,
        "messages": [_message_to_state(m) for m in case.input]
        if isinstance(case.input, list)
        else [],
        "vars": _text(case.vars),
        "expected_kind": expected_kind,
        "expected": {"none": "", "text": case.expected, "json": _json(case.expected)}[
            expected_kind
        ],
        "tags": list(case.tags),
        "metadata": _text(case.metadata),
        "tools": "" if case.tools is None else _json(case.tools),
    }
    if provenance:
        state["provenance"] = _provenance(case.metadata)
    return state


def _provenance(metadata: dict[str, Any]) -> str:
    """One line on where a generated case came from (``metadata["synthetic"]`` or similar)."""
    info = next((metadata[k] for k in ("synthetic", "provenance", "source") if k in metadata), None)
    if isinstance(info, dict):
        return " · ".join(f"{k}: {v if isinstance(v, str) else _text(v)}" for k, v in info.items())
    return "" if info is None else str(info)


def _case_data(state: State) -> dict[str, Any]:
    """The mapping a suite file would hold for the case *state* (the loader builds it)."""
    case_id = state.get("id")
    cid = case_id if isinstance(case_id, str) and case_id else None
    if state.get("input_kind") == "chat":
        messages = []
        for i, row in enumerate(state.get("messages") or [], 1):
            extra = _parse(row.get("extra") or "", "input", {}, cid, f"message #{i} extra")
            if not isinstance(extra, dict):
                raise SuiteError(
                    f"'input' message #{i}: the extra fields must be a JSON mapping",
                    case_id=cid,
                    field="input",
                )
            message = {"role": row.get("role")}
            if row.get("content") is not None:
                message["content"] = row["content"]
            messages.append({**message, **extra})
        input_: Any = messages
    else:
        input_ = state.get("input")
    kind = state.get("expected_kind")
    expected = state.get("expected") or ""
    data: dict[str, Any] = {
        "id": case_id,
        "input": input_,
        "vars": _parse(state.get("vars") or "", "vars", {}, cid),
        "expected": _parse(expected, "expected", None, cid) if kind == "json" else None,
        "tags": state.get("tags", []),
        "tools": _parse(state.get("tools") or "", "tools", None, cid),
        "metadata": _parse(state.get("metadata") or "", "metadata", {}, cid),
    }
    if kind == "text":
        data["expected"] = expected
    return data


def state_to_case(state: State) -> Case:
    """The Case of one case *state* (its SuiteError names the field at fault)."""
    return _make_case(_case_data(state))


def _make_case(data: dict[str, Any]) -> Case:
    """``Case`` checks its own fields (as the loader does for each case of a file)."""
    if not isinstance(data.get("input"), str | list):
        raise SuiteError("'input' is missing", case_id=data.get("id") or None, field="input")
    fields = {k: v for k, v in data.items() if v is not None}
    return Case(**{"id": "", **fields})


def suite_to_state(suite: Suite) -> tuple[State, list[State]]:
    """``(settings, cases)``: the suite-level fields and one editable state per case."""
    settings = {
        "name": suite.name,
        "description": suite.description,
        "version": suite.version,
        "system": suite.system,
        "template": suite.template,
        "scorers": [
            {"kind": "name", "text": s}
            if isinstance(s, str)
            else {"kind": "json", "text": _text(s)}
            for s in suite.scorers
        ],
        "metadata": _text(suite.metadata),
    }
    return settings, [case_to_state(c) for c in suite.cases]


def _settings_data(settings: State) -> dict[str, Any]:
    scorers = []
    for i, row in enumerate(settings.get("scorers") or []):
        text = row.get("text", "")
        scorers.append(
            text
            if row.get("kind") == "name"
            else _parse(text, "scorers", {}, None, f"scorers[{i}]")
        )
    data = {k: settings.get(k) for k in ("name", "description", "version", "system", "template")}
    data["scorers"] = scorers
    data["metadata"] = _parse(settings.get("metadata") or "", "metadata", {})
    return data


def state_to_suite(settings: State, cases: list[State]) -> Suite:
    """The Suite the state describes, built by the suite loader (its SuiteError if invalid)."""
    data = {**_settings_data(settings), "cases": [_case_data(c) for c in cases]}
    return Suite.from_dict(data)


# -- checking and preview -----------------------------------------------------------------------
def problem(e: SuiteError, index: int | None) -> State:
    return {"index": index, "field": e.field or "", "message": e.reason}


_SETTING_DEFAULTS: dict[str, Any] = {
    "name": "suite",
    "description": None,
    "version": None,
    "system": None,
    "template": None,
    "scorers": [],
    "metadata": {},
}


def validate(settings: State, cases: list[State]) -> list[State]:
    """The loader's messages for the state: ``{"index", "field", "message"}`` each.

    Every case is built on its own (one message per broken case); the suite-level checks
    (settings, duplicate ids, template variables) run over the cases that built, again after
    each case they fault. ``index`` is the case's position, or None for a suite-level field.
    """
    problems: list[State] = []
    good: list[dict[str, Any]] = []
    for n, case in enumerate(cases, 1):
        try:
            data = _case_data(case)
            _make_case(data)
            good.append(data)
        except SuiteError as e:
            problems.append(problem(e, n - 1))
    try:
        top = _settings_data(settings)
    except SuiteError as e:
        return [*problems, problem(e, None)]
    partial = len(good) < len(cases)  # then positions in duplicate-id messages would be off
    for _ in range(len(cases) + len(_SETTING_DEFAULTS) + 1):  # what faulted leaves; run again
        if not good and cases:
            break
        try:
            Suite.from_dict({**top, "cases": good})
            break
        except SuiteError as e:
            if e.case_id is None:
                problems.append(problem(e, None))
                if e.field not in _SETTING_DEFAULTS or top[e.field] == _SETTING_DEFAULTS[e.field]:
                    break
                top[e.field] = _SETTING_DEFAULTS[e.field]  # check the cases without it
                continue
            if not (e.field == "id" and partial):
                problems.append(problem(e, _index_of(e, cases)))
            at = [i for i, d in enumerate(good) if d["id"] == e.case_id]
            del good[at[1] if e.field == "id" and len(at) > 1 else at[0]]
            partial = True
    problems.extend(_scorer_problems(top["scorers"]))
    return problems


def _index_of(e: SuiteError, cases: list[State]) -> int | None:
    at = [i for i, c in enumerate(cases) if c.get("id") == e.case_id] if e.case_id else []
    if not at:
        return None
    return at[1] if e.field == "id" and len(at) > 1 else at[0]  # a duplicate: the later one


def _scorer_problems(specs: list[Any]) -> list[State]:
    """What the scoring registry says of the scorer specs (a run would fail the same way)."""
    if not specs:
        return []
    from benchwork.scoring import resolve_scorers

    try:
        resolve_scorers(specs)
    except BenchworkError as e:
        return [{"index": None, "field": "scorers", "message": str(e)}]
    return []


def preview_case(settings: State, case: State) -> State:
    """The chat messages *case* sends with the suite's system prompt and template, or the error."""
    try:
        top = _settings_data(settings)
        suite = Suite.from_dict({**top, "scorers": [], "cases": [_case_data(case)]})
    except SuiteError as e:
        return {"case_id": case.get("id"), "error": e.reason, "field": e.field or ""}
    return {"case_id": suite.cases[0].id, "messages": suite.messages(suite.cases[0])}


def import_bytes(data: bytes, filename: str) -> Suite:
    """A suite from an uploaded file's bytes, read by ``Suite.load`` (format from the extension).

    Errors name *filename* (not the temporary copy) with the loader's line and message.
    """
    name = Path(filename).name or "upload"
    with tempfile.TemporaryDirectory(prefix="benchwork-upload-") as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            return Suite.load(path)
        except SuiteError as e:
            where = {"line": e.line, "case_id": e.case_id, "field": e.field}
            raise SuiteError(e.reason, source=name, **where) from None


# -- grid operations ----------------------------------------------------------------------------
def _unique_id(wanted: str, cases: list[State]) -> str:
    ids = {c.get("id") for c in cases}
    out, n = wanted, 2
    while out in ids:
        out, n = f"{wanted}-{n}", n + 1
    return out


def blank_case(cases: list[State]) -> State:
    """A new empty text case with an id no case in *cases* has."""
    return {
        "id": _unique_id(f"case-{len(cases) + 1}", cases),
        "input_kind": "text",
        "input": "",
        "messages": [],
        "vars": "",
        "expected_kind": "none",
        "expected": "",
        "tags": [],
        "metadata": "",
        "tools": "",
    }


def duplicate_case(cases: list[State], index: int) -> list[State]:
    """*cases* with a copy of case *index* (id made unique) right after it."""
    copy_ = copy.deepcopy(cases[index])
    copy_["id"] = _unique_id(f"{cases[index].get('id') or 'case'}-copy", cases)
    return [*cases[: index + 1], copy_, *cases[index + 1 :]]


def move_case(cases: list[State], index: int, to: int) -> list[State]:
    """*cases* with case *index* moved to position *to* (clamped to the list)."""
    out = list(cases)
    item = out.pop(index)
    out.insert(max(0, min(to, len(out))), item)
    return out


def check_index(index: Any, items: list[Any], what: str) -> int:
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(items):
        raise IndexError(f"no {what} at position {index!r}; there are {len(items)}")
    return index


# -- stale edits -------------------------------------------------------------------------------
#: the state the browser edits: Python counts its own replacements of each (``generation``)
EDITED_LISTS = ("cases", "pending_cases", "settings")


def drop_stale(
    sync_data: dict[str, Any], generation: dict[str, Any], stamps: dict[str, Any]
) -> dict[str, Any]:
    """*sync_data* without the lists edited against an older generation than *generation*.

    The stamps are the update's ``edit_generation`` (or, when it did not change, *stamps*, the
    last ones the browser sent). ``rev`` and everything else stay: an action waiting for this
    edit still runs, against the current cases.
    """
    sent = sync_data.get("edit_generation")
    stamp = sent if isinstance(sent, dict) else stamps
    stale = {
        name
        for name in EDITED_LISTS
        if name in sync_data and stamp.get(name, 0) != generation.get(name, 0)
    }
    return {k: v for k, v in sync_data.items() if k not in stale}
