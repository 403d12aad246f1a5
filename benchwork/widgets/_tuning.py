"""``TuningView``: a prompt tuner's candidates by generation, dev scores with intervals, diffs.

Shows what ``tuning.tune_prompt`` found: every candidate's dev score with its interval as a
whisker, grouped by generation (with a small best/mean chart), each prompt's word-level diff
against the original, and at the end the winner and its held-out confirmation. Clicking a
candidate selects it (``view.selected`` in Python); "Use this prompt" sets
``view.chosen_prompt``. Front end: ``widgets/tuning.js`` and ``.css``.

    view = TuningView(original=suite.system)
    view                                   # display it, then feed it as the tuner goes
    result = await tune_prompt(..., on_generation=view.update)
    view.show(result)                      # the winner and the held-out verdict
"""

from __future__ import annotations

import asyncio
import difflib
import html
import inspect
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Unpack

import anywidget
import traitlets

from benchwork.errors import BenchworkError
from benchwork.widgets._assets import asset_text
from benchwork.widgets._kernel import call_on, in_current_cell, running_loop
from benchwork.widgets._tuning_options import (
    EVOLVE_ONLY,
    KNOB_DEFAULTS,
    KNOBS,
    TuneOptions,
    check_fixed,
    check_knobs,
    meta_failures,
)

if TYPE_CHECKING:
    import polars as pl

    from benchwork.suite import Suite
    from benchwork.target import Target
    from benchwork.tuning import TuneResult

__all__ = [
    "KNOBS",
    "REQUIRED_COLUMNS",
    "TuneOptions",
    "TuningView",
    "confirmation_text",
    "diff_html",
    "frame_state",
    "word_diff",
]

#: the columns of ``TuneResult.frame`` the view needs (``generation`` and ``parent`` optional)
REQUIRED_COLUMNS = ("candidate", "prompt", "dev_mean", "dev_lo", "dev_hi", "dev_n")

#: the held-out comparison's keys the view keeps (a ``compare_runs`` row)
CONFIRMATION_KEYS = (
    "metric",
    "n_pairs",
    "mean_baseline",
    "mean_candidate",
    "diff",
    "diff_lo",
    "diff_hi",
    "interval",
    "test",
    "p_value",
    "p_holm",
    "verdict",
)

_TOKENS = re.compile(r"\s+|\S+")


