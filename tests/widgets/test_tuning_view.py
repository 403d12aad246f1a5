"""TuningView without a browser: a real quick-mode tuning run on the sim (over HTTP) shown in
the view; the frame -> state conversion (generations, intervals, order); the word diff
(hypothesis: it rebuilds both prompts); selection and "Use this prompt"; static HTML."""

from __future__ import annotations

import inspect
import itertools
import json
import re
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("anywidget")

import benchwork as bw
from benchwork.errors import BenchworkError
from benchwork.sim import PromptRule, SimModel, SimServer
from benchwork.tuning import TuneResult, tune_prompt_sync
from benchwork.widgets import TuningView, asset_path, static_html
from benchwork.widgets._tuning import confirmation_text, diff_html, frame_state, word_diff

QA = {f"What is {i} plus {i}?": str(2 * i) for i in range(40)}
DEV = [f"q{i}" for i in range(20)]


def _suite() -> bw.Suite:
    cases = [{"id": f"q{i}", "input": q, "expected": a} for i, (q, a) in enumerate(QA.items())]
    return bw.Suite.from_records(cases, name="adds", system="You answer questions.")


@pytest.fixture(scope="module")
def tuned(tmp_path_factory: pytest.TempPathFactory) -> TuneResult:
    """A real quick-mode run: the sim's rewriter proposes, the solver likes "answer first"."""
    home = tmp_path_factory.mktemp("tune")
    models = [
        SimModel("solver", ttft_s=0, itl_s=0, accuracy=0.3, seed=11,
                 prompt_rules=[PromptRule("answer first", 0.95)]),
        SimModel("meta", role="rewriter", ttft_s=0, itl_s=0, seed=2),
    ]  # fmt: skip
    with SimServer(models, answers=QA) as sim:
        target = bw.Target("openai/solver", api_base=sim.base_url)
        meta = bw.Target("openai/meta", api_base=sim.base_url)
        return tune_prompt_sync(_suite(), target, meta, k=6, dev=DEV, home=home)


def _rebuild(diff: list[list[str]], skip: str) -> str:
    return "".join(text for op, text in diff if op != skip)


# -- a real tuning run -------------------------------------------------------------------------
def test_view_of_a_real_quick_mode_run(tuned: TuneResult) -> None:
    view = TuningView(tuned)
    frame = tuned.frame
    assert view.status == "done" and view.original == tuned.original == "You answer questions."
    assert len(view.candidates) == frame.height >= 3
    assert {c["candidate"] for c in view.candidates} == set(frame["candidate"].to_list())
    # quick mode has no generation column: the original is generation 0, the rewrites 1
    gens = {c["candidate"]: c["generation"] for c in view.candidates}
    assert gens["original"] == 0 and set(gens.values()) == {0, 1}
    assert [g["generation"] for g in view.generations] == [0, 1]
    assert [g["n"] for g in view.generations] == [1, frame.height - 1]
    rewrites = frame.filter(pl.col("candidate") != "original")
    assert view.generations[1]["best"] == pytest.approx(rewrites["dev_mean"].max())
    assert view.generations[1]["mean"] == pytest.approx(rewrites["dev_mean"].mean())
    # each candidate keeps its dev interval from the frame, and its diff rebuilds both prompts
    by_name = {r["candidate"]: r for r in frame.to_dicts()}
    for c in view.candidates:
        row = by_name[c["candidate"]]
        assert (c["dev_mean"], c["dev_lo"], c["dev_hi"], c["dev_n"]) == pytest.approx(
            (row["dev_mean"], row["dev_lo"], row["dev_hi"], row["dev_n"])
        )
        assert c["dev_lo"] <= c["dev_mean"] <= c["dev_hi"]
        assert view.scale[0] <= c["dev_lo"] and c["dev_hi"] <= view.scale[1]
        assert _rebuild(c["diff"], "-") == row["prompt"]
        assert _rebuild(c["diff"], "+") == tuned.original
    # the winner: named by its prompt, its added words are the rewriter's instruction
    win = next(c for c in view.candidates if c["candidate"] == view.winner)
    assert win["prompt"] == tuned.winner and "answer first" in win["prompt"].lower()
    assert [op for op, _ in win["diff"]] == ["=", "+"] and win["removed"] == 0
    assert view.selected == view.winner and view.selected_prompt == tuned.winner
    # the held-out confirmation, as compare_runs gave it
    conf = view.confirmation
    assert conf["confirmed"] is tuned.confirmed is True
    for key in ("diff", "diff_lo", "diff_hi", "p_holm", "verdict", "n_pairs"):
        assert conf[key] == pytest.approx(tuned.confirmation[key]), key
    json.dumps(view.get_state(), allow_nan=False)  # the state is plain JSON
    assert repr(view) == (
        f"TuningView({frame.height} candidates, 2 generations, winner={view.winner!r}, done)"
    )


