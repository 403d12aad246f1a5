"""benchwork.sim over real HTTP: wire format, timing, answers, faults, log, auth, CLI, litellm."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from benchwork.sim import DEMO_MODELS, Fault, SimModel, SimServer, load_models
from benchwork.sim.cli import main as cli_main

KEY = "sk-sim-secret"
ZERO = {"ttft_s": 0.0, "itl_s": 0.0}
MODELS = [
    SimModel("zero", tokens=7, **ZERO),
    SimModel("timed", ttft_s=0.15, itl_s=0.02, tokens=6),
    SimModel("always", accuracy=1.0, **ZERO),
    SimModel("never", accuracy=0.0, **ZERO),
    SimModel("coin", accuracy=0.5, **ZERO),
    SimModel("r429", faults=[Fault("429", retry_after=0.5)], **ZERO),
    SimModel("r500", faults=[Fault("500")], **ZERO),
    SimModel("cut", faults=[Fault("cut", after_tokens=3)], **ZERO),
    SimModel("hang", faults=[Fault("hang")], **ZERO),
    SimModel("bad", faults=[Fault("malformed", after_tokens=2)], **ZERO),
    SimModel("once", faults=[Fault("500", first=1)], **ZERO),
]
ANSWERS = {f"Question {i}?": f"answer {i * 7}" for i in range(40)}


@pytest.fixture(scope="module")
def sim():
    with SimServer(MODELS, answers=ANSWERS) as server:
        yield server


@pytest.fixture(scope="module")
def keyed():
    with SimServer(MODELS[:1], require_api_key=KEY) as server:
        yield server


def body(model: str, prompt: str = "hello there", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": prompt}], **extra}


async def sse(resp: aiohttp.ClientResponse) -> list[tuple[float, str]]:
    """(arrival time, data payload) of each SSE ``data:`` line."""
    out = []
    async for line in resp.content:
        if line.startswith(b"data: "):
            out.append((time.perf_counter(), line[6:].decode().rstrip("\n")))
    return out


async def stream(
    url: str, payload: dict[str, Any], **kw: Any
) -> tuple[float, list[tuple[float, str]]]:
    """Post one streaming request on a fresh connection; (t0, events)."""
    async with aiohttp.ClientSession() as s:
        t0 = time.perf_counter()
        async with s.post(url + "/chat/completions", json={**payload, "stream": True}, **kw) as r:
            assert r.status == 200, await r.text()
            assert r.headers["Content-Type"].startswith("text/event-stream")
            return t0, await sse(r)


def contents(events: list[tuple[float, str]]) -> list[str]:
    chunks = [json.loads(d) for _, d in events if d != "[DONE]"]
    return [
        c["choices"][0]["delta"]["content"]
        for c in chunks
        if c["choices"] and "content" in c["choices"][0]["delta"]
    ][1:]


async def test_stream_shape_role_tokens_finish(sim):
    _, events = await stream(sim.base_url, body("zero"))
    data = [d for _, d in events]
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert {c["model"] for c in chunks} == {"zero"} and len({c["id"] for c in chunks}) == 1
    tokens = [c["choices"][0]["delta"]["content"] for c in chunks[1:-1]]
    assert (
        len(tokens) == 7 and "".join(tokens) == "lorem ipsum dolor sit amet consectetur adipiscing"
    )
    assert tokens[0] == "lorem" and all(
        t.startswith(" ") and len(t.split()) == 1 for t in tokens[1:]
    )
    assert chunks[-1]["choices"][0] == {"index": 0, "delta": {}, "finish_reason": "stop"}
    assert all("usage" not in c for c in chunks)


async def test_usage_chunk_only_when_asked_with_exact_counts(sim):
    messages = [
        {"role": "system", "content": "be brief"},
        {
            "role": "user",
            "content": [{"type": "text", "text": "one two"}, {"type": "text", "text": "three"}],
        },
    ]
    payload = {"model": "zero", "messages": messages, "stream_options": {"include_usage": True}}
    _, events = await stream(sim.base_url, payload)
    usage = json.loads(events[-2][1])
    assert usage["choices"] == [] and events[-1][1] == "[DONE]"
    assert usage["usage"] == {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}
    assert json.loads(events[-3][1])["choices"][0]["finish_reason"] == "stop"


async def test_tokens_never_go_out_before_their_deadline(sim):
    """The schedule's deadlines are absolute (from the request) and never early.

    How close to the deadlines the sim sends is a speed figure, printed by
    ``benchmarks/fidelity.py`` (raw aiohttp's error there is the sim's own), not asserted here.
    """
    t0, events = await stream(sim.base_url, body("timed"))
    content = [
        (t, d)
        for t, d in events
        if d != "[DONE]" and json.loads(d)["choices"][0]["delta"].get("content")
    ]
    assert events[0][0] <= content[0][0], "the role chunk goes out before the first token"
    times = [t for t, _ in content]
    assert len(times) == 6
    assert times[0] - t0 >= 0.15, "first token at +150 ms at the earliest"
    for i, t in enumerate(times):
        assert t - t0 >= 0.15 + i * 0.02 - 1e-6, (i, t - t0)


async def test_max_tokens_gives_length(sim):
    _, events = await stream(sim.base_url, body("zero", max_tokens=3))
    assert len(contents(events)) == 3
    assert json.loads(events[-2][1])["choices"][0]["finish_reason"] == "length"
    _, events = await stream(sim.base_url, body("zero", max_completion_tokens=2))
    assert len(contents(events)) == 2


async def ask(
    session: aiohttp.ClientSession, url: str, model: str, prompt: str, **extra: Any
) -> str:
    async with session.post(url + "/chat/completions", json=body(model, prompt, **extra)) as r:
        assert r.status == 200
        return (await r.json())["choices"][0]["message"]["content"]


async def test_accuracy(sim):
    async with aiohttp.ClientSession() as s:
        for q, a in list(ANSWERS.items())[:10]:
            assert await ask(s, sim.base_url, "always", q) == a
            wrong = await ask(s, sim.base_url, "never", q)
            assert a not in wrong and wrong
        first = [await ask(s, sim.base_url, "coin", q) == a for q, a in ANSWERS.items()]
        again = [await ask(s, sim.base_url, "coin", q) == a for q, a in ANSWERS.items()]
        assert 8 <= sum(first) <= 32
        assert first == again
        other_seed = [
            await ask(s, sim.base_url, "coin", q, seed=5) == a for q, a in ANSWERS.items()
        ]
        assert other_seed != first  # the request seed is part of the draw


async def test_set_answers_while_running(sim):
    async with aiohttp.ClientSession() as s:
        sim.set_answers({"Capital of France?": "Paris"})
        try:
            assert await ask(s, sim.base_url, "always", " Capital of France? ") == "Paris"
        finally:
            sim.set_answers(ANSWERS)


async def test_error_faults(sim):
    async with aiohttp.ClientSession() as s:
        async with s.post(sim.base_url + "/chat/completions", json=body("r429", stream=True)) as r:
            assert r.status == 429 and r.headers["Retry-After"] == "0.5"
            err = (await r.json())["error"]
            assert {"message", "type", "code"} <= set(err)
        async with s.post(sim.base_url + "/chat/completions", json=body("r500")) as r:
            assert r.status == 500 and "error" in await r.json()
        statuses = []  # `first=1`: only the model's first request fails
        for _ in range(3):
            async with s.post(sim.base_url + "/chat/completions", json=body("once")) as r:
                statuses.append(r.status)
        assert statuses == [500, 200, 200]


async def test_cut_drops_the_connection_without_done(sim):
    got: list[bytes] = []
    async with aiohttp.ClientSession() as s:
        async with s.post(sim.base_url + "/chat/completions", json=body("cut", stream=True)) as r:
            with pytest.raises(aiohttp.ClientPayloadError):
                async for line in r.content:
                    got.append(line)
    data = [line[6:] for line in got if line.startswith(b"data: ")]
    assert len(data) == 4 and b"[DONE]" not in b"".join(got)  # role chunk + 3 tokens
    assert all("finish_reason" in json.loads(d)["choices"][0] for d in data)


async def test_hang_sends_nothing(sim):
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=0.3)) as s:
        t0 = time.perf_counter()
        with pytest.raises(asyncio.TimeoutError):
            async with s.post(
                sim.base_url + "/chat/completions", json=body("hang", stream=True)
            ) as r:
                await r.read()
        assert time.perf_counter() - t0 < 1


async def test_malformed_line_ends_the_stream(sim):
    _, events = await stream(sim.base_url, body("bad"))
    data = [d for _, d in events]
    assert len(data) == 4 and "[DONE]" not in data
    for d in data[:3]:
        json.loads(d)
    with pytest.raises(ValueError):
        json.loads(data[3])


async def test_non_streaming_returns_whole_message_at_last_token_time(sim):
    async with aiohttp.ClientSession() as s:
        t0 = time.perf_counter()
        async with s.post(
            sim.base_url + "/chat/completions", json=body("timed", max_tokens=4)
        ) as r:
            out = await r.json()
        elapsed = time.perf_counter() - t0
    assert out["object"] == "chat.completion"
    assert out["choices"][0]["message"] == {"role": "assistant", "content": "lorem ipsum dolor sit"}
    assert out["choices"][0]["finish_reason"] == "length"
    assert out["usage"] == {"prompt_tokens": 2, "completion_tokens": 4, "total_tokens": 6}
    assert 0.15 + 3 * 0.02 <= elapsed < 0.15 + 3 * 0.02 + 0.05


async def test_request_log_and_http_log_routes(sim):
    sim.reset_log()
    async with aiohttp.ClientSession() as s:
        headers = {"Authorization": f"Bearer {KEY}"}
        payload = body("zero", "Question 3?", temperature=0.5, seed=7, top_p=0.9, max_tokens=5)
        async with s.post(sim.base_url + "/chat/completions", json=payload, headers=headers) as r:
            await r.read()
        async with s.post(sim.base_url + "/chat/completions", json=body("r429", stream=True)) as r:
            await r.read()
        async with s.get(sim.url + "/_sim/requests") as r:
            over_http = await r.json()
    log = sim.requests
    assert over_http == log and len(log) == 2
    first = log[0]
    assert set(first) == {
        "n",
        "path",
        "model",
        "prompt",
        "stream",
        "received_at",
        "status",
        "fault",
        "params",
    }
    assert first["n"] == 1 and first["path"] == "/v1/chat/completions" and first["model"] == "zero"
    assert first["prompt"] == "Question 3?" and first["stream"] is False and first["status"] == 200
    assert first["params"] == {"temperature": 0.5, "seed": 7, "top_p": 0.9, "max_tokens": 5}
    assert abs(first["received_at"] - time.time()) < 5 and first["fault"] is None
    assert log[1]["fault"] == "429" and log[1]["status"] == 429 and log[1]["stream"] is True
    assert KEY not in repr(log) and "Bearer" not in repr(log)
    log[0]["model"] = "changed"
    assert sim.requests[0]["model"] == "zero"  # a copy
    async with aiohttp.ClientSession() as s:
        async with s.post(sim.url + "/_sim/reset") as r:
            assert r.status == 200
    assert sim.requests == []


async def test_auth_unknown_model_bad_json_and_model_list(sim, keyed):
    async with aiohttp.ClientSession() as s:
        url = keyed.base_url + "/chat/completions"
        async with s.post(url, json=body("zero")) as r:
            assert r.status == 401 and "error" in await r.json()
        async with s.post(url, json=body("zero"), headers={"Authorization": "Bearer wrong"}) as r:
            assert r.status == 401
        async with s.post(url, json=body("zero"), headers={"Authorization": f"Bearer {KEY}"}) as r:
            assert r.status == 200
        async with s.post(sim.base_url + "/chat/completions", json=body("nope")) as r:
            assert r.status == 404
            message = (await r.json())["error"]["message"]
            assert "nope" in message and "zero" in message and "timed" in message
        async with s.post(sim.base_url + "/chat/completions", data=b"{oops") as r:
            assert r.status == 400 and "error" in await r.json()
        async with s.get(sim.base_url + "/models") as r:
            ids = [m["id"] for m in (await r.json())["data"]]
            assert ids == [m.name for m in MODELS]


async def test_anthropic_raw_stream_and_errors(sim, keyed):
    async with aiohttp.ClientSession() as s:
        payload = body("always", "Question 2?", max_tokens=100, system="be brief", stream=True)
        async with s.post(sim.url + "/v1/messages", json=payload) as r:
            text = (await r.read()).decode()
        events = [block.split("\n", 1) for block in text.strip().split("\n\n")]
        names = [e[0].removeprefix("event: ") for e in events]
        assert names == ["message_start", "content_block_start"] + ["content_block_delta"] * 2 + [
            "content_block_stop",
            "message_delta",
            "message_stop",
        ]
        datas = [json.loads(e[1].removeprefix("data: ")) for e in events]
        assert datas[0]["message"]["usage"]["input_tokens"] == 4
        assert "".join(d["delta"]["text"] for d in datas[2:4]) == "answer 14"
        assert (
            datas[5]["delta"]["stop_reason"] == "end_turn"
            and datas[5]["usage"]["output_tokens"] == 2
        )
        async with s.post(
            keyed.url + "/v1/messages", json=body("zero", max_tokens=5), headers={"x-api-key": KEY}
        ) as r:
            out = await r.json()
            assert out["type"] == "message" and out["usage"] == {
                "input_tokens": 2,
                "output_tokens": 5,
            }
            assert out["stop_reason"] == "max_tokens"
        async with s.post(sim.url + "/v1/messages", json=body("r429", max_tokens=5)) as r:
            assert r.status == 429 and (await r.json())["error"]["type"] == "rate_limit_error"


@pytest.mark.filterwarnings("ignore::UserWarning")  # pydantic notes from litellm's types
async def test_anthropic_stream_through_litellm(sim):
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    litellm = pytest.importorskip("litellm")
    litellm.suppress_debug_info = True
    # litellm 1.106's anthropic route appends /v1/messages itself: pass the server root
    response = await litellm.acompletion(
        model="anthropic/always",
        api_base=sim.url,
        api_key="k",
        messages=[{"role": "user", "content": "Question 5?"}],
        max_tokens=50,
        stream=True,
        stream_options={"include_usage": True},
    )
    text, usage = "", None
    async for chunk in response:
        if chunk.choices and chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
        usage = getattr(chunk, "usage", None) or usage
    assert text == "answer 35"
    assert usage is not None and usage.prompt_tokens == 2 and usage.completion_tokens == 2


def test_load_models(tmp_path: Path):
    good = tmp_path / "models.yaml"
    good.write_text(
        "- name: a\n  ttft_s: 0.1\n  input_per_mtok: 1.5\n  faults:\n    - kind: 429\n      first: 2\n- name: b\n"
    )
    models = load_models(good)
    assert [m.name for m in models] == ["a", "b"]
    assert models[0].faults == [Fault("429", first=2)] and models[0].input_per_mtok == 1.5
    bad = tmp_path / "bad.yaml"
    for text, words in [
        ("- name: a\n  ttft: 0.1\n", ["bad.yaml", "'a'", "ttft"]),
        ("- name: a\n  accuracy: 2\n", ["bad.yaml", "accuracy"]),
        ("- name: a\n  faults:\n    - kind: boom\n", ["bad.yaml", "fault 1", "boom"]),
        ("- ttft_s: 1\n", ["bad.yaml", "model 1", "name"]),
        ("a: [", ["bad.yaml", "YAML"]),
    ]:
        bad.write_text(text)
        with pytest.raises(ValueError) as info:
            load_models(bad)
        assert all(w in str(info.value) for w in words), str(info.value)
    names = [m.name for m in DEMO_MODELS]
    assert names == ["fast-small", "balanced", "slow-large"]


def test_cli_bad_input_is_one_line(tmp_path: Path, capsys):
    assert cli_main(["--models", str(tmp_path / "missing.yaml"), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "missing.yaml" in err and "Traceback" not in err
    with pytest.raises(SystemExit) as info:
        cli_main(["--port", "x"])
    assert info.value.code == 2 and len(capsys.readouterr().err.strip().splitlines()) == 1


async def test_cli_serves_until_sigterm():
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchwork.sim", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 15)
        assert line.startswith("benchwork sim: serving 3 models on http://127.0.0.1:"), line
        base = line.split()[-1]
        async with aiohttp.ClientSession() as s:
            payload = body("fast-small", max_tokens=2)
            async with s.post(base + "/chat/completions", json=payload) as r:
                assert r.status == 200 and (await r.json())["usage"]["completion_tokens"] == 2
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(proc.wait, 10) == 0
        assert "Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
