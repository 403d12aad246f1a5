"""Runner behaviour over real HTTP: repeats, warm-up, events, cancel, run_sync in a loop."""

from __future__ import annotations

import asyncio
import json

import polars as pl
import pytest

import benchwork as bw
from benchwork.errors import BenchworkError
from benchwork.sim import SimModel, SimServer

ANSWERS = {f"question {i}": f"answer{i}" for i in range(6)}


def _suite(n: int = 6) -> bw.Suite:
    return bw.Suite(
        name="qa",
        cases=[bw.Case(id=f"q{i}", input=f"question {i}", expected=f"answer{i}") for i in range(n)],
    )


@pytest.fixture
def sim():
    models = [
        SimModel("good", ttft_s=0.0, itl_s=0.0, accuracy=1.0),
        SimModel("bad", ttft_s=0.0, itl_s=0.0, accuracy=0.0),
        SimModel("slow", ttft_s=0.05, itl_s=0.02, tokens=10, accuracy=1.0),
    ]
    with SimServer(models, answers=ANSWERS) as server:
        yield server


def _target(sim, name: str, **kw) -> bw.Target:
    return bw.Target(f"openai/{name}", name=name, api_base=sim.base_url, **kw)


def test_repeats_warmup_and_summary(sim):
    run = bw.run_sync(_suite(), [_target(sim, "good"), _target(sim, "bad")], repeats=3, warmup=2,
                      cache="off", progress=False)  # fmt: skip
    df = run.results
    assert df.height == 2 * (6 * 3 + 2)
    assert df.filter(pl.col("warmup")).height == 4
    measured = df.filter(~pl.col("warmup"))
    per_case = measured.group_by("target", "case_id").agg(pl.col("repeat").sort())
    assert all(r == [0, 1, 2] for r in per_case["repeat"].to_list())
    # warm-ups are sent first and are not scored
    assert df.filter(pl.col("warmup"))["score_exact"].null_count() == 4
    summary = run.summary()
    assert summary["target"].to_list() == ["good", "bad"]  # ranked by mean score
    assert summary["calls"].to_list() == [18, 18]
    assert summary["score_exact_mean"].to_list() == [1.0, 0.0]
    assert summary["speed_from"].to_list() == ["live", "live"]
    assert set(summary.columns) >= {"ttft_p50_s", "ttft_p95_s", "latency_p50_s", "latency_p95_s",
                                    "output_tps_p50", "error_rate", "cost_usd", "output_tokens"}  # fmt: skip
    for _, group in df.group_by("target"):
        last_warm = group.filter(pl.col("warmup"))["started_at"].max()
        assert group.filter(~pl.col("warmup"))["started_at"].min() >= last_warm


def test_events_are_emitted_after_rows_are_journaled(sim):
    async def main():
        handle = bw.start(_suite(), [_target(sim, "good")], cache="off", progress=False)
        seen = []

        def on_event(event):
            if event.kind == "call_finished":
                journal = handle_path(handle) / "journal.jsonl"
                text = journal.read_text()
                # only whole lines: another call's line may be half written at this moment
                lines = text[: text.rfind("\n") + 1].splitlines()
                ids = {(json.loads(x)["case_id"], json.loads(x)["repeat"]) for x in lines}
                seen.append((event.record.case_id, event.record.repeat) in ids)
            else:
                seen.append(event.kind)

        handle.subscribe(on_event)
        run = await handle
        return run, seen

    run, seen = asyncio.run(main())
    assert seen[-1] == "run_finished"
    checks = [s for s in seen if isinstance(s, bool)]
    assert len(checks) == 6 and all(checks)
    assert run.status == "finished"


def handle_path(handle):
    from benchwork.store import RunStore

    return RunStore().path(handle.run_id)


def test_start_returns_at_once_and_cancel_keeps_finished_rows(sim):
    suite = bw.Suite(name="long", cases=[bw.Case(id=f"c{i}", input=f"p {i}") for i in range(40)])

    async def main():
        handle = bw.start(suite, [_target(sim, "slow", concurrency=2)], cache="off", progress=False)
        assert not handle.done() and handle.progress.done == 0
        while handle.progress.done < 6:
            await asyncio.sleep(0.02)
        handle.cancel()
        run = await handle
        return handle, run

    handle, run = asyncio.run(main())
    assert run.status == "cancelled"
    assert 6 <= len(run.records) < 40
    assert all(r.status == "ok" for r in run.records)
    journal = (handle_path(handle) / "journal.jsonl").read_text().splitlines()
    assert len(journal) == len(run.records)
    stored = bw.load_run(run.id)
    assert stored.status == "cancelled" and stored.results.height == len(run.records)
    assert handle.results.height == len(run.records)


def test_run_sync_works_inside_a_running_event_loop(sim):
    async def inside_loop():
        # a notebook cell: a loop is running; run_sync must neither deadlock nor fail
        return bw.run_sync(_suite(3), [_target(sim, "good")], cache="off", progress=False)

    run = asyncio.run(inside_loop())
    assert run.status == "finished" and run.results.height == 3


def test_await_run_at_top_level_style(sim):
    run = asyncio.run(bw.run(_suite(2), _target(sim, "good"), cache="off", progress=False))
    assert run.results["score_exact"].to_list() == [1.0, 1.0]