def test_live_updates_then_the_final_result(tuned: TuneResult) -> None:
    view = TuningView(original=tuned.original)
    assert (view.status, view.candidates, view.winner) == ("empty", [], "")
    seen: list[int] = []
    view.observe(lambda ch: seen.append(len(ch["new"])), names="candidates")
    view.update(tuned.frame.head(1))
    assert view.status == "running" and [c["candidate"] for c in view.candidates] == ["original"]
    view.update(tuned.frame)
    assert seen == [1, tuned.frame.height] and view.winner == ""
    view.show(tuned)
    assert view.status == "done" and view.winner and view.confirmation["verdict"]


@pytest.mark.skipif(
    "on_generation" not in inspect.signature(bw.tuning.tune_prompt).parameters,
    reason="tune_prompt has no on_generation callback yet (the evolutionary mode adds it)",
)
def test_view_update_as_the_tuners_on_generation_callback(tmp_path: Path) -> None:
    models = [
        SimModel("solver", ttft_s=0, itl_s=0, accuracy=0.3, seed=11,
                 prompt_rules=[PromptRule("answer first", 0.95)]),
        SimModel("meta", role="rewriter", ttft_s=0, itl_s=0, seed=2),
    ]  # fmt: skip
    view = TuningView(original="You answer questions.")
    heights: list[int] = []
    view.observe(lambda ch: heights.append(len(ch["new"])), names="candidates")
    with SimServer(models, answers=QA) as sim:
        target = bw.Target("openai/solver", api_base=sim.base_url)
        meta = bw.Target("openai/meta", api_base=sim.base_url)
        result = tune_prompt_sync(
            _suite(), target, meta, k=4, dev=DEV, home=tmp_path,
            on_generation=view.update,  # type: ignore[call-arg]
        )  # fmt: skip
    assert heights and heights[-1] == result.frame.height
    view.show(result)
    assert view.winner and view.selected_prompt == result.winner


@pytest.mark.skipif(
    "mode" not in inspect.signature(bw.tuning.tune_prompt).parameters,
    reason="tune_prompt has no evolve mode yet",
)
def test_view_of_a_real_evolve_mode_run(tmp_path: Path) -> None:
    models = [
        SimModel("solver", ttft_s=0, itl_s=0, accuracy=0.3, seed=11,
                 prompt_rules=[PromptRule("answer first", 0.95)]),
        SimModel("meta", role="rewriter", ttft_s=0, itl_s=0, seed=2),
    ]  # fmt: skip
    view = TuningView(original="You answer questions.")
    with SimServer(models, answers=QA) as sim:
        target = bw.Target("openai/solver", api_base=sim.base_url)
        meta = bw.Target("openai/meta", api_base=sim.base_url)
        result = tune_prompt_sync(
            _suite(), target, meta, mode="evolve", population=3, generations=3, dev=DEV,
            home=tmp_path, on_generation=view.update,  # type: ignore[call-arg]
        )  # fmt: skip
    view.show(result)
    frame = result.frame
    gens = sorted(set(frame["generation"].to_list()))
    assert [g["generation"] for g in view.generations] == gens and len(gens) >= 2
    for g in view.generations:
        part = frame.filter(pl.col("generation") == g["generation"])
        assert g["n"] == part.height and g["best"] == pytest.approx(part["dev_mean"].max())
    by_name = {r["candidate"]: r for r in frame.to_dicts()}
    for c in view.candidates:
        assert c["generation"] == by_name[c["candidate"]]["generation"]
        assert c["parent"] == by_name[c["candidate"]]["parent"]
        assert (
            _rebuild(c["diff"], "-") == c["prompt"] and _rebuild(c["diff"], "+") == result.original
        )
    assert view.selected_prompt == result.winner


# -- frame -> state ----------------------------------------------------------------------------
def _frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, infer_schema_length=None)


def _row(name: str, prompt: str, mean: float | None, **extra) -> dict:
    lo = None if mean is None else mean - 0.1
    hi = None if mean is None else mean + 0.1
    return {"candidate": name, "prompt": prompt, "dev_mean": mean, "dev_lo": lo, "dev_hi": hi,
            "dev_n": 10, **extra}  # fmt: skip


