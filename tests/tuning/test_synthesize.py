"""Synthetic cases (issue 14 item 1) from the simulated generator, over real HTTP: variations
with their provenance, duplicates (of the seeds and of each other) dropped and counted,
unusable replies skipped with a count and a warning, and every call cached (asking again pays
nothing). Plus property tests of the reply reader and of the duplicate key."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import benchwork as bw
from benchwork.errors import BenchworkError
from benchwork.sim import Fault, SimModel, SimServer
from benchwork.tuning import Variations, synthesize_sync
from benchwork.tuning._variations import case_key, normalize_text, parse_variations

QA = {f"What is {i} plus {i + 1}?": str(2 * i + 1) for i in range(6)}
SUM = re.compile(r"What is (\d+) plus (\d+)\?$")


def _suite() -> bw.Suite:
    cases = [{"id": f"q{i}", "input": q, "expected": a} for i, (q, a) in enumerate(QA.items())]
    return bw.Suite.from_records(cases, name="adds", system="You answer questions.")


def _generator(**kw: object) -> SimModel:
    return SimModel("gen", role="rewriter", ttft_s=0, itl_s=0, seed=3, **kw)  # type: ignore[arg-type]


def test_variations_are_new_deduplicated_traceable_and_cached(tmp_path: Path) -> None:
    seeds = _suite()
    with SimServer([_generator()]) as sim:
        gen = bw.Target("openai/gen", api_base=sim.base_url, name="writer")
        # the sim repeats its example one time in five: a seed may need a few rounds
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a clean generator: nothing to warn about
            made = synthesize_sync(seeds, 4, gen, rounds=5, cache_dir=tmp_path / "c", home=tmp_path)
        paid = len(sim.requests)
        sim.reset_log()
        again = synthesize_sync(seeds, 4, gen, rounds=5, cache_dir=tmp_path / "c", home=tmp_path)
        assert sim.requests == [], "asking again is answered from the cache"
    assert isinstance(made, Variations) and len(made) == 24 == made.wanted
    assert paid == made.calls and made.cached == 0 and again.cached == again.calls == made.calls
    assert [c.to_dict() for c in again] == [c.to_dict() for c in made]
    keys = [case_key(c) for c in made]
    assert len(set(keys)) == len(keys) and not set(keys) & {case_key(c) for c in seeds}
    assert made.duplicates > 0, "the sim repeats the example now and then: those were dropped"
    assert made.report["duplicates"] == made.duplicates and made.unusable == 0
    for case in made:
        source = case.metadata["synthetic"]
        assert source["generator"] == "writer" and source["model"] == "openai/gen"
        assert case.id.startswith(source["seed_case"] + "-syn") and source["round"] >= 1
        assert "synthetic" in case.tags
        assert isinstance(case.input, str)
        m = SUM.search(case.input)
        if m and case.input.startswith("What is"):  # a renumbered variation: its sum is right
            assert case.expected == str(int(m[1]) + int(m[2]))
        else:  # a reworded one keeps its seed's answer
            assert case.expected == seeds[source["seed_case"]].expected
    suite = made.to_suite()
    assert suite.system == seeds.system and len(suite) == 24 and suite.name == "adds-synthetic"


def test_unusable_replies_are_skipped_counted_and_warned_about(tmp_path: Path) -> None:
    with SimServer([_generator(malformed_rate=0.35)]) as sim:
        gen = bw.Target("openai/gen", api_base=sim.base_url)
        with pytest.warns(RuntimeWarning, match=r"unusable replies or items") as caught:
            made = synthesize_sync(_suite(), 4, gen, rounds=2, home=tmp_path)
    assert made.unusable > 0 and len(made.problems) >= made.unusable
    assert any("no JSON array" in p for p in made.problems)
    assert any("no text 'input'" in p for p in made.problems)
    assert "see .problems" in str(caught[0].message)
    for case in made:  # nothing junk was kept
        assert isinstance(case.input, str) and case.input.strip() and case.expected


def test_failed_generator_calls_are_counted_not_raised(tmp_path: Path) -> None:
    with SimServer([_generator(faults=[Fault("401")])]) as sim:
        gen = bw.Target("openai/gen", api_base=sim.base_url)
        with pytest.warns(RuntimeWarning, match="failed calls"):
            made = synthesize_sync(_suite(), 2, gen, rounds=1, home=tmp_path)
    assert len(made) == 0 and made.failed_calls == 6 == made.calls
    assert all("the call failed" in p for p in made.problems)
    with pytest.raises(BenchworkError, match="no synthetic cases"):
        made.to_suite()


def test_one_example_case_and_bad_requests(tmp_path: Path) -> None:
    example = bw.Case(id="ex", input="What is 2 plus 3?", expected="5")
    with SimServer([_generator()]) as sim:
        gen = bw.Target("openai/gen", api_base=sim.base_url)
        made = synthesize_sync(example, 3, gen, home=tmp_path)
        assert len(made) == 3 and {c.metadata["synthetic"]["seed_case"] for c in made} == {"ex"}
        assert "Write 3 new test cases" in sim.requests[0]["prompt"]
        with pytest.raises(BenchworkError, match="n must be a whole number >= 1"):
            synthesize_sync(example, 0, gen, home=tmp_path)
        chat = bw.Case(id="chat", input=[{"role": "user", "content": "hi"}])
        with pytest.raises(BenchworkError, match=r"case\(s\) \['chat'\] hold chat messages"):
            synthesize_sync([example, chat], 2, gen, home=tmp_path)


SEED = bw.Case(id="s", input="What is 1 plus 2?", expected="3")
texts = st.text(st.characters(codec="ascii", exclude_categories=("Cc",)), min_size=1, max_size=40)


@given(st.text(max_size=300))
def test_reading_any_reply_never_fails_and_keeps_only_whole_items(reply: str) -> None:
    items, problems, bad = parse_variations(reply, SEED)
    assert bad == len(problems) or (bad == 1 and not items)
    for item in items:
        assert item["input"].strip() and item["expected"] not in (None, "")


@given(st.lists(st.fixed_dictionaries({"input": texts, "expected": texts}), max_size=6),
       st.sampled_from(["{}", "```json\n{}\n```", "Here you go:\n{}\nEnjoy!"]))  # fmt: skip
def test_a_json_array_is_read_bare_fenced_or_in_prose(
    items: list[dict[str, str]], wrap: str
) -> None:
    got, problems, _ = parse_variations(wrap.format(json.dumps(items)), SEED)
    usable = [i for i in items if i["input"].strip() and i["expected"]]
    assert got == [{"input": i["input"].strip(), "expected": i["expected"]} for i in usable]
    assert len(problems) == len(items) - len(usable)


@given(st.text(st.characters(codec="ascii", exclude_categories=("Cc",)), max_size=60))
def test_the_duplicate_key_ignores_case_spacing_and_punctuation(text: str) -> None:
    assert normalize_text(f"  {text.swapcase()} ?! ") == normalize_text(text)
    a = bw.Case(id="a", input=text + " x")
    b = bw.Case(id="b", input=f"{text.upper()}  X.")
    assert case_key(a) == case_key(b)
