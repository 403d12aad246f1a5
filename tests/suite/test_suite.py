"""Suites: file round trips, hashing, prompt rendering, and the exact wording of bad-input errors."""

from __future__ import annotations

import dataclasses
import datetime
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from benchwork.errors import SuiteError
from benchwork.suite import Case, Suite, render_template


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def load_error(name: str) -> SuiteError:
    """Load *name* (relative to the cwd, so messages start with it) and return the SuiteError."""
    with pytest.raises(SuiteError) as info:
        Suite.load(name)
    return info.value


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def rich_suite() -> Suite:
    """A suite using every field, for YAML/JSON round trips."""
    return Suite(
        name="rich",
        description="every field",
        version="2",
        system="You are terse about {{ topic }}.",
        template="Question: {{ input }}\nAnswer:",
        scorers=["exact", {"name": "regex", "pattern": "^a"}],
        metadata={"owner": "qa", "n": 1},
        cases=[
            Case(
                "q1",
                "Capital of {{ country }}?\nOne word.",
                vars={"country": "France", "topic": "geo"},
                expected="Paris",
                tags=["geo", "yes"],
                metadata={"difficulty": 1},
            ),
            Case(
                "q2",
                [
                    {"role": "user", "content": 'Reply as JSON {"a": {{ n }}} about {{ topic }}'},
                    {"role": "assistant", "content": "ok"},
                    {"role": "user", "content": "again"},
                ],
                vars={"n": 3, "topic": "json"},
                expected={"a": [1, 2.5, None, True]},
                tools=[{"type": "function", "function": {"name": "f", "parameters": {}}}],
            ),
            Case("q3", "2024-01-01 is a date?", vars={"topic": "t"}, expected="2024-01-01"),
        ],
    )


def flat_suite(name: str = "flat") -> Suite:
    """Cases only, all text: what every format (CSV included) can hold."""
    return Suite(
        name=name,
        cases=[
            Case("a", "Capital of {{ country }}?", vars={"country": "France"}, expected="Paris"),
            Case("b", 'multi\nline, "quoted"', vars={"country": ""}, tags=["x", "y z"]),
            Case("c", "ünïcode ✓", vars={"country": "Perú"}, expected="42", metadata={}),
        ],
    )


# -- round trips ------------------------------------------------------------------------------
@pytest.mark.parametrize("ext", ["yaml", "yml", "json"])
def test_round_trip_full_formats(tmp_path: Path, ext: str) -> None:
    suite = rich_suite()
    back = Suite.load(suite.save(tmp_path / f"rich.{ext}"))
    assert back == suite
    assert back.hash == suite.hash
    assert back.description == "every field"


@pytest.mark.parametrize("ext", ["jsonl", "csv"])
def test_round_trip_case_formats(tmp_path: Path, ext: str) -> None:
    suite = flat_suite()
    back = Suite.load(suite.save(tmp_path / f"flat.{ext}"))
    assert back == suite
    assert back.hash == suite.hash
    assert back["b"].expected is None and back["b"].tags == ["x", "y z"]


def test_yaml_save_is_readable(tmp_path: Path) -> None:
    text = rich_suite().save(tmp_path / "rich.yaml").read_text()
    assert "  input: |-\n    Capital of {{ country }}?\n    One word.\n" in text
    assert "tags: [geo, 'yes']" in text
    assert "metadata: {}" not in text and "vars: {}" not in text


def test_case_formats_refuse_to_drop_suite_settings(here: Path) -> None:
    suite = dataclasses.replace(flat_suite(), system="Be brief.")
    with pytest.raises(SuiteError) as info:
        suite.save("out.jsonl")
    assert str(info.value).startswith("out.jsonl: JSONL files hold cases only")
    assert "'system'" in str(info.value)
    assert not (here / "out.jsonl").exists()


def test_csv_save_refuses_what_it_cannot_keep(tmp_path: Path) -> None:
    suite = Suite("s", [Case("a", "x", expected=42)])
    with pytest.raises(SuiteError, match=r"case 'a': CSV holds 'expected' as non-empty text"):
        suite.save(tmp_path / "s.csv")
    ragged = Suite("s", [Case("a", "x", vars={"k": "1"}), Case("b", "y")])
    with pytest.raises(SuiteError, match=r"case 'b': 'vars' lacks \['k'\]"):
        ragged.save(tmp_path / "s.csv")