def test_generations_from_the_generation_column() -> None:
    frame = _frame(
        [
            _row("original", "Be good.", 0.5, generation=0, parent=None),
            _row("g1a", "Be good. Be brief.", 0.6, generation=1, parent="original"),
            _row("g1b", "Be very good.", 0.7, generation=1, parent="original"),
            _row("g2a", "Be very good. Be precise.", 0.9, generation=2, parent="g1b"),
            _row("g2b", "Be very good indeed.", 0.4, generation=2, parent="g1b"),
            _row("g2c", "Be very good!", None, generation=2, parent="g1b"),
        ]
    ).with_columns(pl.col("generation").cast(pl.Int64))
    state = frame_state(frame)
    assert state["original"] == "Be good."
    # by generation, best dev first, unscored last
    assert [c["candidate"] for c in state["candidates"]] == [
        "original", "g1b", "g1a", "g2a", "g2b", "g2c"
    ]  # fmt: skip
    assert [(g["generation"], g["n"], g["best_candidate"]) for g in state["generations"]] == [
        (0, 1, "original"), (1, 2, "g1b"), (2, 3, "g2a")
    ]  # fmt: skip
    assert state["generations"][2]["best"] == pytest.approx(0.9)
    assert state["generations"][2]["mean"] == pytest.approx((0.9 + 0.4) / 2)  # null skipped
    parents = {c["candidate"]: c["parent"] for c in state["candidates"]}
    assert parents["g2a"] == "g1b" and parents["original"] is None
    g2c = next(c for c in state["candidates"] if c["candidate"] == "g2c")
    assert (g2c["dev_mean"], g2c["dev_lo"], g2c["dev_hi"]) == (None, None, None)
    assert state["scale"] == [0.0, pytest.approx(1.0)]


def test_without_a_generation_column_the_original_is_0_and_the_rest_1() -> None:
    frame = _frame([_row("rewrite 1", "Hi. More.", 0.8), _row("original", "Hi.", 0.2)])
    state = frame_state(frame)
    assert [(c["candidate"], c["generation"]) for c in state["candidates"]] == [
        ("original", 0), ("rewrite 1", 1)
    ]  # fmt: skip
    assert state["original"] == "Hi."
    # the original can also be told (and is then matched by its prompt)
    named = frame_state(_frame([_row("a", "Hi.", 0.2), _row("b", "Hi. More.", 0.8)]), "Hi.")
    assert [(c["candidate"], c["generation"], c["is_original"]) for c in named["candidates"]] == [
        ("a", 0, True), ("b", 1, False)
    ]  # fmt: skip


def test_the_scale_covers_every_interval_and_nan_becomes_null() -> None:
    frame = _frame([_row("original", "x", 0.5), _row("r", "y", 1.05), _row("s", "z", -0.02)])
    frame = frame.vstack(_frame([_row("t", "w", float("nan"))]))
    state = frame_state(frame)
    lo, hi = state["scale"]
    assert lo == pytest.approx(-0.12) and hi == pytest.approx(1.15)
    t = next(c for c in state["candidates"] if c["candidate"] == "t")
    assert t["dev_mean"] is None and t["dev_lo"] is None
    json.dumps(state, allow_nan=False)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pl.DataFrame({"candidate": ["a"], "prompt": ["p"]}), "lacks column(s)"),
        ("not a frame", "expects tune_prompt's frame"),
        (_frame([_row("a", "p", 0.1), _row("a", "q", 0.2)]), "more than once"),
    ],
)
def test_bad_frames_are_refused_with_a_clear_error(frame, message: str) -> None:
    view = TuningView()
    with pytest.raises(BenchworkError, match=re.escape(message)):
        view.update(frame)
    assert view.candidates == [] and view.status == "empty"


def test_update_with_a_tune_result_points_at_show(tuned: TuneResult) -> None:
    with pytest.raises(BenchworkError, match=r"view\.show\(result\)"):
        TuningView().update(tuned)  # type: ignore[arg-type]


# -- the word diff -----------------------------------------------------------------------------
WORDS = st.sampled_from(["You", "answer", "questions.", "Be", "brief.", "the", "a", "x", "é"])
SPACE = st.sampled_from([" ", "  ", "\n", "\t", " \n"])
TEXT = st.lists(st.tuples(WORDS, SPACE), max_size=12).map(
    lambda parts: "".join(w + s for w, s in parts)
) | st.text(max_size=40)


@settings(deadline=None)  # a loaded CI machine
@given(TEXT, TEXT)
def test_word_diff_rebuilds_both_prompts(original: str, candidate: str) -> None:
    diff = word_diff(original, candidate)
    assert _rebuild(diff, "-") == candidate  # kept + inserted
    assert _rebuild(diff, "+") == original  # kept + deleted
    assert all(op in "=+-" and text for op, text in diff)
    ops = "".join(op for op, _ in diff)
    assert all(a != b for a, b in itertools.pairwise(ops)), "adjacent segments are merged"
    assert "+-" not in ops, "within a change, the deletion comes first"
    if original == candidate:
        assert diff == ([["=", original]] if original else [])


