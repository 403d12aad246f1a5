"""The simulated meta-model (``role="rewriter"``): rewrites keep their old answers, crossovers
join two prompts, and synthesis requests get JSON variations of a case, deterministic per
seed, with junk at ``malformed_rate``. Over real HTTP for the wire path, directly for the rest."""

from __future__ import annotations

import hashlib
import json
import re

from hypothesis import given
from hypothesis import strategies as st

from benchwork.sim import SimModel, SimServer
from benchwork.sim.rewriter import REWRITES, crossover_reply, rewrite_reply, synthesis_reply

ASK = 'Write 5 new test cases. Request 1.\n<case>{"input": "What is 3 plus 4?", "expected": "7"}</case>'


def test_a_rewrite_is_the_prompt_plus_the_instruction_it_always_got() -> None:
    request = "Rewrite this. This is variant 3.\n<prompt>You answer questions.</prompt>"
    digest = hashlib.sha256(f"2\x00{request}".encode()).digest()
    old = REWRITES[int.from_bytes(digest[:4], "big") % len(REWRITES)]  # the original rule
    assert rewrite_reply(request, 2) == f"You answer questions. {old}"


def test_a_mutation_adds_an_instruction_the_prompt_lacks() -> None:
    present = " ".join(REWRITES[:-1])
    request = f"Improve it, variant 1.\n<prompt>{present}</prompt>"
    assert rewrite_reply(request, 5) == f"{present} {REWRITES[-1]}"


@given(
    st.lists(st.sampled_from(REWRITES), max_size=4), st.lists(st.sampled_from(REWRITES), max_size=4)
)
def test_a_crossover_keeps_every_sentence_of_both_parents_once(a: list[str], b: list[str]) -> None:
    child = crossover_reply(" ".join(["Base.", *a]), " ".join(["Base.", *b]))
    sentences = re.split(r"(?<=[.!?])\s+", child)
    assert set(sentences) == {"Base.", *a, *b} and len(sentences) == len(set(sentences))
    assert (
        rewrite_reply(
            f"<prompt>Base. {' '.join(a)}</prompt><prompt>Base. {' '.join(b)}</prompt>", 1
        )
        == child
    )


def test_synthesis_gives_json_variations_deterministic_per_seed() -> None:
    items = json.loads(synthesis_reply(ASK, 3))
    assert len(items) == 5 and items == json.loads(synthesis_reply(ASK, 3))
    assert items != json.loads(synthesis_reply(ASK, 4))
    for item in items:
        m = re.fullmatch(r"What is (\d+) plus (\d+)\?", item["input"])
        if m:  # renumbered: the expected sum is recomputed
            assert item["expected"] == str(int(m[1]) + int(m[2]))
        else:  # reworded or repeated: the same question, the same answer
            assert "3 plus 4" in item["input"].lower() and item["expected"] == "7"


def test_malformed_rate_gives_prose_or_items_without_input() -> None:
    assert not synthesis_reply(ASK, 3, malformed_rate=1.0).lstrip().startswith("[")
    replies = [synthesis_reply(ASK.replace("Request 1", f"Request {i}"), 3, 0.5) for i in range(20)]
    arrays = [json.loads(r) for r in replies if r.startswith("[")]
    assert 0 < len(arrays) < 20
    assert any("input" not in item for items in arrays for item in items)


def test_the_rewriter_answers_synthesis_requests_over_http() -> None:
    import httpx

    with SimServer([SimModel("gen", role="rewriter", ttft_s=0, itl_s=0, seed=3)]) as sim:
        body = {"model": "gen", "messages": [{"role": "user", "content": ASK}]}
        reply = httpx.post(f"{sim.base_url}/chat/completions", json=body, timeout=30).json()
    assert json.loads(reply["choices"][0]["message"]["content"]) == json.loads(
        synthesis_reply(ASK, 3)
    )