def test_csv_columns_become_vars_tags_and_metadata(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "geo.csv",
        """
        id,input,expected,tags,country,metadata.source
        ,Capital of {{ country }}?,Paris, geo | eu ,France,wiki
        q2,Capital of {{ country }}?,,,Peru,
        """,
    )
    suite = Suite.load(path)
    assert suite.name == "geo"
    first = suite["1"]
    assert first.vars == {"country": "France"}
    assert first.tags == ["geo", "eu"]
    assert first.metadata == {"source": "wiki"}
    assert suite["q2"].expected is None
    assert suite.messages("q2")[-1]["content"] == "Capital of Peru?"


def test_missing_ids_default_to_positions(tmp_path: Path) -> None:
    path = write(
        tmp_path, "pos.jsonl", '{"input": "a"}\n\n{"id": "x", "input": "b"}\n{"input": "c"}\n'
    )
    assert [c.id for c in Suite.load(path)] == ["1", "x", "3"]


def test_from_records_and_from_dict() -> None:
    suite = Suite.from_records(
        [{"input": "a", "expected": None}, {"id": 7, "input": "b"}], name="r", system="S"
    )
    assert [c.id for c in suite] == ["1", "7"]
    assert suite.system == "S"
    assert Suite.from_dict(suite.to_dict()) == suite


def test_load_name_override(tmp_path: Path) -> None:
    path = flat_suite().save(tmp_path / "file-stem.jsonl")
    assert Suite.load(path).name == "file-stem"
    assert Suite.load(path, name="flat") == flat_suite()


# -- hashing ----------------------------------------------------------------------------------
def test_hash_same_for_yaml_and_jsonl(tmp_path: Path) -> None:
    (tmp_path / "y").mkdir()
    (tmp_path / "j").mkdir()
    write(
        tmp_path / "y",
        "same.yaml",
        """
        cases:
          - {id: a, input: "Hi {{ x }}", vars: {x: "1"}, expected: "Paris", tags: [t]}
          - {input: second}
        """,
    )
    write(
        tmp_path / "j",
        "same.jsonl",
        '{"tags": ["t"], "expected": "Paris", "vars": {"x": "1"}, "input": "Hi {{ x }}", "id": "a"}\n'
        '{"input": "second"}\n',
    )
    from_yaml, from_jsonl = (
        Suite.load(tmp_path / "y/same.yaml"),
        Suite.load(tmp_path / "j/same.jsonl"),
    )
    assert from_yaml.hash == from_jsonl.hash
    assert from_yaml.hash.startswith("sha256:") and len(from_yaml.hash) == 7 + 64


def test_hash_changes_with_content_but_not_description() -> None:
    suite = flat_suite()
    changed = Suite(
        suite.name, [dataclasses.replace(suite.cases[0], expected="Lyon"), *suite.cases[1:]]
    )
    assert changed.hash != suite.hash
    assert dataclasses.replace(suite, description="notes").hash == suite.hash
    assert dataclasses.replace(suite, name="other").hash != suite.hash
    assert dataclasses.replace(suite, system="Be brief.").hash != suite.hash


def test_hash_ignores_dict_key_order() -> None:
    one = Suite("s", [Case("a", "x", vars={"p": "1", "q": "2"}, metadata={"m": 1, "n": 2})])
    two = Suite("s", [Case("a", "x", vars={"q": "2", "p": "1"}, metadata={"n": 2, "m": 1})])
    assert one.hash == two.hash


def test_hash_stable_across_processes() -> None:
    code = "from benchwork.suite import Suite; print(Suite.demo().hash)"
    env = {"PYTHONHASHSEED": "123"}
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **env},
    )
    assert out.stdout.strip() == Suite.demo().hash


# -- rendering --------------------------------------------------------------------------------
def test_render_template_basics() -> None:
    assert render_template("{{a}} and {{  b  }}", {"a": 1, "b": "two"}) == "1 and two"
    assert render_template('{"k": {v}} {{ v }}', {"v": [1, "x"]}) == '{"k": {v}} [1, "x"]'
    assert render_template("{{ 1 + 2 }} stays", {}) == "{{ 1 + 2 }} stays"
    assert render_template("{{ a }}", {"a": "{{ b }}"}) == "{{ b }}"  # one pass only


def test_render_unknown_variable_names_case_and_variable() -> None:
    with pytest.raises(SuiteError) as info:
        render_template("Capital of {{ city }}?", {"country": "France"}, case_id="q7")
    assert str(info.value).startswith(
        "case 'q7': template variable 'city' is not defined in vars (defined: country)"
    )
    assert info.value.case_id == "q7" and info.value.field == "vars"


def test_messages_with_system_template_and_vars() -> None:
    suite = rich_suite()
    assert suite.messages("q1") == [
        {"role": "system", "content": "You are terse about geo."},
        {"role": "user", "content": "Question: Capital of France?\nOne word.\nAnswer:"},
    ]


