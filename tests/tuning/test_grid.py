"""The parameter grid (issue 14 item 3) over real HTTP against the simulator: validated per
provider before any call, cost estimated first, one run, a frame with intervals and the best."""

from __future__ import annotations

from pathlib import Path

import pytest

import benchwork as bw
from benchwork.errors import BenchworkError
from benchwork.sim import SimModel, SimServer
from benchwork.tuning import estimate_cost, grid_sync

# five-word answers: a max_tokens below 5 cuts them, so exact match fails
QA = {f"Spell out {i}.": f"the number is {i} exactly" for i in range(12)}


def _suite() -> bw.Suite:
    return bw.Suite.from_records(
        [{"id": f"s{i}", "input": q, "expected": a} for i, (q, a) in enumerate(QA.items())],
        name="spell",
    )


def test_grid_runs_every_setting_and_finds_the_best(tmp_path: Path) -> None:
    with SimServer([SimModel("m", ttft_s=0, itl_s=0)], answers=QA) as sim:
        target = bw.Target("openai/m", api_base=sim.base_url, input_per_mtok=1, output_per_mtok=2)
        result = grid_sync(_suite(), target, {"max_tokens": [2, 16], "temperature": [0, 0.7]},
                           cache_dir=tmp_path / "c", home=tmp_path)  # fmt: skip
        sent = len(sim.requests)
    frame = result.frame
    assert frame.height == 4 and sent == 4 * 12  # one run, every setting on every case
    assert set(frame["max_tokens"]) == {"2", "16"} and set(frame["temperature"]) == {"0", "0.7"}
    by_cap = {r["max_tokens"]: r["score_exact_mean"] for r in frame.iter_rows(named=True)}
    assert by_cap["2"] == 0.0 and by_cap["16"] == 1.0
    best = result.best
    assert best["max_tokens"] == "16" and best["score_exact_lo"] < 1.0 == best["score_exact_mean"]
    assert result.estimate["cost_usd"].sum() > 0  # the estimate came first, priced
    spec = result.chart().to_dict()
    assert "layer" in spec  # heatmap cells + interval labels


def test_an_unsupported_parameter_is_flagged_before_any_call(tmp_path: Path) -> None:
    with SimServer([SimModel("m", ttft_s=0, itl_s=0)], answers=QA) as sim:
        target = bw.Target("anthropic/claude-3-5-haiku-latest", api_base=sim.url)
        with pytest.raises(BenchworkError, match="'presence_penalty' not supported"):
            grid_sync(_suite(), target, {"presence_penalty": [0, 1]}, home=tmp_path)
        assert sim.requests == []


def test_the_budget_is_checked_on_the_estimate_before_any_call(tmp_path: Path) -> None:
    with SimServer([SimModel("m", ttft_s=0, itl_s=0)], answers=QA) as sim:
        priced = bw.Target(
            "openai/m", api_base=sim.base_url, input_per_mtok=100, output_per_mtok=100
        )
        est = estimate_cost(_suite(), [priced])
        row = est.row(0, named=True)
        assert row["calls"] == 12 and not row["output_is_bound"]
        assert row["cost_usd"] == pytest.approx(
            (row["input_tokens"] + row["output_tokens"]) * 100 / 1e6
        )
        with pytest.raises(BenchworkError, match="exceeds max_cost_usd"):
            grid_sync(_suite(), priced, {"temperature": [0, 1]}, max_cost_usd=1e-6, home=tmp_path)
        unpriced = bw.Target("openai/m", api_base=sim.base_url)
        assert estimate_cost(_suite(), [unpriced])["cost_usd"].to_list() == [None]
        with pytest.raises(BenchworkError, match="no known price"):
            grid_sync(_suite(), unpriced, {"temperature": [0]}, max_cost_usd=1.0, home=tmp_path)
        assert sim.requests == []


def test_random_search_is_a_seeded_subset(tmp_path: Path) -> None:
    with SimServer([SimModel("m", ttft_s=0, itl_s=0)], answers=QA) as sim:
        target = bw.Target("openai/m", api_base=sim.base_url)
        space = {"max_tokens": [2, 8, 16], "temperature": [0, 0.5, 1]}
        a = grid_sync(
            _suite(),
            target,
            space,
            search="random",
            n=4,
            seed=1,
            cache_dir=tmp_path / "c",
            home=tmp_path,
        )
        b = grid_sync(
            _suite(),
            target,
            space,
            search="random",
            n=4,
            seed=1,
            cache_dir=tmp_path / "c",
            home=tmp_path,
        )
    assert a.frame.height == 4 and a.frame["target"].to_list() == b.frame["target"].to_list()
    assert b.run.results["cached"].all(), "the same settings again: nothing paid twice"
