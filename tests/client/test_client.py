"""Client correctness over real HTTP against the simulated provider: timings, tokens, faults.

Tests assert what must hold on any machine (exact tokens, no TTFT earlier than the schedule,
the rate's definition); how close the timings come to the schedule is measured by
``benchmarks/fidelity.py`` against raw aiohttp in the same run, never asserted here.
"""

from __future__ import annotations

import socket
import time

import pytest

import benchwork as bw
from benchwork.client import RetryPolicy
from benchwork.sim import Fault, SimModel, SimServer

TTFT, ITL, TOKENS = 0.2, 0.02, 50


def _suite(n: int, prefix: str = "prompt") -> bw.Suite:
    return bw.Suite(name="t", cases=[bw.Case(id=f"c{i}", input=f"{prefix} {i}") for i in range(n)])


def _run(suite, target, **kw):
    kw.setdefault("cache", "off")
    kw.setdefault("progress", False)
    return bw.run_sync(suite, [target], **kw)


def _ttft_errors(sim, streams: int, calls: int, warmup: int) -> list[float]:
    target = bw.Target("openai/sched", api_base=sim.base_url, concurrency=streams)
    run = _run(_suite(calls), target, warmup=warmup)
    df = run.results.filter(~run.results["warmup"])
    assert df.height == calls and (df["status"] == "ok").all()
    errors = [t - TTFT for t in df["ttft_s"].to_list()]
    assert min(errors) >= 0, "TTFT can never beat the server's schedule"
    return errors


@pytest.mark.parametrize(("streams", "calls", "warmup"), [(1, 6, 1), (50, 50, 50)])
def test_ttft_never_beats_the_schedule(timing_sim, streams: int, calls: int, warmup: int):
    """Every TTFT is measured and none is earlier than the server's first token can be.

    How close TTFT comes to the schedule is a speed figure: ``benchmarks/fidelity.py`` prints
    it as a ratio against raw aiohttp measured in the same run (README, Benchmarks).
    """
    errors = _ttft_errors(timing_sim, streams, calls, warmup)
    assert len(errors) == calls and all(e is not None for e in errors)


def test_tokens_exact_and_output_rate_is_tokens_over_the_token_span(timing_sim):
    target = bw.Target("openai/sched", api_base=timing_sim.base_url, concurrency=5)
    run = _run(_suite(5), target)
    df = run.results
    # usage chunk is not a token, the role-only first chunk is not a token: exact every time
    assert df["output_tokens"].to_list() == [TOKENS] * 5
    assert df["chunks"].to_list() == [TOKENS] * 5
    assert not df["tokens_estimated"].any()
    # prompt "prompt i" is two words; the sim counts words
    assert df["input_tokens"].to_list() == [2] * 5
    assert set(df["finish_reason"].to_list()) == {"stop"}
    # deadlines are absolute and never early: latency is at least the schedule's
    assert min(df["latency_s"].to_list()) >= TTFT + (TOKENS - 1) * ITL
    # (tokens - 1) / (last - first token) with one token per chunk: exactly 1 / mean gap
    for tps, itl in zip(df["output_tps"].to_list(), df["itl_mean_s"].to_list(), strict=True):
        assert tps * itl == pytest.approx(1.0, rel=1e-9)


def test_retry_after_is_honoured_and_counted():
    model = SimModel(
        "m", ttft_s=0, itl_s=0, tokens=3, faults=[Fault("429", first=1, retry_after=1)]
    )
    with SimServer([model]) as sim:
        run = _run(_suite(1), bw.Target("openai/m", api_base=sim.base_url))
        log = sim.requests
    row = run.results.row(0, named=True)
    assert row["status"] == "ok" and row["attempts"] == 2
    assert [r["status"] for r in log] == [429, 200]
    assert log[1]["received_at"] - log[0]["received_at"] >= 1.0


@pytest.mark.parametrize(
    ("fault", "error_type", "http_status"),
    [
        (Fault("500"), "server_error", 500),
        (Fault("cut", after_tokens=2), "stream_cut", None),
        (Fault("malformed", after_tokens=2), "protocol", None),
        (Fault("hang"), "timeout", None),
    ],
)
def test_faults_become_error_rows(fault, error_type, http_status):
    model = SimModel("m", ttft_s=0, itl_s=0, tokens=5, faults=[fault])
    retry = RetryPolicy(max_attempts=2, backoff_s=0.01)
    with SimServer([model]) as sim:
        target = bw.Target("openai/m", api_base=sim.base_url, timeout_s=0.5)
        run = _run(_suite(2), target, retry=retry)
        sent = len(sim.requests)
    df = run.results
    assert run.status == "failed"  # every call failed: not a success, but no crash either
    assert df["status"].to_list() == ["error", "error"]
    assert df["error_type"].to_list() == [error_type] * 2
    assert df["http_status"].to_list() == [http_status] * 2
    retried = error_type != "protocol"  # a garbled stream is not retried
    assert df["attempts"].to_list() == [2 if retried else 1] * 2
    assert sent == (4 if retried else 2)
    assert all(df["error_message"].to_list())
    assert df["ttft_s"].null_count() == 2 and df["cost_usd"].null_count() == 2


def test_refused_connection_is_a_transport_error_not_http_500():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    target = bw.Target("openai/m", api_base=f"http://127.0.0.1:{port}/v1")
    run = _run(_suite(1), target, retry=RetryPolicy(max_attempts=2, backoff_s=0.01))
    row = run.results.row(0, named=True)
    assert row["status"] == "error"
    assert row["error_type"] == "transport"
    assert row["http_status"] is None
    assert row["attempts"] == 2
    assert "connect" in row["error_message"]


