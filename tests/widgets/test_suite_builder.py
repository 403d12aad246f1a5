"""SuiteBuilder without a browser: exact suite <-> state round trip, the loader's messages per
field, preview, import/save, grid actions, review of pending cases and the static HTML."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("anywidget")

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import benchwork as bw
from benchwork.errors import SuiteError
from benchwork.widgets import SuiteBuilder, asset_path, static_html
from benchwork.widgets._suite_state import (
    blank_case,
    case_to_state,
    drop_stale,
    duplicate_case,
    import_bytes,
    move_case,
    preview_case,
    state_to_case,
    state_to_suite,
    suite_to_state,
    validate,
)

# -- generated suites ---------------------------------------------------------------------------
words = st.text(min_size=1, max_size=12).filter(lambda s: s.strip())
keys = st.text(max_size=6)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=8,
)
roles = st.sampled_from(["system", "user", "assistant", "tool", "developer"])
message = st.one_of(
    st.fixed_dictionaries({"role": roles, "content": st.text(max_size=20)}),
    st.fixed_dictionaries(
        {"role": roles, "content": st.just([{"type": "text", "text": "part"}])},
        optional={"name": words},
    ),
    st.fixed_dictionaries(  # an assistant tool call with no content key at all
        {
            "role": st.just("assistant"),
            "tool_calls": st.just([{"id": "t1", "type": "function", "function": {"name": "f"}}]),
        }
    ),
)
chat = st.lists(message, min_size=0, max_size=3).flatmap(
    lambda ms: st.permutations([*ms, {"role": "user", "content": "Hi {{ who }}"}])
)
tools = st.none() | st.lists(
    st.builds(
        lambda name, params: {"type": "function", "function": {"name": name, "parameters": params}},
        words,
        st.dictionaries(keys, json_values, max_size=2),
    ),
    min_size=1,
    max_size=2,
)


@st.composite
def cases(draw: Any, case_id: str) -> bw.Case:
    variables = draw(st.dictionaries(keys.filter(lambda k: k != "input"), json_values, max_size=3))
    variables["who"] = draw(json_values)
    return bw.Case(
        case_id,
        draw(st.one_of(st.text(min_size=1, max_size=30), st.just("Hi {{ who }}"), chat)),
        vars=variables,
        expected=draw(json_values),
        tags=draw(st.lists(words, max_size=3)),
        tools=draw(tools),
        metadata=draw(
            st.dictionaries(keys, json_values, max_size=2)
            | st.just({"synthetic": {"generator": "paraphrase", "seed_case": "q1"}})
        ),
    )


@st.composite
def suites(draw: Any) -> bw.Suite:
    ids = draw(st.lists(words, min_size=1, max_size=5, unique=True))
    try:
        return bw.Suite(
            name=draw(words),
            cases=[draw(cases(i)) for i in ids],
            system=draw(st.none() | words),
            template=draw(
                st.none() | st.just("Q: {{ input }}") | words.map(lambda w: w + "{{input}}")
            ),
            scorers=draw(
                st.lists(
                    words | st.dictionaries(keys, json_values, min_size=1, max_size=2), max_size=3
                )
            ),
            version=draw(st.none() | st.text(max_size=5)),
            description=draw(st.none() | st.text(max_size=10)),
            metadata=draw(st.dictionaries(keys, json_values, max_size=2)),
        )
    except SuiteError:  # e.g. random text that happens to hold a {{ placeholder }}
        assume(False)
        raise


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(suites())
def test_builder_round_trips_any_suite_exactly(suite: bw.Suite) -> None:
    builder = SuiteBuilder(suite)
    assert builder.suite == suite
    assert builder.suite.hash == suite.hash
    assert builder.errors == [w for w in builder.errors if w["field"] == "scorers"]  # only names
    # what the browser sends back is the JSON of the state: that round-trips too
    settings_, cases_ = json.loads(json.dumps([builder.settings, builder.cases]))
    assert state_to_suite(settings_, cases_) == suite
    again = SuiteBuilder(state_to_suite(settings_, cases_))
    assert (again.settings, again.cases) == (builder.settings, builder.cases)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(suites(), st.data())
def test_pending_cases_round_trip_and_accept_keeps_them(suite: bw.Suite, data: Any) -> None:
    pending = [data.draw(cases(f"pending-{i}")) for i in range(2)]
    builder = SuiteBuilder(suite, pending=pending)
    assert builder.pending == pending
    builder.accept(1)
    assert builder.pending == pending[:1]
    assert builder.suite.cases == [*suite.cases, pending[1]]


@given(st.lists(st.integers(), min_size=1, max_size=8), st.data())
def test_move_case_is_a_permutation_that_puts_the_case_where_asked(items, data) -> None:
    states = [{"id": str(i), "n": v} for i, v in enumerate(items)]
    index = data.draw(st.integers(0, len(items) - 1))
    to = data.draw(st.integers(-3, len(items) + 3))
    moved = move_case(states, index, to)
    assert sorted(moved, key=lambda s: s["id"]) == states
    assert moved.index(states[index]) == max(0, min(to, len(items) - 1))
    rest = [s for s in moved if s is not states[index]]
    assert rest == [s for s in states if s is not states[index]]


# -- the loader's messages, per field -----------------------------------------------------------
def _demo_state() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    return suite_to_state(bw.Suite.demo())


def _loader_error(settings_: dict[str, Any], cases_: list[dict[str, Any]]) -> SuiteError:
    with pytest.raises(SuiteError) as info:
        state_to_suite(settings_, cases_)
    return info.value


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("id", "", "'id' must be a non-empty string, got a string"),
        ("input", "   ", "'input' is empty"),
        ("vars", "[1, 2]", "'vars' must be a mapping of names to values, got a list"),
        ("vars", '{"input": "x"}', "'vars' may not define 'input': it is the case's own input"),
        ("vars", '{"a": 1,}', "vars: not valid JSON: Expecting property name enclosed in double quotes (line 1, column 9)"),
        ("metadata", '{"k": 1, "k": 2}', "metadata: not valid JSON: the key 'k' appears twice"),
        ("tools", '[{"x": 1}]', "tools[0] must be an OpenAI function schema "
         '({"type": "function", "function": {"name": ..., "parameters": ...}})'),
        ("input", "Say {{ colour }}", "template variable 'colour' is not defined in vars (defined: none)"),
    ],
)  # fmt: skip
def test_validate_reports_the_loaders_message_at_the_field(field, value, message) -> None:
    settings_, cases_ = _demo_state()
    cases_[2][field] = value
    problems = validate(settings_, cases_)
    expected_field = "vars" if "colour" in value else field
    assert problems == [{"index": 2, "field": expected_field, "message": message}]
    error = _loader_error(settings_, cases_)  # what .suite raises: the same words
    assert error.reason.endswith(message) and error.field == expected_field


def test_validate_reports_each_broken_case_and_suite_level_problems() -> None:
    settings_, cases_ = _demo_state()
    cases_[1]["expected_kind"], cases_[1]["expected"] = "json", "{oops"
    cases_[4]["id"] = cases_[3]["id"]
    cases_[6]["input_kind"] = "chat"
    cases_[6]["messages"] = [{"role": "usr", "content": "hi", "extra": ""}]
    cases_[9]["input"] = "Hi {{ who }}"
    settings_["template"] = "no placeholder"
    settings_["scorers"] = [{"kind": "name", "text": "exat"}]
    problems = {(p["index"], p["field"]): p["message"] for p in validate(settings_, cases_)}
    assert problems.pop((1, "expected")).startswith("expected: not valid JSON: Expecting")
    assert problems.pop((6, "input")) == (
        "'input' message #1 has role 'usr' (did you mean 'user'?); "
        "allowed: system, user, assistant, tool, developer"
    )
    assert problems.pop((None, "template")).startswith("'template' does not use {{ input }}")
    assert problems.pop((9, "vars")).startswith("template variable 'who' is not defined")
    assert problems.pop((None, "scorers")).startswith(
        "unknown scorer 'exat' (did you mean 'exact'?)"
    )
    assert problems == {}  # the duplicate id waits: positions in its message need every case
    cases_[1]["expected"] = '"fixed"'
    cases_[6]["messages"][0]["role"] = "user"
    problems = {(p["index"], p["field"]): p["message"] for p in validate(settings_, cases_)}
    assert problems[(4, "id")] == "duplicate id: case #4 and case #5 both use it"


def test_empty_and_fixed_states() -> None:
    settings_, cases_ = _demo_state()
    assert validate(settings_, cases_) == []
    assert validate(settings_, []) == [
        {"index": None, "field": "cases", "message": "the suite has no cases"}
    ]
    blank = blank_case(cases_)
    assert blank["id"] == "case-25" and validate(settings_, [*cases_, blank]) == [
        {"index": 24, "field": "input", "message": "'input' is empty"}
    ]


def test_preview_is_suite_messages_with_vars_filled() -> None:
    settings_ = {
        "name": "p",
        "system": "Be {{ tone }}.",
        "template": "Q: {{ input }}",
        "scorers": [],
    }
    case = case_to_state(
        bw.Case("a", "Capital of {{ country }}?", vars={"country": "Peru", "tone": "brief"})
    )
    assert preview_case(settings_, case) == {
        "case_id": "a",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Q: Capital of Peru?"},
        ],
    }
    case["vars"] = '{"country": "Peru"}'
    assert preview_case(settings_, case) == {
        "case_id": "a",
        "error": "template variable 'tone' is not defined in vars (defined: country)",
        "field": "vars",
    }


def test_chat_state_keeps_extra_fields_and_missing_content() -> None:
    messages = [
        {"content": "sys", "role": "system"},
        {"role": "user", "content": [{"type": "text", "text": "see"}], "name": "u"},
        {"role": "assistant", "tool_calls": [{"id": "1", "type": "function"}]},
        {"role": "user", "content": "go"},
    ]
    state = case_to_state(bw.Case("c", messages))
    assert [m["content"] for m in state["messages"]] == ["sys", None, None, "go"]
    assert json.loads(state["messages"][1]["extra"]) == {
        "content": [{"type": "text", "text": "see"}],
        "name": "u",
    }
    assert state_to_case(state).input == messages
    assert validate({"name": "s"}, [{"id": "x"}]) == [  # a state with no input at all
        {"index": 0, "field": "input", "message": "'input' is missing"}
    ]
    state["messages"][2]["extra"] = "[1]"
    with pytest.raises(SuiteError, match="message #3: the extra fields must be a JSON mapping"):
        state_to_case(state)


# -- import, save ------------------------------------------------------------------------------
def test_import_bytes_uses_the_loader_in_every_format(tmp_path: Path) -> None:
    suite = bw.Suite.from_records(
        [{"id": "a", "input": "x?", "expected": "1"}, {"id": "b", "input": "y?", "tags": ["t"]}],
        name="fmt",
    )
    for ext in ("yaml", "json", "jsonl", "csv"):
        path = suite.save(tmp_path / f"fmt.{ext}")
        assert import_bytes(path.read_bytes(), path.name) == suite, ext
    with pytest.raises(SuiteError) as info:
        import_bytes(b"name: t\ncases:\n  - input: hi\n    expcted: x\n", "t.yaml")
    assert str(info.value) == (
        "t.yaml: line 3: case #1: unknown field 'expcted' (did you mean 'expected'?); "
        "allowed: id, input, vars, expected, tags, tools, metadata"
    )
    with pytest.raises(SuiteError, match=r"^u.jsonl: line 2: not UTF-8 text"):
        import_bytes(b'{"input": "a"}\n{"input": "\xff"}\n', "u.jsonl")
    with pytest.raises(SuiteError, match=r"unsupported file extension '\.txt'"):
        import_bytes(b"hi", "notes.txt")


def test_load_save_and_messages_from_the_front_end(tmp_path: Path) -> None:
    builder = SuiteBuilder(bw.Suite.demo())
    path = builder.save(tmp_path / "demo.yaml")
    assert bw.Suite.load(path) == bw.Suite.demo()
    assert builder.status == {"kind": "ok", "text": f"saved 24 cases to {path}"}
    # JSONL holds cases only: the writer refuses to drop the system prompt, and says so
    builder._on_msg(builder, {"type": "save", "path": str(tmp_path / "demo.jsonl")}, [])
    assert builder.status["kind"] == "error" and "'system'" in builder.status["text"]
    assert not (tmp_path / "demo.jsonl").exists()

    jsonl = tmp_path / "more.jsonl"
    jsonl.write_text('{"id": "m1", "input": "one"}\n{"id": "m2", "input": "two"}\n')
    builder._on_msg(builder, {"type": "import", "path": str(jsonl), "append": True}, [])
    demo_ids = [c.id for c in bw.Suite.demo()]
    assert [c.id for c in builder.suite] == [*demo_ids, "m1", "m2"]
    assert builder.suite.system == bw.Suite.demo().system  # append keeps the settings
    builder._on_msg(
        builder, {"type": "upload", "name": "up.jsonl"}, [memoryview(jsonl.read_bytes())]
    )
    assert builder.suite == bw.Suite.load(jsonl, name="up")
    assert builder.status == {"kind": "ok", "text": "imported 2 cases from up.jsonl"}
    builder._on_msg(builder, {"type": "import", "path": str(tmp_path / "missing.yaml")}, [])
    assert builder.status["kind"] == "error" and "file not found" in builder.status["text"]
    assert len(builder.suite) == 2  # a failed import loses nothing
    builder.save(tmp_path / "up.jsonl")
    assert bw.Suite.load(tmp_path / "up.jsonl", name="up") == builder.suite


def test_grid_actions_by_message_and_paging() -> None:
    suite = bw.Suite.from_records([{"id": f"c{i}", "input": f"q{i}"} for i in range(120)], name="g")
    builder = SuiteBuilder(suite, page_size=50)
    send = lambda **m: builder._on_msg(builder, m, [])  # noqa: E731
    send(type="duplicate", index=3)
    send(type="move", index=0, to=2)
    send(type="delete", index=120)
    assert [c.id for c in builder.suite][:6] == ["c1", "c2", "c0", "c3", "c3-copy", "c4"]
    assert len(builder.cases) == 120 and builder.suite.cases[-1].id == "c118"
    builder.page = 2
    send(type="add")
    assert builder.cases[-1]["id"] == "case-121" and builder.selected == 120
    assert builder.page == 2 and builder.errors[0]["index"] == 120
    builder.suite = suite.filter(ids=["c1", "c2"])
    assert (builder.page, builder.selected) == (0, 0)
    send(type="delete", index=7)
    assert builder.status == {"kind": "error", "text": "no case at position 7; there are 2"}
    assert duplicate_case(builder.cases, 0)[1]["id"] == "c1-copy"


def test_an_action_waits_for_the_edit_it_follows() -> None:
    """The widget manager may hold back a state update but sends a message at once: an Accept
    that follows an edit of the pending case must see that edit, not the version before it."""
    seed = bw.Suite.from_records([{"id": "q1", "input": "Capital of France?"}], name="s")
    builder = SuiteBuilder(seed, pending=[bw.Case("v1", "first draft")])
    builder._on_msg(builder, {"type": "accept", "index": 0, "rev": 1}, [])  # overtook edit 1
    assert [c.id for c in builder.suite] == ["q1"] and len(builder.pending_cases) == 1
    edited = [dict(builder.pending_cases[0], input="edited")]
    with builder.hold_trait_notifications():  # what one state message from the browser does
        builder.pending_cases = edited
        builder.rev = 1
    assert builder.suite["v1"].input == "edited" and builder.pending == []
    builder._on_msg(builder, {"type": "delete", "index": 0, "rev": 1}, [])  # nothing to wait for
    assert [c.id for c in builder.suite] == ["v1"]


def test_review_accept_edit_reject_and_provenance() -> None:
    seed = bw.Suite.from_records([{"id": "q1", "input": "Capital of France?"}], name="s")
    made = [
        bw.Case(f"v{i}", f"variation {i}", metadata={"synthetic": {"generator": "paraphrase", "seed_case": "q1"}})
        for i in range(3)
    ]  # fmt: skip
    builder = SuiteBuilder(seed).review(made[:2]).review(made[2:])
    assert builder.pending == made
    assert builder.pending_cases[0]["provenance"] == "generator: paraphrase · seed_case: q1"
    edited = [dict(c) for c in builder.pending_cases]
    edited[1]["input"] = "edited variation"  # what the Edit form sets
    builder.pending_cases = edited
    builder._on_msg(builder, {"type": "accept", "index": 1}, [])
    builder._on_msg(builder, {"type": "reject", "index": 0}, [])
    assert [c.id for c in builder.suite] == ["q1", "v1"]
    assert builder.suite["v1"].input == "edited variation"
    assert builder.suite["v1"].metadata == made[1].metadata
    assert builder.pending == [made[2]]
    edited = [dict(builder.pending_cases[0], vars="{")]
    builder.pending_cases = edited
    assert builder.pending_errors[0]["index"] == 0 and builder.pending_errors[0]["field"] == "vars"
    with pytest.raises(SuiteError):
        builder.pending  # noqa: B018
    assert repr(builder) == "SuiteBuilder('s', 2 cases, 1 pending, 0 problems)"


# -- assets and static HTML ---------------------------------------------------------------------
def test_front_end_assets_ship_with_the_package() -> None:
    js, css = (
        asset_path("suite_builder.js").read_text(),
        asset_path("suite_builder.css").read_text(),
    )
    assert SuiteBuilder._esm == js and SuiteBuilder._css == css
    for cls in (
        "benchwork-suite-builder",
        "benchwork-sb-row",
        "benchwork-sb-error",
        "benchwork-sb-pager",
    ):
        assert cls in js and cls in css


def test_static_html_renders_the_synced_state() -> None:
    suite = bw.Suite.from_records(
        [
            {
                "id": "a<1>",
                "input": "2 < 3 & 4?",
                "vars": {"x": 1},
                "expected": "yes",
                "tags": ["t"],
            },
            {"id": "b", "input": [{"role": "user", "content": "<script>alert(1)</script>"}]},
        ],
        name="html & co",
        system="Be brief.",
        scorers=["exact"],
    )
    builder = SuiteBuilder(
        suite, pending=[bw.Case("p", "pending?", metadata={"synthetic": {"generator": "g"}})]
    )
    state = json.loads(json.dumps(builder.get_state()))  # as a notebook's widget state holds it
    assert state["_bw_widget"] == "SuiteBuilder"
    out = static_html(state)
    assert out is not None and "<script" not in out and "&lt;script&gt;" in out
    assert "a&lt;1&gt;" in out and "2 &lt; 3 &amp; 4?" in out and "html &amp; co" in out
    assert out.count("<tr>") == 2 + 1 + 2  # two headers, two cases, one pending
    assert "generator: g" in out and "Be brief." in out and "exact" in out
    assert SuiteBuilder.static_html({}).count("<td>") == 0  # nothing synced yet: no crash


def _recorded_updates(builder: SuiteBuilder) -> list[dict[str, Any]]:
    """The state updates *builder* sends to the browser from now on (its comm's messages)."""
    sent: list[dict[str, Any]] = []
    builder.comm.send = lambda data=None, metadata=None, buffers=None: sent.append(data)  # type: ignore[union-attr]
    return sent


def test_a_stale_edit_does_not_overwrite_the_case_that_replaced_its_row() -> None:
    """The race the browser test once hit: q2 is edited in the grid, an upload replaces the
    suite, then the edit of the old row 2 arrives (a late change/blur, or a state update held
    back by the widget manager). Sent in that order, it must not land on the new case u2."""
    seed = bw.Suite.from_records([{"id": f"q{i}", "input": f"Q{i}?"} for i in range(3)], name="s")
    builder = SuiteBuilder(seed)
    drawn = builder.generation["cases"]
    old = [dict(c) for c in builder.cases]
    old[2] = dict(old[2], input="edited q2", expected_kind="json", expected="4")
    builder.set_state({"cases": old, "edit_generation": {"cases": drawn}, "rev": 1})
    assert builder.suite["q2"].expected == 4  # an edit of the current grid applies

    updates = _recorded_updates(builder)
    upload = "".join(json.dumps({"id": f"u{i}", "input": f"Upload {i}?"}) + "\n" for i in range(3))
    builder._on_msg(builder, {"type": "upload", "name": "up.jsonl", "rev": 1}, [upload.encode()])
    now = builder.generation["cases"]
    assert now > drawn
    # the new cases and their generation reach the browser in one message
    assert any({"cases", "generation"} <= set(m["state"]) for m in updates)

    # the stale edit: the old grid's row 2 written into the new list (what the browser's
    # commit by position did), stamped with the old generation or not stamped again at all
    stale = [dict(c) for c in builder.cases]
    stale[2] = old[2]
    builder._on_msg(builder, {"type": "delete", "index": 0, "rev": 2}, [])  # waits for edit 2
    assert len(builder.cases) == 3
    builder.set_state({"cases": stale, "rev": 2})
    assert builder.rev == 2  # the edit count still advances: the waiting delete ran ...
    assert [c.id for c in builder.suite] == ["u1", "u2"]  # ... on the uploaded cases
    assert builder.suite["u2"].input == "Upload 2?" and builder.suite["u2"].expected is None
    builder.set_state({"cases": stale, "edit_generation": {"cases": now}, "rev": 3})
    assert [c.id for c in builder.suite] == ["u1", "u2"]  # made before the delete: stale too

    # an edit stamped with the current generation still applies
    current = builder.generation["cases"]
    fresh = [dict(c) for c in builder.cases]
    fresh[1] = dict(fresh[1], input="edited u2")
    builder.set_state({"cases": fresh, "edit_generation": {"cases": current}, "rev": 4})
    assert builder.suite["u2"].input == "edited u2" and builder.rev == 4
    assert builder.generation["cases"] == current  # the browser's own edit is no replacement


def test_stale_edits_of_settings_and_pending_cases_are_dropped() -> None:
    seed = bw.Suite.from_records([{"id": "q1", "input": "Q?"}], name="before")
    builder = SuiteBuilder(seed, pending=[bw.Case("v1", "draft")])
    stamps = dict(builder.generation)
    builder.suite = bw.Suite.from_records([{"id": "n1", "input": "N?"}], name="after")
    builder.accept(0)
    old_settings = dict(builder.settings, name="typed before")
    old_pending = [dict(case_to_state(bw.Case("v1", "edited draft")), provenance="")]
    builder.set_state(
        {"settings": old_settings, "pending_cases": old_pending, "edit_generation": stamps}
    )
    assert builder.suite.name == "after" and builder.pending == []
    assert [c.id for c in builder.suite] == ["n1", "v1"]
    builder.set_state(
        {"settings": old_settings, "edit_generation": dict(builder.generation), "rev": 1}
    )
    assert builder.suite.name == "typed before"


_LISTS = st.sampled_from(["cases", "pending_cases", "settings"])


@given(
    st.dictionaries(_LISTS, st.integers(0, 3)),
    st.dictionaries(_LISTS, st.integers(0, 3)),
    st.one_of(st.none(), st.dictionaries(_LISTS, st.integers(0, 3))),
    st.sets(st.sampled_from(["cases", "pending_cases", "settings", "rev", "page"])),
)
def test_drop_stale_keeps_exactly_the_current_edits(
    generation: dict[str, int],
    stored: dict[str, int],
    sent: dict[str, int] | None,
    keys: set[str],
) -> None:
    data: dict[str, Any] = {k: [k] for k in keys}
    if sent is not None:
        data["edit_generation"] = sent
    out = drop_stale(data, generation, stored)
    stamps = stored if sent is None else sent
    for key in data:
        current = stamps.get(key, 0) == generation.get(key, 0)
        is_list = key in ("cases", "pending_cases", "settings")
        assert (key in out) == (not is_list or current)
        if key in out:
            assert out[key] is data[key]