@settings(deadline=None)  # a loaded CI machine
@given(TEXT, TEXT)
def test_diff_html_escapes_and_marks_every_change(original: str, candidate: str) -> None:
    diff = word_diff(original, candidate)
    out = diff_html(diff)
    assert out.count("<ins>") == sum(op == "+" for op, _ in diff)
    assert out.count("<del>") == sum(op == "-" for op, _ in diff)
    stripped = re.sub(r"</?(ins|del)>", "", out)
    assert "<" not in stripped and ">" not in stripped


def test_word_diff_reads_as_whole_words() -> None:
    diff = word_diff("You answer questions.", "You answer questions. Give the answer first.")
    assert diff == [["=", "You answer questions."], ["+", " Give the answer first."]]
    diff = word_diff("Answer the question.", "Carefully answer every question.")
    # the space kept between two changed words is folded in: one change, not four
    assert diff == [["-", "Answer the"], ["+", "Carefully answer every"], ["=", " question."]]


# -- selection and "Use this prompt" -----------------------------------------------------------
def test_selection_and_use_this_prompt_from_the_front_end(tuned: TuneResult) -> None:
    view = TuningView(tuned)
    other = next(c for c in view.candidates if c["candidate"] != view.winner)
    view.set_state({"selected": other["candidate"]})  # what a click syncs back
    assert view.selected_prompt == other["prompt"] and view.chosen_prompt == ""
    # the button's custom message: Python looks the prompt up
    view._handle_custom_msg({"type": "use", "candidate": other["candidate"]}, [])
    assert (view.chosen, view.chosen_prompt) == (other["candidate"], other["prompt"])
    view._handle_custom_msg({"type": "use", "candidate": "no such"}, [])  # stale: ignored
    assert view.chosen == other["candidate"]
    assert view.use("original") == tuned.original == view.chosen_prompt
    with pytest.raises(BenchworkError, match="no candidate named 'nope'"):
        view.select("nope")
    with pytest.raises(BenchworkError, match="no candidate selected"):
        TuningView().use()


# -- static HTML and assets --------------------------------------------------------------------
def test_static_html_shows_the_table_the_winner_diff_and_the_verdict(tuned: TuneResult) -> None:
    view = TuningView(tuned)
    state = json.loads(json.dumps(view.get_state()))  # as stored in a notebook
    state = {k: v for k, v in state.items() if not k.startswith("_") or k == "_bw_widget"}
    out = static_html(state)
    assert out is not None and 'data-widget="TuningView"' in out
    assert "<script" not in out and "http" not in out.replace('xmlns="http', "")
    for c in view.candidates:
        assert f"<td>{c['candidate']}" in out
        assert f"[{c['dev_lo']:.3f}, {c['dev_hi']:.3f}]" in out
    assert out.count("<svg") >= len(view.candidates) + 1  # a whisker each, plus the chart
    assert 'class="benchwork-tuning-winner"' in out and f"<b>{view.winner}</b>" in out
    win = next(c for c in view.candidates if c["candidate"] == view.winner)
    assert diff_html(win["diff"]) in out and "<ins>" in out
    assert confirmation_text(view.confirmation) in out and "(confirmed)" in out
    assert f"p (Holm) = {tuned.confirmation['p_holm']:.3g}" in out


def test_static_html_escapes_prompts_and_works_before_a_winner() -> None:
    view = TuningView(original="Say <b>hi</b> & go")
    view.update(_frame([_row("original", "Say <b>hi</b> & go", 0.3),
                        _row("<i>r1</i>", "Say <b>hi</b> & go <script>x()</script>", 0.6)]))  # fmt: skip
    out = TuningView.static_html(view.get_state())
    assert "<script>" not in out and "<i>r1</i>" not in out and "&lt;i&gt;r1&lt;/i&gt;" in out
    assert "best on dev so far" in out and "<ins> &lt;script&gt;x()&lt;/script&gt;</ins>" in out
    assert TuningView.static_html({}).count("<tr") == 1  # an empty state still renders


def test_front_end_assets_ship_with_the_package() -> None:
    js, css = asset_path("tuning.js").read_text(), asset_path("tuning.css").read_text()
    assert "export function render" in js and "export default" in js
    for cls in ("benchwork-tuning-row", "benchwork-tuning-use", "benchwork-tuning-diff",
                "benchwork-tuning-gen", "benchwork-tuning-whisker", "benchwork-tuning-confirm"):  # fmt: skip
        assert cls in js and cls in css, cls
    assert TuningView._esm == js and TuningView._css == css