def test_client_errors_are_not_retried():
    with SimServer([SimModel("m", ttft_s=0, itl_s=0)]) as sim:
        run = _run(_suite(1), bw.Target("openai/nope", api_base=sim.base_url))
        assert len(sim.requests) == 1
    row = run.results.row(0, named=True)
    assert (row["error_type"], row["http_status"], row["attempts"]) == ("not_found", 404, 1)


def test_per_call_timeout_bounds_a_hanging_call():
    with SimServer([SimModel("m", faults=[Fault("hang")])]) as sim:
        target = bw.Target("openai/m", api_base=sim.base_url, timeout_s=0.3)
        t0 = time.perf_counter()
        run = _run(_suite(1), target, retry=RetryPolicy(max_attempts=1))
        elapsed = time.perf_counter() - t0
    assert run.results["error_type"].to_list() == ["timeout"]
    assert elapsed < 3


def test_cost_from_price_override_and_unknown_price_is_null():
    with SimServer([SimModel("m", ttft_s=0, itl_s=0, tokens=10)]) as sim:
        priced = bw.Target("openai/m", name="priced", api_base=sim.base_url,
                           input_per_mtok=2.0, output_per_mtok=10.0)  # fmt: skip
        unpriced = bw.Target("openai/m", name="unpriced", api_base=sim.base_url)
        run = bw.run_sync(_suite(2), [priced, unpriced], cache="off", progress=False)
    df = run.results
    p = df.filter(df["target"] == "priced").row(0, named=True)
    assert p["cost_usd"] == pytest.approx(p["input_tokens"] * 2e-6 + p["output_tokens"] * 1e-5)
    assert df.filter(df["target"] == "unpriced")["cost_usd"].null_count() == 2
    summary = run.summary()
    assert summary.filter(summary["target"] == "unpriced")["cost_usd"][0] is None


def test_litellm_path_yields_the_same_fields_as_the_lean_path():
    """Anthropic's Messages API through litellm vs the lean OpenAI path, same sim model."""
    model = SimModel("m", ttft_s=0.05, itl_s=0.005, tokens=12)
    suite = bw.Suite(name="t", cases=[bw.Case(id="q", input="What is 2+2?", expected="4")])
    with SimServer([model], answers={"What is 2+2?": "4"}) as sim:
        lean = bw.Target("openai/m", name="lean", api_base=sim.base_url)
        via = bw.Target("anthropic/m", name="litellm", api_base=sim.url, api_key_env="BW_TEST_KEY")
        assert lean.resolve().lean and not via.resolve().lean
        import os

        os.environ["BW_TEST_KEY"] = "test-key-not-secret"
        run = bw.run_sync(suite, [lean, via], cache="off", progress=False)
        paths = {r["path"] for r in sim.requests}
    assert paths == {"/v1/chat/completions", "/v1/messages"}
    rows = {r["target"]: r for r in run.results.iter_rows(named=True)}
    a, b = rows["lean"], rows["litellm"]
    assert a["status"] == b["status"] == "ok"
    filled = {k for k, v in a.items() if v is not None}
    # Anthropic's Messages API has no system_fingerprint: the one field only OpenAI's wire has
    assert filled - {"system_fingerprint"} == {k for k, v in b.items() if v is not None}
    for key in ("output_text", "output_tokens", "input_tokens", "score_exact"):
        assert a[key] == b[key], key
    assert a["output_text"] == "4" and a["score_exact"] == 1.0
    assert b["ttft_s"] >= 0.05 and b["provider"] == "anthropic"


def test_tokens_are_estimated_and_flagged_when_the_server_sends_no_usage():
    # no usage anywhere, several tokens per chunk, no tokenizer endpoint: only a guess is left
    # (the exact sources are tested in tests/client/test_tokens.py)
    model = SimModel(
        "quiet", ttft_s=0, itl_s=0.005, tokens=12, sends_usage=False, body_usage=False,
        tokens_per_chunk=4,
    )  # fmt: skip
    with SimServer([model, SimModel("loud", ttft_s=0, itl_s=0, tokens=12)]) as sim:
        quiet = bw.Target("openai/quiet", name="quiet", api_base=sim.base_url,
                          input_per_mtok=1, output_per_mtok=1)  # fmt: skip
        loud = bw.Target("openai/loud", name="loud", api_base=sim.base_url)
        run = bw.run_sync(
            _suite(1, "tell me something"), [quiet, loud], cache="off", progress=False
        )
    rows = {r["target"]: r for r in run.results.iter_rows(named=True)}
    q, loud_row = rows["quiet"], rows["loud"]
    assert q["tokens_estimated"] is True and loud_row["tokens_estimated"] is False
    assert loud_row["output_tokens"] == 12 and q["chunks"] == 3
    assert q["tokens_source"] == "litellm" and loud_row["tokens_source"] == "usage"
    # litellm's tokenizer on "lorem ipsum ..." words: close to, not necessarily equal to, 12
    assert 8 <= q["output_tokens"] <= 30 and q["input_tokens"] >= 3
    assert q["output_tps"] is not None  # computed from the estimated count
    assert q["cost_usd"] == pytest.approx((q["input_tokens"] + q["output_tokens"]) * 1e-6)


def test_the_model_and_fingerprint_the_provider_reported_are_kept():
    """Reports cite what the provider said it ran, beside what was asked for."""
    with SimServer([SimModel("m", ttft_s=0, itl_s=0, tokens=3, seed=42)]) as sim:
        streamed = _run(_suite(1), bw.Target("openai/m", api_base=sim.base_url))
        whole = _run(
            _suite(1, "x"), bw.Target("openai/m", api_base=sim.base_url, params={"stream": False})
        )
    for run in (streamed, whole):
        row = run.results.row(0, named=True)
        assert (row["response_model"], row["system_fingerprint"]) == ("m", "fp_sim_42")