# -- word-level diff ---------------------------------------------------------------------------
def word_diff(original: str, candidate: str) -> list[list[str]]:
    """Word-level diff of *candidate* against *original*: ``[op, text]`` segments in order.

    ``op`` is ``"="`` (kept), ``"+"`` (inserted) or ``"-"`` (deleted). The kept and inserted
    texts joined give *candidate* exactly, the kept and deleted texts give *original*
    (whitespace included). Adjacent segments of one kind are merged; a bare space kept between
    two changes is folded into both sides, so a rewritten phrase reads as one change.
    """
    a, b = _TOKENS.findall(original), _TOKENS.findall(candidate)
    raw: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            raw.append(("=", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            raw.append(("-", "".join(a[i1:i2])))
        if j2 > j1:
            raw.append(("+", "".join(b[j1:j2])))
    # fold whitespace-only kept runs that sit between changes into the change on both sides
    folded: list[tuple[str, str]] = []
    for k, (op, text) in enumerate(raw):
        between = 0 < k < len(raw) - 1 and raw[k - 1][0] != "=" and raw[k + 1][0] != "="
        if op == "=" and between and not text.strip():
            folded += [("-", text), ("+", text)]
        else:
            folded.append((op, text))
    # merge: deletions before insertions within a run of changes, same kinds joined
    out: list[list[str]] = []
    dels: list[str] = []
    inss: list[str] = []

    def flush() -> None:
        if dels:
            out.append(["-", "".join(dels)])
        if inss:
            out.append(["+", "".join(inss)])
        dels.clear()
        inss.clear()

    for op, text in folded:
        if op == "-":
            dels.append(text)
        elif op == "+":
            inss.append(text)
        else:
            flush()
            if out and out[-1][0] == "=":
                out[-1][1] += text
            else:
                out.append(["=", text])
    flush()
    return [seg for seg in out if seg[1]]


def _diff_counts(diff: list[list[str]]) -> dict[str, int]:
    """Words inserted and deleted by a :func:`word_diff`."""
    counts = {"+": 0, "-": 0}
    for op, text in diff:
        if op in counts:
            counts[op] += len(text.split())
    return {"added": counts["+"], "removed": counts["-"]}


# -- frame -> synced state ---------------------------------------------------------------------
def _num(value: Any) -> float | None:
    """A finite float or None (widget state is JSON: no NaN)."""
    if value is None:
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _int(value: Any) -> int | None:
    x = _num(value)
    return None if x is None else int(x)


def frame_state(frame: pl.DataFrame, original: str | None = None) -> dict[str, Any]:
    """The view's state for a tuner *frame*: ``original``, ``candidates``, ``generations``, ``scale``.

    Candidates are ordered by generation, then best dev score first (ties keep the frame's
    order). Without a ``generation`` column the original (the row named ``"original"``, or
    whose prompt is *original*) is generation 0 and every other row generation 1. The diff
    of each prompt is taken against *original*, or else the generation-0 row's prompt.
    """
    import polars as pl

    if not isinstance(frame, pl.DataFrame):
        hint = " (for a TuneResult use view.show(result))" if hasattr(frame, "frame") else ""
        raise BenchworkError(
            f"TuningView expects tune_prompt's frame (a polars DataFrame), got "
            f"{type(frame).__name__}{hint}"
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise BenchworkError(
            f"TuningView: the frame lacks column(s) {missing}; it needs {list(REQUIRED_COLUMNS)} "
            f"(plus optional generation, parent), as in TuneResult.frame; it has {frame.columns}"
        )
    rows = frame.to_dicts()
    names = [str(r["candidate"]) for r in rows]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise BenchworkError(
            f"TuningView: candidate name(s) {dupes} appear more than once in the frame; "
            "each candidate needs its own name"
        )

    def is_original(r: dict[str, Any]) -> bool:
        if r.get("generation") is not None:
            return int(r["generation"]) == 0
        return r["candidate"] == "original" or (original is not None and r["prompt"] == original)

    if original is None:
        original = next((str(r["prompt"] or "") for r in rows if is_original(r)), "")

    candidates: list[dict[str, Any]] = []
    for order, r in enumerate(rows):
        prompt = str(r["prompt"] or "")
        gen = r.get("generation")
        diff = word_diff(original, prompt)
        candidates.append(
            {
                "candidate": str(r["candidate"]),
                "prompt": prompt,
                "generation": int(gen) if gen is not None else (0 if is_original(r) else 1),
                "parent": None if r.get("parent") is None else str(r["parent"]),
                "dev_mean": _num(r["dev_mean"]),
                "dev_lo": _num(r["dev_lo"]),
                "dev_hi": _num(r["dev_hi"]),
                "dev_n": _int(r["dev_n"]),
                "is_original": prompt == original,
                "diff": diff,
                **_diff_counts(diff),
                "order": order,
            }
        )
    candidates.sort(
        key=lambda c: (
            c["generation"],
            c["dev_mean"] is None,
            -(c["dev_mean"] or 0.0),
            c["order"],
        )
    )
    for c in candidates:
        del c["order"]

    generations: list[dict[str, Any]] = []
    for gen in sorted({c["generation"] for c in candidates}):
        members = [c for c in candidates if c["generation"] == gen]
        scored = [c for c in members if c["dev_mean"] is not None]
        best = max(scored, key=lambda c: c["dev_mean"], default=None)
        generations.append(
            {
                "generation": gen,
                "n": len(members),
                "best": None if best is None else best["dev_mean"],
                "best_candidate": None if best is None else best["candidate"],
                "mean": sum(c["dev_mean"] for c in scored) / len(scored) if scored else None,
            }
        )

    values = [
        v for c in candidates for v in (c["dev_lo"], c["dev_mean"], c["dev_hi"]) if v is not None
    ]
    scale = [min([0.0, *values]), max([1.0, *values])]
    return {
        "original": original,
        "candidates": candidates,
        "generations": generations,
        "scale": scale,
    }


# -- the widget ----------------------------------------------------------------------------------
class TuningView(anywidget.AnyWidget):
    """A prompt tuner's candidates: generations, dev scores with intervals, diffs, the winner.

    ``TuningView(result)`` shows a finished ``TuneResult``; ``TuningView(original=prompt)``
    starts empty and ``view.update(frame)`` (usable as ``on_generation``) adds candidates as
    they are scored; ``view.show(result)`` adds the winner and its held-out confirmation.
    """

    _esm = asset_text("tuning.js")
    _css = asset_text("tuning.css")

    _bw_widget = traitlets.Unicode("TuningView").tag(sync=True)
    #: "empty" (nothing yet), "running" (frames came in), "done" (``show`` was called)
    status = traitlets.Unicode("empty").tag(sync=True)
    original = traitlets.Unicode("").tag(sync=True)
    #: one dict per candidate: candidate, prompt, generation, parent, dev_mean/lo/hi/n,
    #: is_original, diff ([op, text] segments), added, removed
    candidates = traitlets.List(traitlets.Dict()).tag(sync=True)
    #: one dict per generation: generation, n, best, best_candidate, mean
    generations = traitlets.List(traitlets.Dict()).tag(sync=True)
    #: the score axis [lo, hi] shared by every whisker
    scale = traitlets.List(traitlets.Float(), default_value=[0.0, 1.0]).tag(sync=True)
    #: the winner's candidate name ("" until ``show``)
    winner = traitlets.Unicode("").tag(sync=True)
    #: the held-out comparison of the winner with the original (``compare_runs`` keys) and
    #: ``confirmed``; empty until ``show``
    confirmation = traitlets.Dict().tag(sync=True)
    #: the candidate clicked in the front end (or set with ``select``)
    selected = traitlets.Unicode("").tag(sync=True)
    #: the candidate whose "Use this prompt" was clicked, and its prompt text
    chosen = traitlets.Unicode("").tag(sync=True)
    chosen_prompt = traitlets.Unicode("").tag(sync=True)
    #: a tuner is attached (``TuningView.tuner``): the front end shows Tune, Cancel and knobs
    can_tune = traitlets.Bool(False).tag(sync=True)
    #: the knobs the widget edits: mode ("quick"/"evolve"), k, population, generations,
    #: budget_calls (None: no budget)
    tune_options = traitlets.Dict().tag(sync=True)
    #: the background tuning: "" (no tuner), "ready", "running", "done", "error", "cancelled"
    run_status = traitlets.Unicode("").tag(sync=True)
    #: what the tuning is doing or did ("generation 2 · 9 candidates", the error's message)
    run_message = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self, result: TuneResult | None = None, *, original: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self._original_given = original
        if original is not None:
            self.original = original
        #: the last started tuning's asyncio task (``await view.task``) and its result
        self.task: asyncio.Task[TuneResult] | None = None
        self.result: TuneResult | None = None
        self._tuner: tuple[Suite, Target, Target] | None = None
        self._fixed: dict[str, Any] = {}
        #: the loop the view was made on (a notebook's cells): tunings start there
        self._loop = running_loop()
        self.on_msg(self._on_msg)
        if result is not None:
            self.show(result)

    # -- starting a tuning -----------------------------------------------------------------
    @classmethod
    def tuner(
        cls, suite: Suite | str | Path, target: Target, meta: Target, **options: Unpack[TuneOptions]
    ) -> TuningView:
        """A view with Tune and Cancel buttons that runs ``tune_prompt(suite, target, meta)``.

        *options* are ``tune_prompt``'s (``mode``, ``k``, ``population``, ``generations``,
        ``budget_calls``, ``budget_usd``, ``patience``, ``show_failures``, ``dev``, ``seed``,
        ``alpha``, ``cache_dir``, ``home``); the mode and the key knobs (k; population,
        generations, budget_calls) can be changed in the widget. Each is checked here: an
        unknown or invalid one raises ``BenchworkError``. The evolve-only options apply when
        the mode is evolve. Make it in a notebook cell (or async code), so tunings run on that
        loop and ``await view.task`` works in a later cell.
        """
        from benchwork.runner import coerce_suite
        from benchwork.tuning import dev_split as split
        from benchwork.tuning import tune_prompt

        allowed = set(inspect.signature(tune_prompt).parameters) - {
            "suite", "target", "meta", "on_generation",
        }  # fmt: skip
        unknown = sorted(set(options) - allowed)
        if unknown:
            raise BenchworkError(
                f"TuningView.tuner: unknown option(s) {', '.join(map(repr, unknown))}; "
                f"tune_prompt takes {', '.join(sorted(allowed))}"
            )
        base = coerce_suite(suite)
        if len(base) < 4:
            raise BenchworkError(
                f"TuningView.tuner: suite {base.name!r} has {len(base)} case(s); tuning needs at "
                "least 4 (a dev split and a held-out split)"
            )
        opts: dict[str, Any] = dict(options)
        knobs = {key: opts.pop(key, KNOB_DEFAULTS[key]) for key in KNOBS}
        knobs = {k: (KNOB_DEFAULTS[k] if v is None and k != "budget_calls" else v)
                 for k, v in knobs.items()}  # fmt: skip
        check_knobs(knobs, "TuningView.tuner")
        check_fixed(opts, target, meta)
        split(list(base.cases), opts.get("dev", 0.5), int(opts.get("seed", 0)))
        view = cls(original=base.system or "")
        view._tuner = (base, target, meta)
        view._fixed = opts
        with view.hold_sync():
            view.tune_options = knobs
            view.can_tune = True
            view.run_status = "ready"
            view.run_message = f"ready to tune {base.name!r} ({len(base)} cases) for {target.name}"
        return view

    @property
    def options(self) -> dict[str, Any]:
        """The options the next ``start()`` passes to ``tune_prompt`` (for the current mode)."""
        knobs = dict(self.tune_options)
        check_knobs(knobs, "TuningView")
        call = {**self._fixed, **knobs}
        if call["mode"] == "quick":
            call = {k: v for k, v in call.items() if k not in EVOLVE_ONLY}
        else:
            call.pop("k", None)
        return call

    def start(self) -> asyncio.Task[TuneResult]:
        """Start the tuning in the background (what Tune does); returns ``view.task``.

        Refused (``BenchworkError``, also shown in the widget) without a tuner, while one is
        running, with an invalid knob, or off the view's event loop.
        """
        loop = self._startable()
        if loop is not running_loop():
            raise BenchworkError(
                "start() runs on the event loop the TuningView was created on; call it from "
                "there (a notebook cell), or click Tune"
            )
        return self._start()

    def cancel(self) -> bool:
        """Cancel the running tuning (what Cancel does; safe from any thread)."""
        task = self.task
        if task is None or task.done():
            return False
        call_on(task.get_loop(), task.cancel)
        return True

    def _startable(self) -> asyncio.AbstractEventLoop:
        """The loop to tune on, or ``BenchworkError`` (also said in the widget) saying why not."""
        loop = self._loop if self._loop is not None and self._loop.is_running() else None
        loop = loop or running_loop()
        problem = None
        try:
            if self._tuner is None:
                problem = "no tuner: make the view with TuningView.tuner(suite, target, meta)"
            elif self.task is not None and not self.task.done():
                problem = "a tuning is already running (Cancel it first)"
            elif loop is None:
                problem = ("start() runs the tuning on a running event loop (a notebook cell "
                           "or async code); in a script use benchwork.tuning.tune_prompt_sync")  # fmt: skip
            else:
                self.options  # noqa: B018 - checks the knobs the widget set
        except BenchworkError as exc:
            problem = str(exc)
        if problem is not None:
            running = self.task is not None and not self.task.done()
            self._say("error" if self.can_tune and not running else "", f"not started: {problem}")
            raise BenchworkError(f"not started: {problem}")
        assert loop is not None
        return loop

    def _start_from_ui(self) -> None:
        """The Tune button: the tuning goes on the loop the cells run on, even when the kernel
        handles the click on another thread (JupyterLab can route comm messages to a subshell),
        so that ``await view.task`` works in a later cell."""
        call_on(
            self._startable(),
            self._start,
            lambda exc: self._say("error", f"not started: {type(exc).__name__}: {exc}"),
        )

    def _start(self) -> asyncio.Task[TuneResult]:
        options = self.options
        assert self._tuner is not None
        suite, target, meta = self._tuner
        with self.hold_sync():
            self.status, self.candidates, self.generations = "empty", [], []
            self.winner, self.confirmation, self.selected = "", {}, ""
            self.scale = [0.0, 1.0]
            self._original_given = suite.system or ""
            self.original = self._original_given
            self.result = None
            self._say("running", f"{options['mode']} tuning started")
        self.task = asyncio.ensure_future(self._tune(suite, target, meta, options))
        self.task.add_done_callback(self._ended)
        return self.task

    async def _tune(
        self, suite: Suite, target: Target, meta: Target, options: dict[str, Any]
    ) -> TuneResult:
        from benchwork.tuning import tune_prompt

        try:
            result = await tune_prompt(
                suite, target, meta, on_generation=self._on_generation, **options
            )
        except Exception as exc:  # shown in the widget; `await view.task` raises it too
            in_current_cell(self._say, "error", f"{type(exc).__name__}: {exc}")
            raise
        self.result = result
        in_current_cell(self._finish, result)
        return result

    def _ended(self, task: asyncio.Task[Any]) -> None:
        """A tuning's end: a cancel is said here (it may come before the task's first step);
        an exception is marked as seen (the widget shows it, ``await view.task`` raises it)."""
        if task.cancelled():
            in_current_cell(self._say, "cancelled", "cancelled: no result")
        else:
            task.exception()

    def _on_generation(self, frame: pl.DataFrame) -> None:
        in_current_cell(self._generation, frame)

    def _generation(self, frame: pl.DataFrame) -> None:
        with self.hold_sync():
            self.update(frame)
            last = max((g["generation"] for g in self.generations), default=0)
            self._say("running", f"generation {last} · {len(self.candidates)} candidates")

    def _finish(self, result: TuneResult) -> None:
        with self.hold_sync():
            self.show(result)
            verdict = result.confirmation.get("verdict") or "not compared"
            text = f"done ({result.stopped}): winner {self.winner or '?'} · held-out {verdict}" + (
                " (confirmed)" if result.confirmed else " (not confirmed)"
            )
            failed, calls, first = meta_failures(result)
            if calls and failed == calls:  # nothing was proposed: say so, not a quiet "done"
                self._say(
                    "error",
                    f"the meta-model failed on all {calls} call(s) ({first}); only the original "
                    f"was scored · {text}",
                )
            elif failed:
                self._say(
                    "done", f"{text} · {failed} of {calls} meta-model call(s) failed ({first})"
                )
            else:
                self._say("done", text)

    def _say(self, status: str, text: str) -> None:
        with self.hold_sync():
            if status:
                self.run_status = status
            self.run_message = text

    # -- Python -> front end ---------------------------------------------------------------
    def update(self, frame: pl.DataFrame) -> None:
        """Show the candidates of *frame* (the tuner's frame so far); a tuner's ``on_generation``."""
        state = frame_state(frame, self._original_given)
        with self.hold_sync():
            self.original = state["original"]
            self.candidates = state["candidates"]
            self.generations = state["generations"]
            self.scale = state["scale"]
            if self.status == "empty":
                self.status = "running"

    def show(self, result: TuneResult) -> TuningView:
        """Show a finished tuning: its candidates, the winner and the held-out confirmation."""
        for attr in ("frame", "original", "winner", "confirmation"):
            if not hasattr(result, attr):
                raise BenchworkError(
                    f"TuningView.show expects a TuneResult (from tune_prompt), got "
                    f"{type(result).__name__} without .{attr}"
                )
        self._original_given = result.original
        state = frame_state(result.frame, result.original)
        winner = next(
            (c["candidate"] for c in state["candidates"] if c["prompt"] == result.winner), ""
        )
        confirmation = {k: _json(result.confirmation.get(k)) for k in CONFIRMATION_KEYS}
        confirmation = {k: v for k, v in confirmation.items() if v is not None}
        confirmation["confirmed"] = bool(result.confirmed)
        with self.hold_sync():
            self.original = state["original"]
            self.candidates = state["candidates"]
            self.generations = state["generations"]
            self.scale = state["scale"]
            self.winner = winner
            self.confirmation = confirmation
            self.status = "done"
            if not self.selected:
                self.selected = winner
        return self

    def select(self, candidate: str) -> None:
        """Select *candidate* (by name), as a click in the front end does."""
        self._prompt_of(candidate)
        self.selected = candidate

    # -- front end -> Python ---------------------------------------------------------------
    @property
    def selected_prompt(self) -> str | None:
        """The selected candidate's prompt (None when nothing is selected)."""
        if not self.selected:
            return None
        return next((c["prompt"] for c in self.candidates if c["candidate"] == self.selected), None)

    def use(self, candidate: str | None = None) -> str:
        """What "Use this prompt" does: set ``chosen_prompt`` to *candidate*'s (default: the
        selected one's) prompt and return it."""
        name = self.selected if candidate is None else candidate
        if not name:
            raise BenchworkError("TuningView.use: no candidate selected; pass a candidate name")
        prompt = self._prompt_of(name)
        with self.hold_sync():
            self.selected = name
            self.chosen = name
            self.chosen_prompt = prompt
        return prompt

    def _prompt_of(self, candidate: str) -> str:
        for c in self.candidates:
            if c["candidate"] == candidate:
                return c["prompt"]
        names = [c["candidate"] for c in self.candidates]
        raise BenchworkError(f"TuningView: no candidate named {candidate!r}; candidates: {names}")

    def _on_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        if kind == "use":
            name = content.get("candidate")
            if isinstance(name, str) and any(c["candidate"] == name for c in self.candidates):
                self.use(name)
        elif kind == "knob":
            self._set_knobs({str(content.get("key")): content.get("value")})
        elif kind in ("start", "cancel"):
            try:
                if kind == "start":
                    # the knobs as the page shows them: what you see is what runs
                    self._set_knobs(content.get("options") or {})
                    self._start_from_ui()
                else:
                    self.cancel()
            except BenchworkError:
                pass  # already said in the widget
            except Exception as exc:  # a bug or a bad value: shown, never a silent click
                self._say("error", f"{kind}: {type(exc).__name__}: {exc}")

    def _set_knobs(self, values: Any) -> None:
        """Knob values sent by the page (checked when the tuning starts); others are ignored.

        The page sends them as custom messages, not state updates: while a cell is running
        (``await view.task``) the front end holds state updates back, custom messages go."""
        if not isinstance(values, dict) or not self.can_tune:
            return
        known = {k: v for k, v in values.items() if k in KNOBS}
        if known and (self.task is None or self.task.done()):
            self.tune_options = {**self.tune_options, **known}

    def __repr__(self) -> str:
        return (
            f"TuningView({len(self.candidates)} candidates, {len(self.generations)} generations, "
            f"winner={self.winner or None!r}, {self.status})"
        )

    # -- static HTML (an exported notebook, offline) ---------------------------------------
    @classmethod
    def static_html(cls, state: dict[str, Any]) -> str:
        """The candidates table with intervals, the winner's diff and the held-out verdict."""
        return _render_static(state)


def _json(value: Any) -> Any:
    """A JSON-safe scalar: finite floats, ints, bools, strings; anything else -> None/str."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return _num(value)
    number = _num(value)
    return number if number is not None else str(value)


# -- static HTML -------------------------------------------------------------------------------
_STYLE = """<style>
.benchwork-tuning-static{font:13px/1.4 system-ui,sans-serif;color:#1f2328;max-width:820px}
.benchwork-tuning-static table{border-collapse:collapse;margin:6px 0;font-variant-numeric:tabular-nums}
.benchwork-tuning-static th,.benchwork-tuning-static td{padding:2px 8px;border-bottom:1px solid #d8dee4;text-align:left}
.benchwork-tuning-static tr.benchwork-tuning-winner td{background:#e8f5e9;font-weight:600}
.benchwork-tuning-static .benchwork-tuning-gen td{background:#f6f8fa;color:#59636e;font-size:12px}
.benchwork-tuning-static ins{background:#d1f4d9;text-decoration:none}
.benchwork-tuning-static del{background:#ffd7d5;color:#82071e}
.benchwork-tuning-static .benchwork-tuning-diff{white-space:pre-wrap;padding:6px 8px;border:1px solid #d8dee4;border-radius:6px}
.benchwork-tuning-static .benchwork-tuning-confirm{margin:6px 0;padding:4px 8px;border-left:3px solid #59636e}
.benchwork-tuning-static .benchwork-tuning-confirmed{border-left-color:#2e7d32}
</style>"""


def _fmt(value: Any, spec: str = ".3f") -> str:
    x = _num(value)
    return "–" if x is None else format(x, spec)


def _signed(value: Any) -> str:
    x = _num(value)
    return "–" if x is None else f"{x:+.3f}"


def diff_html(diff: list[list[str]]) -> str:
    """A :func:`word_diff` as escaped HTML: ``<ins>`` for inserted, ``<del>`` for deleted text."""
    tags = {"+": "ins", "-": "del"}
    parts = []
    for op, text in diff:
        esc = html.escape(text)
        tag = tags.get(op)
        parts.append(f"<{tag}>{esc}</{tag}>" if tag else esc)
    return "".join(parts)


def confirmation_text(conf: dict[str, Any]) -> str:
    """One line for the held-out comparison: diff [lo, hi], p (Holm), verdict (plain text)."""
    if not conf:
        return ""
    text = (
        f"held-out, winner − original: {_signed(conf.get('diff'))} "
        f"[{_fmt(conf.get('diff_lo'))}, {_fmt(conf.get('diff_hi'))}]"
    )
    if conf.get("p_holm") is not None:
        text += f", p (Holm) = {_fmt(conf.get('p_holm'), '.3g')}"
    if conf.get("n_pairs") is not None:
        text += f", {int(conf['n_pairs'])} pairs"
    text += f" → {conf.get('verdict', 'not compared')}"
    return text + (" (confirmed)" if conf.get("confirmed") else " (not confirmed)")


def _whisker_svg(c: dict[str, Any], scale: list[float], width: int = 160) -> str:
    lo_s, hi_s = scale[:2] if len(scale) >= 2 else (0.0, 1.0)
    span = (hi_s - lo_s) or 1.0

    def x(v: float) -> float:
        return round(4 + (width - 8) * (v - lo_s) / span, 1)

    parts = [f'<svg width="{width}" height="14" viewBox="0 0 {width} 14">']
    parts.append(f'<line x1="4" y1="7" x2="{width - 4}" y2="7" stroke="#e6e8eb"/>')
    lo, mean, hi = c.get("dev_lo"), c.get("dev_mean"), c.get("dev_hi")
    if lo is not None and hi is not None:
        parts.append(
            f'<line x1="{x(lo)}" y1="7" x2="{x(hi)}" y2="7" stroke="#1976d2" stroke-width="2"/>'
            f'<line x1="{x(lo)}" y1="3" x2="{x(lo)}" y2="11" stroke="#1976d2"/>'
            f'<line x1="{x(hi)}" y1="3" x2="{x(hi)}" y2="11" stroke="#1976d2"/>'
        )
    if mean is not None:
        parts.append(f'<circle cx="{x(mean)}" cy="7" r="3.5" fill="#1976d2"/>')
    return "".join(parts) + "</svg>"


def _chart_svg(generations: list[dict[str, Any]], scale: list[float]) -> str:
    """Best and mean dev score per generation, as a small inline SVG line chart."""
    w, h, pad = 320, 120, 24
    lo_s, hi_s = scale[:2] if len(scale) >= 2 else (0.0, 1.0)
    gens = [g["generation"] for g in generations]
    g0, g1 = min(gens), max(gens)

    def px(g: int) -> float:
        return round(pad + (w - 2 * pad) * ((g - g0) / ((g1 - g0) or 1)), 1)

    def py(v: float) -> float:
        return round(h - pad - (h - 2 * pad) * (v - lo_s) / ((hi_s - lo_s) or 1), 1)

    parts = [f'<svg width="{w}" height="{h}" viewBox="0 0 {w} {h}">']
    parts.append(
        f'<line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" stroke="#d8dee4"/>'
    )
    for key, colour in (("mean", "#59636e"), ("best", "#2e7d32")):
        pts = [(px(g["generation"]), py(g[key])) for g in generations if g.get(key) is not None]
        if pts:
            path = " ".join(f"{a},{b}" for a, b in pts)
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
            parts += [f'<circle cx="{a}" cy="{b}" r="3" fill="{colour}"/>' for a, b in pts]
    for g in gens:
        parts.append(
            f'<text x="{px(g)}" y="{h - 8}" font-size="10" text-anchor="middle" fill="#59636e">{g}</text>'
        )
    parts.append(
        f'<text x="{pad}" y="12" font-size="10" fill="#2e7d32">best</text>'
        f'<text x="{pad + 34}" y="12" font-size="10" fill="#59636e">mean</text>'
    )
    return "".join(parts) + "</svg>"


def _render_static(state: dict[str, Any]) -> str:
    candidates: list[dict[str, Any]] = list(state.get("candidates") or [])
    generations: list[dict[str, Any]] = list(state.get("generations") or [])
    scale = list(state.get("scale") or [0.0, 1.0])
    winner = state.get("winner") or ""
    conf = state.get("confirmation") or {}
    esc = html.escape
    out = [_STYLE, '<div class="benchwork-tuning-static">']
    out.append(
        f"<div><b>prompt tuning</b> · {len(candidates)} candidates · "
        f"{len(generations)} generation{'s' if len(generations) != 1 else ''}"
        + (f" · winner: <b>{esc(winner)}</b>" if winner else "")
        + "</div>"
    )
    if state.get("run_message"):
        out.append(
            f'<div class="benchwork-tuning-run">tuning {esc(str(state.get("run_status") or ""))}: '
            f"{esc(str(state['run_message']))}</div>"
        )
    if conf:
        ok = " benchwork-tuning-confirmed" if conf.get("confirmed") else ""
        out.append(
            f'<div class="benchwork-tuning-confirm{ok}">{esc(confirmation_text(conf))}</div>'
        )
    if len(generations) > 1:
        out.append(f'<div class="benchwork-tuning-chart">{_chart_svg(generations, scale)}</div>')
    out.append(
        "<table><thead><tr><th>candidate</th><th>dev mean</th><th>interval</th><th>n</th>"
        "<th>dev score</th><th>change</th></tr></thead><tbody>"
    )
    by_gen: dict[int, dict[str, Any]] = {g["generation"]: g for g in generations}
    last_gen = None
    for c in candidates:
        gen = c.get("generation")
        if gen != last_gen:
            g = by_gen.get(gen, {}) if isinstance(gen, int) else {}
            out.append(
                f'<tr class="benchwork-tuning-gen"><td colspan="6">generation {esc(str(gen))} · '
                f"{g.get('n', '?')} candidate{'' if g.get('n') == 1 else 's'} · best {_fmt(g.get('best'))} · "
                f"mean {_fmt(g.get('mean'))}</td></tr>"
            )
            last_gen = gen
        name = str(c.get("candidate", ""))
        cls = ' class="benchwork-tuning-winner"' if name == winner and winner else ""
        change = (
            "original"
            if c.get("is_original")
            else f"+{c.get('added', 0)} −{c.get('removed', 0)} words"
        )
        n = c.get("dev_n")
        out.append(
            f"<tr{cls}><td>{esc(name)}{' ★' if cls else ''}</td><td>{_fmt(c.get('dev_mean'))}</td>"
            f"<td>[{_fmt(c.get('dev_lo'))}, {_fmt(c.get('dev_hi'))}]</td>"
            f"<td>{'–' if n is None else int(n)}</td><td>{_whisker_svg(c, scale)}</td>"
            f"<td>{esc(change)}</td></tr>"
        )
    out.append("</tbody></table>")
    shown = next((c for c in candidates if winner and c.get("candidate") == winner), None)
    label = "winner"
    if shown is None:  # no winner yet: the best on dev that is not the original
        scored = [
            c for c in candidates if not c.get("is_original") and c.get("dev_mean") is not None
        ]
        shown = max(scored, key=lambda c: c["dev_mean"], default=None)
        label = "best on dev so far"
    if shown is not None:
        out.append(
            f"<div>{esc(label)}: <b>{esc(str(shown.get('candidate', '')))}</b> against the original "
            "(<ins>inserted</ins>, <del>deleted</del>)</div>"
            f'<div class="benchwork-tuning-diff">{diff_html(shown.get("diff") or [])}</div>'
        )
    out.append("</div>")
    return "".join(out)