def test_bad_arguments_fail_before_any_call(sim):
    with pytest.raises(BenchworkError, match="repeats"):
        bw.run_sync(_suite(), [_target(sim, "good")], repeats=0, progress=False)
    with pytest.raises(BenchworkError, match="cache mode 'sometimes'"):
        bw.run_sync(_suite(), [_target(sim, "good")], cache="sometimes", progress=False)
    with pytest.raises(BenchworkError, match="duplicate target"):
        bw.run_sync(_suite(), [_target(sim, "good"), _target(sim, "good")], progress=False)
    with pytest.raises(BenchworkError, match="exactt"):
        bw.run_sync(_suite(), [_target(sim, "good")], scorers=["exactt"], progress=False)
    assert sim.requests == []


def test_manifest_has_provenance_and_no_secret(sim, monkeypatch):
    monkeypatch.setenv("BW_KEY_FOR_TEST", "sk-do-not-store-1234567890")
    target = _target(sim, "good", api_key_env="BW_KEY_FOR_TEST", params={"temperature": 0})
    run = bw.run_sync(_suite(2), [target], progress=False)
    m = run.manifest
    assert m["suite_hash"] == _suite(2).hash
    assert m["targets"][0]["api_key_env"] == "BW_KEY_FOR_TEST"
    assert m["versions"]["litellm"] and m["price_table"].startswith("litellm-")
    assert m["config"]["repeats"] == 1 and m["status"] == "finished"
    blob = "".join(
        p.read_text(errors="replace") for p in run.path.iterdir() if p.suffix != ".parquet"
    )
    assert "sk-do-not-store" not in blob


def test_targets_file_and_errors(tmp_path):
    path = tmp_path / "targets.yaml"
    path.write_text(
        "- model: openai/a\n  api_base: http://127.0.0.1:1/v1\n- model: openai/b\n  temprature: 1\n"
    )
    with pytest.raises(bw.errors.TargetError, match=r"target #2.*unknown field\(s\) temprature"):
        bw.target.load_targets(path)
    with pytest.raises(bw.errors.TargetError, match="api_key_env"):
        bw.Target("openai/x", params={"api_key": "sk-123"})


def test_provider_and_base_url_resolved_through_litellm(monkeypatch):
    monkeypatch.setenv("GROQ_API_KEY", "x" * 20)
    groq = bw.Target("groq/llama3-8b-8192").resolve()
    assert groq.lean and groq.provider == "groq"
    assert groq.api_base == "https://api.groq.com/openai/v1"
    assert groq.key_env == "GROQ_API_KEY" and groq.model_name == "llama3-8b-8192"
    openai = bw.Target("openai/gpt-4o-mini").resolve()
    assert openai.api_base == "https://api.openai.com/v1" and openai.key_env == "OPENAI_API_KEY"
    anthropic = bw.Target("anthropic/claude-3-5-haiku-20241022").resolve()
    assert not anthropic.lean and anthropic.model_name == "anthropic/claude-3-5-haiku-20241022"
    local = bw.Target("my-model", api_base="http://127.0.0.1:8000/v1/").resolve()
    assert local.lean and local.api_base == "http://127.0.0.1:8000/v1" and local.key_env is None
    # an explicit api_base never gets the provider's key unless api_key_env says so
    assert bw.Target("openai/x", api_base="http://127.0.0.1:1/v1").resolve().key_env is None


def test_ctrl_c_during_run_sync_in_a_running_loop_waits_for_the_run_to_stop(sim, tmp_path):
    """Regression: an interrupted Thread.join() could return before the run had stopped,
    leaving the manifest 'running'. The worker must have kept its rows when the error surfaces."""
    import os
    import signal
    import threading
    import time

    suite = bw.Suite(name="s", cases=[bw.Case(id=f"c{i}", input=f"p {i}") for i in range(12)])
    journal = tmp_path / "h" / "runs" / "ki" / "journal.jsonl"

    def interrupt_after_two_rows() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if journal.exists() and len(journal.read_text().splitlines()) >= 2:
                os.kill(os.getpid(), signal.SIGINT)
                return
            time.sleep(0.01)

    async def cell():
        return bw.run_sync(suite, _target(sim, "slow", concurrency=1), cache="off", run_id="ki",
                           home=tmp_path / "h", progress=False)  # fmt: skip

    threading.Thread(target=interrupt_after_two_rows, daemon=True).start()
    loop = asyncio.new_event_loop()  # default SIGINT handling, as in a kernel
    try:
        with pytest.raises(KeyboardInterrupt):
            loop.run_until_complete(cell())
    finally:
        loop.close()
    stored = bw.load_run("ki", tmp_path / "h")  # read at once: no waiting for a thread
    assert stored.status == "cancelled"
    assert 2 <= stored.results.height < 12
    assert stored.results.height == len(journal.read_text().splitlines())


def test_the_pre_run_heap_is_frozen_while_streams_are_timed(sim):
    import gc

    from benchwork._util.gcpause import frozen_heap

    assert gc.get_freeze_count() == 0
    with frozen_heap():
        outer = gc.get_freeze_count()
        with frozen_heap():  # a second concurrent run: still frozen, not frozen twice
            assert gc.get_freeze_count() == outer > 0
        assert gc.get_freeze_count() == outer
    assert gc.get_freeze_count() == 0

    seen = []

    async def main():
        handle = bw.start(_suite(3), [_target(sim, "good")], cache="off", progress=False)
        handle.subscribe(lambda e: seen.append(gc.get_freeze_count()) if e.record else None)
        return await handle

    asyncio.run(main())
    assert len(seen) == 3 and all(n > 0 for n in seen)
    assert gc.get_freeze_count() == 0  # unfrozen when the run ends
