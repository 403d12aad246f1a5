"""``SuiteBuilder``: write, import, check, review and save a suite in the notebook.

A paged grid of cases (text or chat input, vars, expected, tags, metadata, tools) with the
suite's system prompt, template and scorers; import from a path or an upload, the suite
loader's messages next to the field at fault, a template preview, save with the suite writer,
and review (accept / edit / reject) of generated cases. The state <-> suite logic is in
:mod:`benchwork.widgets._suite_state`; the front end is ``widgets/suite_builder.js`` / ``.css``.

    b = SuiteBuilder(bw.Suite.demo())         # edit in the grid, then
    b.save("qa.yaml")                         # or b.suite (a Suite; SuiteError if invalid)
    SuiteBuilder(suite, pending=variations)   # review synthetic cases
"""

from __future__ import annotations

import html
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from benchwork.errors import BenchworkError, SuiteError
from benchwork.suite import Case, Suite
from benchwork.widgets._assets import asset_text
from benchwork.widgets._suite_state import (
    EDITED_LISTS,
    State,
    blank_case,
    case_to_state,
    check_index,
    drop_stale,
    duplicate_case,
    import_bytes,
    move_case,
    preview_case,
    problem,
    state_to_case,
    state_to_suite,
    suite_to_state,
    validate,
)

__all__ = ["SuiteBuilder"]


