"""Context tiers over real HTTP against the simulator: exact prompt lengths, windows, no reuse.

The sim's tokenizer is words and its local-server models count a chat template plus BOS, so
an exact tier needs the template's share measured and the filler sized by the tokenizer.
"""

from __future__ import annotations

import json

import pytest

import benchwork as bw
from benchwork.client import context_tiers_sync, parse_tiers, summarize_tiers
from benchwork.sim import SimModel, SimServer


def _model(name: str, **kw: object) -> SimModel:
    return SimModel(name, ttft_s=0, itl_s=0.001, tokens=12, sends_usage=False, **kw)  # type: ignore[arg-type]


def _target(sim: SimServer, name: str) -> bw.Target:
    return bw.Target(f"openai/{name}", api_base=sim.base_url, concurrency=1)


def test_parse_tiers():
    assert parse_tiers("1k, 4k,16k,150k") == [1_000, 4_000, 16_000, 150_000]
    assert parse_tiers("512,1.5k,2m") == [512, 1_500, 2_000_000]
    with pytest.raises(ValueError, match="bad tier 'x'"):
        parse_tiers("1k,x")
    with pytest.raises(ValueError, match="at least 1"):
        parse_tiers("0")


def test_exact_lengths_and_the_window_learned_from_the_error():
    # llama-cpp-python-like: no template in its tokenizer, the window only in its 400 error
    model = _model("lcp", tokenizer="llama-cpp-python", context_window=300)
    with SimServer([model]) as sim:
        frame = context_tiers_sync(
            _target(sim, "lcp"), [50, 100, 200, 400], repeats=2, max_tokens=8
        )
        chats = [r for r in sim.requests if r["path"].endswith("completions") and r["stream"]]
    ok = frame.filter(frame["status"] == "ok")
    assert ok["tier"].to_list() == [50, 50, 100, 100, 200, 200]
    assert ok["input_tokens"].to_list() == ok["tier"].to_list()  # exactly the tier, templated
    assert set(ok["tokens_source"].to_list()) == {"probe/max_tokens"}
    assert ok["note"].null_count() == ok.height  # no "not exact" note
    assert ok["prefill_tps"].to_list() == pytest.approx(
        [n / t for n, t in zip(ok["input_tokens"], ok["ttft_s"], strict=True)]
    )
    big = frame.filter(frame["tier"] == 400)
    assert big["status"].to_list() == ["skipped", "skipped"]
    assert big["note"].to_list() == ["beyond the context window (300)"] * 2
    # the first 400 call learned the window from the error; the second was never sent
    assert len(chats) == 6 + 1
    # every prompt is its own: no two share even their first five words
    heads = [" ".join((r["prompt"] or "").split()[:5]) for r in chats]
    assert len(set(heads)) == len(heads)
    summary = summarize_tiers(frame)
    assert summary["tier"].to_list() == [50, 100, 200, 400]
    assert summary["calls"].to_list() == [2, 2, 2, 0]
    assert summary["input_tokens"].to_list()[:3] == [50, 100, 200]


def test_window_from_the_server_skips_without_a_call_and_shared_prefix_on_request():
    model = _model("vl", tokenizer="vllm", context_window=150)
    with SimServer([model]) as sim:
        frame = context_tiers_sync(
            _target(sim, "vl"), [60, 120, 200], repeats=2, max_tokens=8, shared_prefix=True
        )
        prompts = [r["prompt"] for r in sim.requests if r["path"].endswith("completions")]
    assert frame["status"].to_list() == ["ok"] * 4 + ["skipped"] * 2
    assert frame.filter(frame["status"] == "ok")["input_tokens"].to_list() == [60, 60, 120, 120]
    assert set(frame.filter(frame["status"] == "ok")["tokens_source"].to_list()) == {
        "tokenize/max_tokens"
    }
    assert all(len(p.split()) < 200 for p in prompts)  # the 200 tier was never sent
    # shared_prefix: the same filler, so the shorter prompt is a prefix of the longer one
    short, long = prompts[0], prompts[-1]
    assert long.startswith(short.rsplit(" ", 3)[0])