def test_messages_input_is_rendered_but_not_templated() -> None:
    messages = rich_suite().messages("q2")
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[1]["content"] == 'Reply as JSON {"a": 3} about json'
    assert messages[-1]["content"] == "again"


def test_unknown_variable_fails_at_construction() -> None:
    with pytest.raises(SuiteError, match=r"case 'b': template variable 'x' is not defined"):
        Suite("s", [Case("a", "fine"), Case("b", "uses {{ x }}")])


def test_template_must_use_input() -> None:
    with pytest.raises(SuiteError, match=r"'template' does not use \{\{ input \}\}"):
        Suite("s", [Case("a", "x")], template="Answer briefly.")


def test_expected_by_prompt_uses_last_user_message() -> None:
    answers = rich_suite().expected_by_prompt()
    assert answers == {
        "Question: Capital of France?\nOne word.\nAnswer:": "Paris",
        "again": "{'a': [1, 2.5, None, True]}",
        "Question: 2024-01-01 is a date?\nAnswer:": "2024-01-01",
    }


# -- selection and reprs ----------------------------------------------------------------------
def test_filter_len_iter_getitem_repr() -> None:
    suite = Suite.demo()
    math = suite.filter(tags="math")
    assert len(math) == 6 and all("math" in c.tags for c in math)
    assert [c.id for c in suite.filter(ids=["sqrt-169", "mul-6-7"])] == ["mul-6-7", "sqrt-169"]
    assert math.hash != suite.hash
    assert "mul-6-7" in suite and "nope" not in suite
    assert repr(suite) == f"Suite('demo-qa', 24 cases, {suite.hash[:15]}…)"
    assert (
        repr(suite["mul-6-7"])
        == "Case('mul-6-7', 'What is 6 times 7?', expected='42', tags=['math'])"
    )
    with pytest.raises(KeyError, match="did you mean 'mul-6-7'"):
        suite["mul-6-8"]
    with pytest.raises(TypeError, match=r"suite\.cases"):
        suite[0]  # type: ignore[index]
    with pytest.raises(SuiteError, match="tags here: geography, math, science, units"):
        suite.filter(tags="history")
    with pytest.raises(SuiteError, match="no case with id 'nope'"):
        suite.filter(ids=["nope"])


def test_demo_suite_has_answers() -> None:
    suite = Suite.demo()
    assert suite.name == "demo-qa" and len(suite) == 24
    assert all(isinstance(c.expected, str) and c.expected for c in suite)
    assert {t for c in suite for t in c.tags} == {"geography", "math", "science", "units"}
    assert suite["capital-france"].expected == "Paris"
    assert "bare answer" in suite.messages("symbol-gold")[0]["content"]
    assert suite.expected_by_prompt()["What is the chemical symbol for gold?"] == "Au"


# -- bad input: one SuiteError naming file, line, case and field --------------------------------
def test_file_not_found(here: Path) -> None:
    write(here, "suite.yaml", "cases: [{input: a}]\n")
    message = str(load_error("suit.yaml"))
    assert message.startswith("suit.yaml: file not found (looked for ")
    assert str(here / "suit.yaml") in message
    assert message.endswith("did you mean 'suite.yaml'?")


def test_unknown_extension(here: Path) -> None:
    assert str(load_error("suite.txt")) == (
        "suite.txt: unsupported file extension '.txt'; supported: .yaml, .yml, .json, .jsonl, .csv"
    )


def test_yaml_syntax_error(here: Path) -> None:
    write(here, "suite.yaml", 'name: t\ncases:\n  - id: q1\n    input: "hi\n  - id: q2\n')
    message = str(load_error("suite.yaml"))
    assert message.startswith(
        "suite.yaml: line 6: YAML syntax error: found unexpected end of stream"
    )
    assert "quoted scalar at line 4" in message


def test_json_syntax_error(here: Path) -> None:
    write(here, "suite.json", '{"name": "t",\n "cases": [\n  {"id": "b" "input": 5}\n ]\n}\n')
    assert str(load_error("suite.json")) == (
        "suite.json: line 3: JSON syntax error: Expecting ',' delimiter (column 14)"
    )


def test_jsonl_syntax_error(here: Path) -> None:
    write(here, "suite.jsonl", '{"input": "x"}\n\n{"input": "y",\n')
    message = str(load_error("suite.jsonl"))
    assert message.startswith("suite.jsonl: line 3: JSON syntax error:")