# -- the widget ---------------------------------------------------------------------------------
class SuiteBuilder(anywidget.AnyWidget):
    """A paged grid editor for a suite, with import, live checking, preview, save and review.

    ``SuiteBuilder(suite, pending=[...])``; ``.suite`` is the edited suite (the loader's
    SuiteError if it is invalid), ``.pending`` the cases still waiting for review.
    """

    _esm = asset_text("suite_builder.js")
    _css = asset_text("suite_builder.css")

    _bw_widget = traitlets.Unicode("SuiteBuilder").tag(sync=True)
    #: name, description, version, system, template, scorers [{kind, text}], metadata (JSON text)
    settings = traitlets.Dict().tag(sync=True)
    cases = traitlets.List(traitlets.Dict()).tag(sync=True)
    pending_cases = traitlets.List(traitlets.Dict()).tag(sync=True)
    errors = traitlets.List(traitlets.Dict()).tag(sync=True)
    pending_errors = traitlets.List(traitlets.Dict()).tag(sync=True)
    page = traitlets.Int(0).tag(sync=True)
    page_size = traitlets.Int(50).tag(sync=True)
    selected = traitlets.Int(0).tag(sync=True)
    preview = traitlets.Dict().tag(sync=True)
    #: the last import/save/review outcome: {"kind": "ok" | "error", "text": ...}
    status = traitlets.Dict().tag(sync=True)
    scorer_names = traitlets.List(traitlets.Unicode()).tag(sync=True)
    #: the browser's edit counter, set with each edit it syncs; an action message carries the
    #: count it follows and waits for it (the widget manager holds back state updates while
    #: one is in flight, but sends messages at once: an Accept could overtake its edit)
    rev = traitlets.Int(0).tag(sync=True)
    #: per edited list ("cases", "pending_cases", "settings"): how many times Python replaced it
    #: (import, ``.suite = ...``, add/delete/move, accept/reject, ...); sent with the new value
    generation = traitlets.Dict().tag(sync=True)
    #: the browser's stamp: the generation each list had when the grid it edited was drawn. An
    #: edit stamped with an older generation was made against rows Python has since replaced
    #: (e.g. a field committed as an upload re-rendered the grid): it is dropped, not applied
    #: by position onto whatever case now sits there
    edit_generation = traitlets.Dict().tag(sync=True)

    def __init__(
        self,
        suite: Suite | None = None,
        *,
        pending: Iterable[Case] = (),
        page_size: int = 50,
        **kwargs: Any,
    ) -> None:
        from benchwork.scoring import scorer_names

        super().__init__(page_size=page_size, scorer_names=scorer_names(), **kwargs)
        self.observe(self._refresh, names=["settings", "cases", "page_size"])
        self.observe(self._refresh_preview, names=["selected"])
        self.observe(self._refresh_pending, names=["pending_cases"])
        self._waiting: list[tuple[dict[str, Any], Any]] = []
        self._from_front = False  # inside set_state: a change the browser made
        self.observe(self._run_waiting, names=["rev"])
        self.on_msg(self._on_msg)
        if suite is None:
            self.settings = {"name": "suite", "scorers": [], "metadata": ""}
            self.cases = []
        else:
            self.suite = suite
        self.review(pending)

    # -- the suite -----------------------------------------------------------------------------
    @property
    def suite(self) -> Suite:
        """The edited suite, built by the suite loader (raises its SuiteError if invalid)."""
        return state_to_suite(self.settings, self.cases)

    @suite.setter
    def suite(self, suite: Suite) -> None:
        if not isinstance(suite, Suite):
            raise TypeError(f"SuiteBuilder.suite takes a Suite, got {type(suite).__name__}")
        settings, cases = suite_to_state(suite)
        with self.hold_trait_notifications():
            self.settings, self.cases, self.page, self.selected = settings, cases, 0, 0

    def load(self, path: str | os.PathLike[str], *, append: bool = False) -> Suite:
        """Import a suite file (YAML, JSON, JSONL, CSV): replace the suite, or *append* its cases."""
        return self._take(Suite.load(path), append, os.fspath(path))

    def load_bytes(self, data: bytes, filename: str, *, append: bool = False) -> Suite:
        """Import an uploaded file's bytes; *filename*'s extension names the format."""
        return self._take(import_bytes(data, filename), append, filename)

    def _take(self, suite: Suite, append: bool, source: str) -> Suite:
        if append:
            self.cases = [*self.cases, *suite_to_state(suite)[1]]
        else:
            self.suite = suite
        verb = "appended" if append else "imported"
        self.status = {"kind": "ok", "text": f"{verb} {len(suite)} cases from {source}"}
        return suite

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the suite with the suite writer (.yaml or .jsonl; also .json, .csv)."""
        out = self.suite.save(path)
        self.status = {"kind": "ok", "text": f"saved {len(self.cases)} cases to {out}"}
        return out

    # -- editing -------------------------------------------------------------------------------
    def add(self, case: Case | None = None) -> None:
        """Append *case* (or a blank case) and show it."""
        state = blank_case(self.cases) if case is None else case_to_state(case)
        self.cases = [*self.cases, state]
        self.selected = len(self.cases) - 1
        self.page = self.selected // max(1, self.page_size)

    def duplicate(self, index: int) -> None:
        """Copy case *index* (its id made unique) to just after it."""
        self.cases = duplicate_case(self.cases, check_index(index, self.cases, "case"))

    def delete(self, index: int) -> None:
        """Remove case *index*."""
        check_index(index, self.cases, "case")
        self.cases = [c for i, c in enumerate(self.cases) if i != index]

    def move(self, index: int, to: int) -> None:
        """Move case *index* to position *to*."""
        self.cases = move_case(self.cases, check_index(index, self.cases, "case"), to)

    # -- review of generated cases ---------------------------------------------------------------
    @property
    def pending(self) -> list[Case]:
        """The cases waiting for review, as edited so far (SuiteError if one is invalid)."""
        return [state_to_case(c) for c in self.pending_cases]

    def review(self, cases: Iterable[Case]) -> SuiteBuilder:
        """Queue *cases* (e.g. synthetic variations) for Accept / Edit / Reject; returns self."""
        new = [case_to_state(c, provenance=True) for c in cases]
        if new:
            self.pending_cases = [*self.pending_cases, *new]
        return self

    def accept(self, index: int) -> None:
        """Move pending case *index* (as edited) into the suite."""
        item = self.pending_cases[check_index(index, self.pending_cases, "pending case")]
        item = {k: v for k, v in item.items() if k != "provenance"}
        with self.hold_trait_notifications():
            self.pending_cases = [c for i, c in enumerate(self.pending_cases) if i != index]
            self.cases = [*self.cases, item]
        self.status = {"kind": "ok", "text": f"accepted {item.get('id')!r}"}

    def reject(self, index: int) -> None:
        """Drop pending case *index*."""
        item = self.pending_cases[check_index(index, self.pending_cases, "pending case")]
        self.pending_cases = [c for i, c in enumerate(self.pending_cases) if i != index]
        self.status = {"kind": "ok", "text": f"rejected {item.get('id')!r}"}

    # -- front end -----------------------------------------------------------------------------
    def notify_change(self, change: Any) -> None:
        """Bump the list's generation with each change Python makes to it (one sync message)."""
        front = getattr(self, "_from_front", False)
        if change.get("name") in EDITED_LISTS and not front and change.get("type") == "change":
            with self.hold_sync():  # the new value and its generation reach the browser together
                gen = dict(self.generation)
                gen[change["name"]] = int(gen.get(change["name"], 0)) + 1
                self.generation = gen
                super().notify_change(change)
            return
        super().notify_change(change)

    def set_state(self, sync_data: dict[str, Any]) -> None:
        """Apply a state update from the browser, minus edits made against a replaced list."""
        sync_data = drop_stale(sync_data, self.generation, self.edit_generation)
        self._from_front = True
        try:
            super().set_state(sync_data)
        finally:
            self._from_front = False

    def _on_msg(self, _widget: Any, content: Any, buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        after = content.get("rev", 0)
        if isinstance(after, int) and after > self.rev:
            self._waiting.append((content, buffers))  # its edits are still on the way
            return
        self._act(content, buffers)

    def _run_waiting(self, _change: Any = None) -> None:
        ready = [w for w in self._waiting if w[0].get("rev", 0) <= self.rev]
        self._waiting = [w for w in self._waiting if w[0].get("rev", 0) > self.rev]
        for content, buffers in ready:
            self._act(content, buffers)

    def _act(self, content: dict[str, Any], buffers: Any) -> None:
        front, self._from_front = self._from_front, False  # an action's changes are Python's
        try:
            self._act_now(content, buffers)
        finally:
            self._from_front = front

    def _act_now(self, content: dict[str, Any], buffers: Any) -> None:
        kind, index = content.get("type"), content.get("index")
        index = index if isinstance(index, int) else -1
        try:
            if kind == "add":
                self.add()
            elif kind in ("duplicate", "delete", "accept", "reject"):
                getattr(self, kind)(index)
            elif kind == "move":
                self.move(index, int(content.get("to", 0)))
            elif kind == "import":
                self.load(str(content.get("path", "")), append=bool(content.get("append")))
            elif kind == "upload" and buffers:
                data = bytes(buffers[0])
                self.load_bytes(
                    data, str(content.get("name", "")), append=bool(content.get("append"))
                )
            elif kind == "save":
                self.save(str(content.get("path", "")))
        except (BenchworkError, IndexError, OSError) as e:
            self.status = {"kind": "error", "text": str(e)}

    def _refresh(self, _change: Any = None) -> None:
        n = len(self.cases)
        size = max(1, self.page_size)
        with self.hold_sync():
            self.page = min(self.page, max(0, (n - 1) // size))
            self.selected = min(max(self.selected, 0), max(0, n - 1))
            self.errors = validate(self.settings, self.cases)
            self._refresh_preview()

    def _refresh_preview(self, _change: Any = None) -> None:
        n = len(self.cases)
        self.preview = (
            preview_case(self.settings, self.cases[min(self.selected, n - 1)]) if n else {}
        )

    def _refresh_pending(self, _change: Any = None) -> None:
        problems = []
        for i, case in enumerate(self.pending_cases):
            try:
                state_to_case(case)
            except SuiteError as e:
                problems.append(problem(e, i))
        self.pending_errors = problems

    @classmethod
    def static_html(cls, state: dict[str, Any]) -> str:
        """The suite's cases as a static table (what an exported notebook shows offline)."""
        return _static_table(state)

    def __repr__(self) -> str:
        name = self.settings.get("name")
        return (
            f"SuiteBuilder({name!r}, {len(self.cases)} cases, {len(self.pending_cases)} pending, "
            f"{len(self.errors)} problems)"
        )


# -- static HTML --------------------------------------------------------------------------------
_STYLE = """<style>
.benchwork-sb-static{font:13px system-ui,sans-serif;color:#1f2328}
.benchwork-sb-static table{border-collapse:collapse;margin:6px 0}
.benchwork-sb-static th,.benchwork-sb-static td{border:1px solid #d8dee4;padding:3px 6px;
text-align:left;vertical-align:top;white-space:pre-wrap;max-width:420px}
.benchwork-sb-static th{background:#f6f8fa}
.benchwork-sb-static .bw-muted{color:#59636e}
</style>"""


def _cell_input(case: State) -> str:
    if case.get("input_kind") == "chat":
        lines = []
        for m in case.get("messages") or []:
            content = m.get("content") if m.get("content") is not None else m.get("extra", "")
            lines.append(f"{m.get('role')}: {content}")
        return "\n".join(lines)
    return str(case.get("input", ""))


def _static_rows(cases: list[Any], pending: bool) -> str:
    rows = []
    for n, case in enumerate(cases, 1):
        if not isinstance(case, dict):
            continue
        expected = "" if case.get("expected_kind") == "none" else str(case.get("expected", ""))
        cells = [
            str(n),
            str(case.get("id", "")),
            _cell_input(case),
            str(case.get("vars", "")),
            expected,
            ", ".join(map(str, case.get("tags") or [])),
        ]
        if pending:
            cells.append(str(case.get("provenance", "")))
        rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    return "".join(rows)


def _static_table(state: dict[str, Any]) -> str:
    def get(key: str, kind: type) -> Any:
        value = state.get(key)
        return value if isinstance(value, kind) else kind()

    settings, cases, pending = get("settings", dict), get("cases", list), get("pending_cases", list)
    head = ["#", "id", "input", "vars", "expected", "tags"]
    parts = [_STYLE, '<div class="benchwork-sb-static">']
    title = html.escape(str(settings.get("name") or "suite"))
    parts.append(
        f"<div><b>Suite {title}</b> <span class='bw-muted'>{len(cases)} cases</span></div>"
    )
    for key in ("system", "template"):
        if settings.get(key):
            parts.append(f"<div><b>{key}:</b> <code>{html.escape(str(settings[key]))}</code></div>")
    scorers = [str(s.get("text", "")) for s in settings.get("scorers") or [] if isinstance(s, dict)]
    if scorers:
        parts.append(f"<div><b>scorers:</b> {html.escape(', '.join(scorers))}</div>")
    header = "".join(f"<th>{h}</th>" for h in head)
    parts.append(f"<table><thead><tr>{header}</tr></thead><tbody>")
    parts.append(_static_rows(cases, False) + "</tbody></table>")
    if pending:
        header = "".join(f"<th>{h}</th>" for h in [*head, "provenance"])
        parts.append(f"<div><b>{len(pending)} pending review</b></div>")
        parts.append(f"<table><thead><tr>{header}</tr></thead><tbody>")
        parts.append(_static_rows(pending, True) + "</tbody></table>")
    parts.append("</div>")
    return "".join(parts)