def test_without_a_server_tokenizer_lengths_are_approximate_and_say_so():
    with SimServer([SimModel("plain", ttft_s=0, itl_s=0, tokens=4)]) as sim:
        frame = context_tiers_sync(_target(sim, "plain"), [40], repeats=1, max_tokens=4)
    (row,) = frame.to_dicts()
    assert row["status"] == "ok" and row["note"] == "approximate length (no server tokenizer)"
    assert row["tokens_source"] == "usage" and row["input_tokens"] == 32  # 40 - 8 words


def test_cli_tiers_prints_one_line_per_tier_and_rejects_bad_tiers(capsys):
    from benchwork.cli import main

    model = _model("lcp", tokenizer="llama-cpp-python", context_window=120)
    with SimServer([model]) as sim:
        code = main(["tiers", "-m", "openai/lcp", "--api-base", sim.base_url,
                     "--context-tiers", "40,80,200", "--repeats", "2", "--max-tokens", "4"])  # fmt: skip
        out = capsys.readouterr().out
        assert code == 0
        lines = out.strip().splitlines()
        assert lines[0].split()[:3] == ["tier", "calls", "input"]
        assert [ln.split()[:3] for ln in lines[1:4]] == [["40", "2", "40"], ["80", "2", "80"],
                                                         ["200", "0", "—"]]  # fmt: skip
        assert lines[4] == "tier 200: beyond the context window (120)"
        code = main(["tiers", "-m", "openai/lcp", "--api-base", sim.base_url, "--json",
                     "--context-tiers", "40", "--repeats", "1", "--max-tokens", "4"])  # fmt: skip
        rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert code == 0 and [(r["tier"], r["input_tokens"]) for r in rows] == [(40, 40)]
    assert main(["tiers", "-m", "openai/x", "--context-tiers", "1k,lots"]) == 2
    assert "--context-tiers: bad tier 'lots'" in capsys.readouterr().err


def test_tier_rows_feed_the_leaderboard_for_intervals():
    model = _model("lcp", tokenizer="llama-cpp-python", jitter_s=0.0005)
    with SimServer([model]) as sim:
        rows = context_tiers_sync(_target(sim, "lcp"), [30, 60], repeats=4, max_tokens=6)
    board = bw.analysis.leaderboard(rows, by="tier")
    assert board["tier"].to_list() == [30, 60] and board["calls"].to_list() == [4, 4]
    for r in board.to_dicts():
        assert r["ttft_p50_lo_s"] <= r["ttft_p50_s"] <= r["ttft_p50_hi_s"]
        assert r["input_tokens"] == 4 * r["tier"]  # summed over the calls: each exact


def test_run_context_tiers_and_the_tiers_chart(
    capsys: pytest.CaptureFixture[str], tmp_path
) -> None:
    """`benchwork run ... --context-tiers` (issue 15 item 3) and `bw.charts.tiers`, whose
    whiskers are the leaderboard's interval of the TTFT median per tier."""
    from benchwork.analysis import leaderboard
    from benchwork.charts import tiers, tiers_data
    from benchwork.cli import main

    model = _model("lcp", tokenizer="llama-cpp-python", context_window=300)
    with SimServer([model]) as sim:
        suite = tmp_path / "unused.yaml"
        suite.write_text("name: u\ncases: [{id: a, input: x}]\n", encoding="utf-8")
        code = main(["run", str(suite), "-m", "openai/lcp", "--api-base", sim.base_url,
                     "--context-tiers", "50,100,400", "--quiet"])  # fmt: skip
        out = capsys.readouterr().out
        frame = context_tiers_sync(_target(sim, "lcp"), [50, 100], repeats=3, max_tokens=8)
    assert code == 0
    assert "openai/lcp:" in out and "beyond the context window (300)" in out
    data = tiers_data(frame)
    board = leaderboard(frame.filter(frame["status"] == "ok"), by="tier")
    assert data["ttft_p50_lo_s"].to_list() == board.sort("tier")["ttft_p50_lo_s"].to_list()
    assert data["input_tokens"].to_list() == [50, 100]
    spec = tiers(frame).to_dict()
    assert spec["hconcat"][0]["title"] == "Time to first token"
