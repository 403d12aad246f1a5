"""True token counts when a stream carries no usage, over real HTTP against the simulator.

Each test serves a model that mimics one local server (``SimModel.tokenizer``,
``tokens_per_chunk``, ``body_usage``) and checks the count benchwork records, the source it
names (``tokens_source``) and the side requests it made (the sim's request log). The sim's
tokenizer is words; a local-server model's usage counts the chat-templated prompt plus BOS:
one user message of N words is N + 2 (role markers) + 1 (assistant marker) + 1 (BOS).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from aiohttp import web

import benchwork as bw
from benchwork.client import RetryPolicy
from benchwork.sim import SimModel, SimServer

PROMPT = "tell me something"  # the case input is "tell me something 0": 4 words
TEMPLATED = 4 + 2 + 1 + 1  # what the server's own usage says for it
FILLER = 12  # tokens in the sim's reply to a prompt with no known answer


def _run(sim: SimServer, model: str, repeats: int = 1, **params: object):
    target = bw.Target(f"openai/{model}", name=model, api_base=sim.base_url, params=params)
    suite = bw.Suite(name="t", cases=[bw.Case(id="c0", input=f"{PROMPT} 0")])
    run = bw.run_sync(suite, [target], cache="off", progress=False, repeats=repeats)
    rows = run.results.to_dicts()
    assert rows and all(r["status"] == "ok" for r in rows), rows
    return rows


def _paths(sim: SimServer) -> list[tuple[str, bool]]:
    return [(r["path"], r["stream"]) for r in sim.requests]


def _model(name: str, **kw: object) -> SimModel:
    kw.setdefault("sends_usage", False)
    return SimModel(name, ttft_s=0, itl_s=0.002, tokens=FILLER, **kw)  # type: ignore[arg-type]


def test_usage_in_the_stream_wins_and_is_named():
    with SimServer([SimModel("loud", ttft_s=0, itl_s=0, tokens=FILLER)]) as sim:
        (row,) = _run(sim, "loud")
    assert row["tokens_source"] == "usage" and row["tokens_estimated"] is False
    assert (row["input_tokens"], row["output_tokens"]) == (4, FILLER)
    assert _paths(sim) == [("/v1/chat/completions", True)]  # no side request


def test_llama_cpp_python_probe_for_input_chunks_for_output():
    # llama-cpp-python: no usage in streams, /extras/tokenize/count without a chat template
    with SimServer([_model("lcp", tokenizer="llama-cpp-python")]) as sim:
        rows = _run(sim, "lcp", repeats=2)
    for row in rows:
        assert row["tokens_source"] == "probe/chunks" and row["tokens_estimated"] is False
        assert row["input_tokens"] == TEMPLATED  # the template counted, not just the 4 words
        assert row["output_tokens"] == row["chunks"] == FILLER
    paths = _paths(sim)
    # one detection request, then ONE non-streamed probe for the one distinct conversation
    assert paths.count(("/extras/tokenize/count", False)) == 1
    assert paths.count(("/v1/chat/completions", False)) == 1
    (probe,) = [r for r in sim.requests if r["path"].endswith("completions") and not r["stream"]]
    assert probe["params"] == {"max_tokens": 1}


def test_max_tokens_at_a_length_finish_is_exact_even_with_several_tokens_per_chunk():
    # chunks 90 ms apart, so they arrive apart even on a loaded machine
    grouped = SimModel("grouped", ttft_s=0, itl_s=0.03, tokens=FILLER, sends_usage=False,
                       tokens_per_chunk=3, body_usage=False)  # fmt: skip
    with SimServer([grouped]) as sim:
        (row,) = _run(sim, "grouped", max_tokens=7)
    assert row["finish_reason"] == "length" and row["chunks"] == 3  # 3 + 3 + 1 tokens
    assert row["output_tokens"] == 7
    assert row["tokens_source"] == "litellm/max_tokens"  # no input source but the guess
    assert row["tokens_estimated"] is True  # the input count is a guess, and says so
    # the rate uses the exact count: (7 - 1) tokens over the first-to-last-chunk span
    span = (row["chunks"] - 1) * row["itl_mean_s"]
    if span > 0:  # (all three chunks read at once would leave no span, hence no rate)
        assert row["output_tps"] == pytest.approx(6 / span, rel=1e-6)
    else:
        assert row["output_tps"] is None


def test_llama_cpp_templated_tokenize_for_input():
    with SimServer([_model("lcpp", tokenizer="llama.cpp")]) as sim:
        (row,) = _run(sim, "lcpp")
    assert row["tokens_source"] == "tokenize/chunks" and row["tokens_estimated"] is False
    assert (row["input_tokens"], row["output_tokens"]) == (TEMPLATED, FILLER)
    paths = [p for p, _ in _paths(sim)]
    assert "/apply-template" in paths and ("/v1/chat/completions", False) not in _paths(sim)


def test_vllm_tokenize_when_chunks_hold_several_tokens():
    # chunks of 3: the streamed probe at max_tokens 8 finishes in 3 chunks, so chunks are not
    # tokens here; the output text goes to /tokenize, once per distinct text
    with SimServer([_model("vl", tokenizer="vllm", tokens_per_chunk=3)]) as sim:
        rows = _run(sim, "vl", repeats=3)
    for row in rows:
        assert row["tokens_source"] == "tokenize" and row["tokens_estimated"] is False
        assert (row["input_tokens"], row["output_tokens"]) == (TEMPLATED, FILLER)
        assert row["chunks"] == FILLER // 3
    paths = _paths(sim)
    streamed_probes = [r for r in sim.requests if r["params"].get("max_tokens") == 8]
    assert len(streamed_probes) == 1 and streamed_probes[0]["stream"] is True
    # detection, then one templated count and one output count: 3 repeats, same texts
    assert paths.count(("/tokenize", False)) == 3
    assert paths.count(("/v1/chat/completions", True)) == 3 + 1


def test_unknown_server_one_token_per_chunk_is_detected_and_input_probed():
    with SimServer([_model("plain")]) as sim:
        (row,) = _run(sim, "plain")
    assert row["tokens_source"] == "probe/chunks" and row["tokens_estimated"] is False
    assert (row["input_tokens"], row["output_tokens"]) == (4, FILLER)


def test_chunks_of_several_tokens_are_detected_and_not_counted():
    # the streamed probe at max_tokens 8 finishes in 4 chunks: chunks are not tokens here
    with SimServer([_model("liar", tokens_per_chunk=2)]) as sim:
        (row,) = _run(sim, "liar")
    assert row["tokens_source"] == "probe/litellm" and row["tokens_estimated"] is True
    assert row["chunks"] == FILLER // 2


def test_nothing_exact_left_falls_back_to_litellm_and_flags_it():
    with SimServer([_model("mute", tokens_per_chunk=5, body_usage=False)]) as sim:
        (row,) = _run(sim, "mute")
    assert row["tokens_source"] == "litellm" and row["tokens_estimated"] is True
    assert 8 <= row["output_tokens"] <= 30 and row["input_tokens"] >= 3


def test_sim_local_server_fields_are_checked():
    with pytest.raises(ValueError, match="'tokens_per_chunk' must be a whole number >= 1"):
        SimModel("x", tokens_per_chunk=0)
    with pytest.raises(ValueError, match=r"'tokenizer' must be one of llama\.cpp"):
        SimModel("x", tokenizer="ollama")
    with pytest.raises(ValueError, match="'context_window' must be a whole number"):
        SimModel("x", context_window=0)


def test_stream_ended_without_output_or_finish_is_an_error_not_an_empty_success():
    # what llama-cpp-python's server sends a stream it drops for a newer request
    async def dropped(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        role = {"choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]}
        await resp.write(f"data: {json.dumps(role)}\n\ndata: [DONE]\n\n".encode())
        return resp

    app = web.Application()
    app.router.add_post("/v1/chat/completions", dropped)
    with _AppThread(app) as base:
        target = bw.Target("openai/x", api_base=base)
        suite = bw.Suite(name="t", cases=[bw.Case(id="c0", input="hi")])
        run = bw.run_sync(suite, [target], cache="off", progress=False, retry=RetryPolicy(1))
        (row,) = run.results.to_dicts()
    assert row["status"] == "error" and row["error_type"] == "stream_cut"
    assert "no output and no finish_reason" in row["error_message"]


@contextmanager
def _AppThread(app: web.Application) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 from a thread with its own loop; yields its /v1 base URL."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = runner.addresses[0][1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.run_until_complete(runner.cleanup())
        loop.close()


def test_non_ascii_text_is_counted_by_the_tokenizer_not_the_chunks():
    # llama-cpp-python merges a token that ends mid-character into the next chunk
    with SimServer([_model("lcp", tokenizer="llama-cpp-python")]) as sim:
        sim.set_answers({f"{PROMPT} 0": "café au lait, s'il vous plaît"})
        (row,) = _run(sim, "lcp")
    assert row["output_text"] == "café au lait, s'il vous plaît"
    assert row["tokens_source"] == "probe/tokenize" and row["output_tokens"] == row["chunks"] == 6