def test_input_missing(here: Path) -> None:
    write(
        here,
        "suite.yaml",
        "name: t\ncases:\n  - id: q1\n    input: hi\n  - id: q7\n    expected: x\n",
    )
    error = load_error("suite.yaml")
    assert str(error) == "suite.yaml: line 5: case 'q7': 'input' is missing"
    assert (error.source, error.line, error.case_id, error.field) == (
        "suite.yaml",
        5,
        "q7",
        "input",
    )


def test_input_wrong_type_in_json_names_case_line(here: Path) -> None:
    write(
        here,
        "suite.json",
        '{"name": "t",\n "cases": [\n  {"id": "a", "input": "x"},\n  {"id": "b",\n   "input": 5}\n ]\n}\n',
    )
    assert str(load_error("suite.json")) == (
        "suite.json: line 4: case 'b': 'input' must be a string or a list of chat messages, got an integer"
    )


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("{content: hi}", "'input' message #1 is missing 'role'"),
        ("{role: user}", "'input' message #1 is missing 'content'"),
        ("{role: usr, content: hi}", "'input' message #1 has role 'usr' (did you mean 'user'?)"),
        ("hello", "'input' message #1 must be a mapping with 'role' and 'content', got a string"),
    ],
)
def test_bad_messages(here: Path, message: str, expected: str) -> None:
    write(here, "chat.yaml", f"cases:\n  - input: ok\n  - input:\n      - {message}\n")
    assert str(load_error("chat.yaml")).startswith(f"chat.yaml: line 3: case #2: {expected}")


def test_messages_need_a_user_turn() -> None:
    with pytest.raises(SuiteError, match="case 'a': 'input' has no 'user' message"):
        Case("a", [{"role": "system", "content": "x"}])


def test_duplicate_id_names_both_lines(here: Path) -> None:
    write(
        here,
        "dup.yaml",
        "cases:\n  - id: q1\n    input: a\n  - id: q2\n    input: b\n  - id: q1\n    input: c\n",
    )
    error = load_error("dup.yaml")
    assert str(error) == (
        "dup.yaml: line 6: case 'q1': duplicate id: case #1 (line 2) and case #3 (line 6) both use it"
    )
    assert error.field == "id"


def test_duplicate_id_with_positional_default(here: Path) -> None:
    write(here, "dup.jsonl", '{"input": "a"}\n{"id": "1", "input": "b"}\n')
    assert "case #1 (line 1) and case #2 (line 2) both use it (case #1 has no id" in str(
        load_error("dup.jsonl")
    )


def test_tags_not_a_list_of_strings(here: Path) -> None:
    write(here, "t.jsonl", '{"input": "x"}\n{"id": "q2", "input": "y", "tags": "math"}\n')
    assert str(load_error("t.jsonl")) == (
        "t.jsonl: line 2: case 'q2': 'tags' must be a list of strings, got a string (write tags: [math])"
    )
    write(here, "t.yaml", "cases:\n  - input: x\n    tags: [ok, 3]\n")
    assert str(load_error("t.yaml")).startswith(
        "t.yaml: line 2: case #1: 'tags' must be a list of non-empty strings; tags[1] is 3"
    )


def test_unknown_case_field_suggests_fix(here: Path) -> None:
    write(
        here,
        "suite.yaml",
        "cases:\n  - id: q1\n    input: a\n  - id: q2\n    input: b\n    expcted: x\n",
    )
    error = load_error("suite.yaml")
    assert str(error) == (
        "suite.yaml: line 4: case 'q2': unknown field 'expcted' (did you mean 'expected'?); "
        "allowed: id, input, vars, expected, tags, tools, metadata"
    )
    assert error.field == "expcted"


def test_unknown_top_level_key(here: Path) -> None:
    write(here, "suite.yaml", "name: t\nsytem: hi\ncases: [{input: a}]\n")
    assert str(load_error("suite.yaml")) == (
        "suite.yaml: line 2: unknown top-level key 'sytem' (did you mean 'system'?); "
        "allowed: name, description, version, system, template, scorers, metadata, cases"
    )


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("e.yaml", "", "e.yaml: the file is empty: a suite needs at least one case"),
        ("e.yaml", "name: t\ncases: []\n", "e.yaml: line 2: the suite has no cases"),
        ("e.json", "  \n", "e.json: the file is empty: a suite needs at least one case"),
        ("e.jsonl", "\n\n", "e.jsonl: the file is empty: a suite needs at least one case"),
        ("e.csv", "id,input\n", "e.csv: the suite has no cases (the CSV has only a header)"),
    ],
)
def test_empty_suite(here: Path, name: str, text: str, expected: str) -> None:
    write(here, name, text)
    assert str(load_error(name)) == expected


