"""``Explorer``: browse a run's results case by case, the targets' outputs side by side.

Per case: every target's output with its diff against the expected value, status, scores
and the scorers' explanations (a judge's reasoning). A compact case × target heatmap lists
one page of cases (click a cell to open that case); filters (failed, scorers disagree,
judges split, regressed against a baseline) with their counts, and a search box. Only the
current page and the current case are synced to the browser, so a 10,000-row run pages
smoothly. The frame logic lives in ``_explore_data`` (tested without a browser).

    Explorer(run)                                  # opens on the first case
    Explorer(handle)                               # a run still going: fills in when it ends
    ex = Explorer(run, baseline=old_run, case="c3")
    ex.case_id = "c7"                              # moves the view from Python
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import anywidget
import polars as pl
import traitlets

from benchwork.analysis import Results
from benchwork.errors import BenchworkError
from benchwork.runner import RunHandle
from benchwork.store import RunStore
from benchwork.suite import Suite
from benchwork.widgets._assets import asset_text
from benchwork.widgets._explore_data import FILTERS, ExploreData, diff_html
from benchwork.widgets._kernel import in_current_cell

__all__ = ["Explorer"]


def _run_cases(run: Any) -> tuple[dict[str, Any], str]:
    """The run's cases by id from the suite saved in its folder, and a note when there is none."""
    path = getattr(run, "path", None)
    run_id = getattr(run, "id", None)
    if path is None or run_id is None:
        return {}, "no suite saved with these results: inputs and expected values are unknown"
    try:
        suite = Suite.from_dict(RunStore(Path(path).parent.parent).suite(run_id))
    except BenchworkError as exc:
        return {}, f"inputs and expected values are unknown: {exc}"
    return {c.id: c for c in suite.cases}, ""


class Explorer(anywidget.AnyWidget):
    """A run's results per case: outputs side by side, diffs, scores, filters and a heatmap.

    ``Explorer(run, baseline=None, case=None, score=None, page_size=25)``: ``run`` is a Run
    (its saved suite gives each case's input and expected value), a results frame, or a
    ``RunHandle`` (``Explorer(launcher.handle)``: shown as waiting, filled in when it ends);
    ``baseline`` another run for the ``regressed`` filter; ``case`` the case to open;
    ``score`` the score that colours the heatmap (default the first). Set ``case_id``,
    ``filter``, ``search`` or ``page`` from Python to move the view; the browser sets the same
    traits. See ``_explore_data`` for what each filter means.
    """

    _esm = asset_text("explorer.js")
    _css = asset_text("explorer.css")

    _bw_widget = traitlets.Unicode("Explorer").tag(sync=True)
    run_id = traitlets.Unicode("").tag(sync=True)
    baseline_id = traitlets.Unicode("").tag(sync=True)
    targets = traitlets.List(traitlets.Unicode()).tag(sync=True)
    #: score names (without ``score_``) the run has; ``score`` colours the heatmap
    scores = traitlets.List(traitlets.Unicode()).tag(sync=True)
    score = traitlets.Unicode("").tag(sync=True)
    filter = traitlets.Unicode("all").tag(sync=True)
    search = traitlets.Unicode("").tag(sync=True)
    #: filter name -> how many cases it keeps among those matching ``search``
    counts = traitlets.Dict().tag(sync=True)
    #: filter name -> what it keeps (button tooltips)
    filters = traitlets.Dict().tag(sync=True)
    page = traitlets.Int(0).tag(sync=True)
    page_size = traitlets.Int(25).tag(sync=True)
    pages = traitlets.Int(1).tag(sync=True)
    matches = traitlets.Int(0).tag(sync=True)
    #: the current page: per case id, short input, flags and one heatmap cell per target
    rows = traitlets.List(traitlets.Dict()).tag(sync=True)
    case_id = traitlets.Unicode("").tag(sync=True)
    #: the target of the heatmap cell last clicked ("" for none): its column is highlighted
    focus_target = traitlets.Unicode("").tag(sync=True)
    #: the open case: input, expected, and per call the output, diff, status and scores
    case = traitlets.Dict().tag(sync=True)
    note = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self,
        run: Results | RunHandle,
        *,
        baseline: Results | None = None,
        case: str | None = None,
        score: str | None = None,
        page_size: int = 25,
    ) -> None:
        super().__init__()
        self._ids: list[str] = []
        if page_size < 1:
            raise BenchworkError(f"Explorer: page_size must be at least 1, got {page_size}")
        if isinstance(run, RunHandle):
            if not run.done():  # fill in when the run ends (the cell returns now)
                self.run_id = run.run_id
                self.note = f"waiting for run {run.run_id} to finish: the outputs show then"
                run.task.add_done_callback(
                    lambda _task: in_current_cell(
                        self._fill_in, run, baseline, case, score, page_size
                    )
                )
                return
            run = run.result()
        self._load(run, baseline, case, score, page_size)

    def _fill_in(
        self, handle: RunHandle, baseline: Any, case: Any, score: Any, page_size: int
    ) -> None:
        """The awaited run has ended: show it, or say in the note why there is nothing."""
        try:
            self._load(handle.result(), baseline, case, score, page_size)
        except Exception as exc:  # a done-callback: the widget is where it can show
            self.note = f"run {handle.run_id} ended without results to explore: {exc}"

    def _load(
        self, run: Any, baseline: Any, case: str | None, score: str | None, page_size: int
    ) -> None:
        cases, note = _run_cases(run)
        data = ExploreData(run, cases, baseline)
        names = [c.removeprefix("score_") for c in data.score_cols]
        if score is not None and score.removeprefix("score_") not in names:
            raise BenchworkError(
                f"Explorer: no score {score!r} in this run; scores: {names or 'none'}"
            )
        self._data = data
        with self.hold_sync():
            self.run_id = str(getattr(run, "id", "") or "")
            self.baseline_id = (
                str(getattr(baseline, "id", "") or "") if baseline is not None else ""
            )
            self.targets = self._data.targets
            self.scores = names
            self.score = score.removeprefix("score_") if score else (names[0] if names else "")
            self.filters = {
                k: v for k, v in FILTERS.items() if k != "regressed" or baseline is not None
            }
            self.note = note
            self.page_size = page_size
            self._refilter()
            first = case if case is not None else (self._ids[0] if self._ids else "")
            self.case_id = first  # the observer opens it

    # -- validation ----------------------------------------------------------------------------
    def _loaded(self) -> None:
        if not hasattr(self, "_data"):
            raise traitlets.TraitError(
                f"Explorer: still waiting for run {self.run_id} to finish; nothing to show yet"
            )

    @traitlets.validate("case_id")
    def _check_case(self, proposal: dict[str, Any]) -> str:
        value = str(proposal["value"])
        if value:
            self._loaded()
        if value and not self._data.has_case(value):
            some = ", ".join(self._data.case_ids[:5])
            raise traitlets.TraitError(
                f"Explorer: no case {value!r} in run {self.run_id or '(frame)'}; "
                f"case ids look like {some}{', ...' if len(self._data.case_ids) > 5 else ''}"
            )
        return value

    @traitlets.validate("filter")
    def _check_filter(self, proposal: dict[str, Any]) -> str:
        value = str(proposal["value"])
        self._loaded()
        if value not in FILTERS:
            raise traitlets.TraitError(
                f"Explorer: unknown filter {value!r}; one of {', '.join(FILTERS)}"
            )
        if value == "regressed" and not self._data.has_baseline:
            raise traitlets.TraitError(
                "Explorer: the 'regressed' filter needs a baseline: Explorer(run, baseline=old_run)"
            )
        return value

    @traitlets.validate("score")
    def _check_score(self, proposal: dict[str, Any]) -> str:
        value = str(proposal["value"]).removeprefix("score_")
        if value:
            self._loaded()
        if value and f"score_{value}" not in self._data.score_cols:
            raise traitlets.TraitError(f"Explorer: no score {value!r}; scores: {self.scores}")
        return value

    @traitlets.validate("page_size")
    def _check_page_size(self, proposal: dict[str, Any]) -> int:
        value = int(proposal["value"])
        if value < 1:
            raise traitlets.TraitError(f"Explorer: page_size must be at least 1, got {value}")
        return value

    # -- state ----------------------------------------------------------------------------------
    def _score_col(self) -> str | None:
        return f"score_{self.score}" if self.score else None

    def _refilter(self) -> None:
        """The filtered case list, counts, and the page (the open case's page when it is in)."""
        self._ids = self._data.select(self.filter, self.search)
        self.counts = {k: v for k, v in self._data.counts(self.search).items() if k in self.filters}
        target_page = 0
        if self.case_id in self._ids:
            target_page = self._ids.index(self.case_id) // self.page_size
        self._show_page(target_page)

    def _show_page(self, page: int) -> None:
        p = self._data.page(self._ids, page, self.page_size)
        with self.hold_sync():
            self.pages, self.matches = p.pages, p.matches
            self.rows = self._data.grid(p.ids, self._score_col())
            if self.page != p.page:
                self._paging = True
                try:
                    self.page = p.page
                finally:
                    self._paging = False

    _paging = False

    def _open(self, case_id: str) -> None:
        self.case = self._data.detail(case_id) if case_id else {}
        if case_id in self._ids:
            page = self._ids.index(case_id) // self.page_size
            if page != self.page:
                self._show_page(page)

    @traitlets.observe("case_id")
    def _on_case(self, change: dict[str, Any]) -> None:
        self._open(change["new"])

    @traitlets.observe("filter", "search", "page_size")
    def _on_filter(self, _change: dict[str, Any]) -> None:
        if hasattr(self, "_data"):
            self._refilter()

    @traitlets.observe("score")
    def _on_score(self, _change: dict[str, Any]) -> None:
        if hasattr(self, "_data"):
            self._show_page(self.page)

    @traitlets.observe("page")
    def _on_page(self, change: dict[str, Any]) -> None:
        if hasattr(self, "_data") and not self._paging:
            self._show_page(change["new"])

    # -- Python API -----------------------------------------------------------------------------
    @property
    def case_ids(self) -> list[str]:
        """Every case id that passes the current filter and search, in order."""
        return list(self._ids)

    @property
    def regressions(self) -> pl.DataFrame | None:
        """The (target, case_id, baseline, candidate, score) regressions, or None: no baseline."""
        return self._data.regressions

    def __repr__(self) -> str:
        return (
            f"Explorer({self.run_id or '(frame)'!r}, case {self.case_id!r}, "
            f"{self.filter}: {self.matches} cases)"
        )

    # -- static HTML ----------------------------------------------------------------------------
    @classmethod
    def static_html(cls, state: dict[str, Any]) -> str:
        """The open case as a static side-by-side table (an exported notebook's view)."""
        return _static_case(state)