def test_csv_errors_name_physical_lines(here: Path) -> None:
    write(here, "s.csv", 'id,input,country\nq1,"two\nlines",France\nq2,,Peru\n')
    assert str(load_error("s.csv")) == "s.csv: line 4: case 'q2': 'input' is empty"
    write(here, "s.csv", "id,input,system\nq1,a,b\n")
    message = str(load_error("s.csv"))
    assert message.startswith("s.csv: line 1: a 'system' column is not allowed")
    write(here, "s.csv", "id,Input\nq1,a\n")
    assert str(load_error("s.csv")).endswith("rename 'Input' to 'input'")
    write(here, "s.csv", "id,input\nq1,a,extra\n")
    assert str(load_error("s.csv")) == "s.csv: line 2: row has 3 cells but the header has 2 columns"


def test_yaml_duplicate_key(here: Path) -> None:
    write(here, "suite.yaml", "cases:\n  - input: a\n    expected: x\n    expected: y\n")
    assert str(load_error("suite.yaml")) == "suite.yaml: line 4: duplicate key 'expected'"


def test_case_without_id_is_called_by_position(here: Path) -> None:
    write(here, "s.yaml", "cases:\n  - input: a\n  - input: b\n  - input: 3\n")
    assert str(load_error("s.yaml")).startswith("s.yaml: line 4: case #3: 'input' must be a string")


def test_unknown_template_variable_reported_with_line(here: Path) -> None:
    write(
        here,
        "s.yaml",
        "system: About {{ country }}\ncases:\n  - id: q1\n    input: hi\n    vars: {country: France}\n  - id: q7\n    input: '{{ city }}?'\n    vars: {country: Peru}\n",
    )
    assert str(load_error("s.yaml")).startswith(
        "s.yaml: line 6: case 'q7': template variable 'city' is not defined in vars"
    )


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("a.yaml", b"\x00\xff\xfe"),
        ("a.yaml", b"cases:\n  - input: a\x07b\n"),
        ("a.yaml", b"- !!python/object:os.system {}\n"),
        ("a.yaml", b"42\n"),
        ("a.yaml", b"cases: {input: a}\n"),
        ("a.yaml", b"---\ncases: []\n---\ncases: []\n"),
        ("a.yaml", b"cases:\n  - [input, a]\n"),
        ("a.yaml", b"cases:\n  - input: a\n    vars: [1]\n"),
        ("a.yaml", b"cases:\n  - input: a\n    expected: !!timestamp 2024-01-01\n"),
        ("a.yaml", b"name: 3\ncases: [{input: a}]\n"),
        ("a.yaml", b"version: 1.10\ncases: [{input: a}]\n"),
        ("a.json", b'{"cases": [{"input": "a", "input": "b"}]}'),
        ("a.json", b'"just text"'),
        ("a.json", b"[1, 2]"),
        ("a.jsonl", b'[{"input": "a"}]\n'),
        ("a.jsonl", b'{"input": "a", "tools": {"name": "f"}}\n'),
        ("a.csv", b'id,input\n"q1,a\n'),
        ("a.csv", b"id,input,\nq1,a,b\n"),
        ("a.csv", b"id,input,id\nq1,a,b\n"),
        ("a.csv", b'id,input\n"q1"x,a\n'),
    ],
)
def test_no_raw_exception_escapes(here: Path, name: str, content: bytes) -> None:
    (here / name).write_bytes(content)
    error = load_error(name)
    assert str(error).startswith(f"{name}: ")
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__


def test_case_validation_on_construction() -> None:
    with pytest.raises(SuiteError, match="case 'a': 'vars' must be a mapping"):
        Case("a", "x", vars=["k"])  # type: ignore[arg-type]
    with pytest.raises(SuiteError, match=r"case 'a': expected\.when is date"):
        Case("a", "x", expected={"when": datetime.date(2024, 1, 1)})
    with pytest.raises(SuiteError, match="'id' must be a non-empty string, got an integer"):
        Case(7, "x")  # type: ignore[arg-type]
    bare = Case("a", "x", tools=[{"name": "f", "parameters": {}}])
    assert bare.tools == [{"type": "function", "function": {"name": "f", "parameters": {}}}]
    with pytest.raises(
        SuiteError, match=r"case #2 must be a Case, got a mapping \(use Suite.from_records"
    ):
        Suite("s", [Case("a", "x"), {"input": "y"}])  # type: ignore[list-item]
    with pytest.raises(SuiteError, match=r"duplicate id: cases #1 and #2 both use it"):
        Suite("s", [Case("a", "x"), Case("a", "y")])