_STYLE = """<style>
.bw-x{font:13px system-ui,sans-serif;color:#1f2328;max-width:100%;overflow-x:auto}
.bw-x table{border-collapse:collapse;width:100%;font:inherit}
.bw-x th,.bw-x td{border:1px solid #d8dee4;padding:4px 6px;vertical-align:top;text-align:left}
.bw-x pre{white-space:pre-wrap;word-break:break-word;margin:0;font:12px ui-monospace,monospace}
.bw-x ins{background:#dafbe1;text-decoration:none}
.bw-x del{background:#ffebe9}
.bw-x .bad{color:#d32f2f}.bw-x .muted{color:#59636e}
</style>"""


def _fmt(value: Any) -> str:
    return "–" if value is None else f"{float(value):.3g}"


def _static_case(state: dict[str, Any]) -> str:
    esc = html.escape
    case = state.get("case") or {}
    run_id = str(state.get("run_id") or "")
    head = f"<div><b>benchwork explorer</b> <code>{esc(run_id)}</code>"
    if state.get("baseline_id"):
        head += f" vs baseline <code>{esc(str(state['baseline_id']))}</code>"
    head += "</div>"
    if state.get("note"):  # e.g. still waiting for the run, or no saved suite
        head += f'<p class="muted">{esc(str(state["note"]))}</p>'
    if not case:
        return f'{_STYLE}<div class="bw-x">{head}<p class="muted">no case open</p></div>'
    calls = [c for c in case.get("calls") or [] if isinstance(c, dict)]
    parts = [_STYLE, '<div class="bw-x">', head]
    parts.append(f"<p>case <b>{esc(str(case.get('id', '')))}</b>")
    flags = case.get("flags") or []
    if flags:
        parts.append(f" <span class='muted'>({esc(', '.join(map(str, flags)))})</span>")
    parts.append("</p>")
    if case.get("input"):
        parts.append(f"<p><b>input</b></p><pre>{esc(str(case['input']))}</pre>")
    expected = case.get("expected") or []
    if expected:
        parts.append(f"<p><b>expected</b></p><pre>{esc(' | '.join(map(str, expected)))}</pre>")

    def label(c: dict[str, Any]) -> str:
        rep = c.get("repeat") or 0
        return esc(str(c.get("target", ""))) + (f" #{rep}" if rep else "")

    parts.append("<table><tr><th></th>")
    parts.extend(f"<th>{label(c)}</th>" for c in calls)
    parts.append("</tr><tr><th>status</th>")
    for c in calls:
        st = str(c.get("status", ""))
        err = (
            f"<br><span class='bad'>{esc(str(c.get('error') or ''))}</span>"
            if c.get("error")
            else ""
        )
        parts.append(f"<td class='{'bad' if st != 'ok' else ''}'>{esc(st)}{err}</td>")
    parts.append("</tr><tr><th>output</th>")
    parts.extend(f"<td><pre>{esc(str(c.get('output') or ''))}</pre></td>" for c in calls)
    if any(c.get("diff") for c in calls):
        parts.append("</tr><tr><th>diff vs expected</th>")
        for c in calls:
            d = c.get("diff")
            parts.append(f"<td><pre>{diff_html(d) if d else ''}</pre></td>")
    names = []
    for c in calls:
        for s in c.get("scores") or []:
            if s.get("name") not in names:
                names.append(s.get("name"))
    for name in names:
        parts.append(f"</tr><tr><th>{esc(str(name))}</th>")
        for c in calls:
            s = next((x for x in c.get("scores") or [] if x.get("name") == name), None)
            if s is None:
                parts.append("<td></td>")
                continue
            cell = f"<b>{_fmt(s.get('value'))}</b>"
            if s.get("agreement") is not None:
                cell += f" <span class='muted'>agreement {_fmt(s['agreement'])}</span>"
            if s.get("baseline") is not None:
                cell += f" <span class='bad'>was {_fmt(s['baseline'])}</span>"
            if s.get("explanation"):
                cell += f"<br><span class='muted'>{esc(str(s['explanation']))}</span>"
            parts.append(f"<td>{cell}</td>")
    parts.append("</tr></table></div>")
    return "".join(parts)
