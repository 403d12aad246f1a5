"""The parameter grid (issue 14 item 3) over real HTTP against the simulator: validated per
provider before any call, cost estimated first, one run, a frame with intervals and the best."""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

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
    assert frame["target"].to_list() == ["openai/m"] * 4  # one target: its name on every row
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
    assert a.frame.height == 4 and a.frame["setting"].to_list() == b.frame["setting"].to_list()
    assert a.frame["variant"].to_list() == b.frame["variant"].to_list()
    assert a.frame["setting"].n_unique() == 4 and set(a.frame["target"]) == {"openai/m"}
    assert b.run.results["cached"].all(), "the same settings again: nothing paid twice"


# per target: half the answers are long (14 words), so a small max_tokens cuts them; a model with
# a small context window rejects a large max_tokens (prompt + max_tokens > window), so its best
# setting is the small one while a roomy model's is the large one
LONG = "the number is {} and that is the whole answer to the question you asked me"
MIXED = {f"Spell out {i}.": (f"it is {i}" if i % 2 else LONG.format(i)) for i in range(12)}


def _mixed_suite() -> bw.Suite:
    return bw.Suite.from_records(
        [{"id": f"m{i}", "input": q, "expected": a} for i, (q, a) in enumerate(MIXED.items())],
        name="mixed",
    )


def test_a_grid_over_two_targets_finds_each_targets_best_setting(tmp_path: Path) -> None:
    models = [
        SimModel("roomy", ttft_s=0, itl_s=0),
        SimModel("tight", ttft_s=0, itl_s=0, context_window=24),
    ]
    space = {"max_tokens": [6, 40]}
    with SimServer(models, answers=MIXED) as sim:
        roomy = bw.Target(
            "openai/roomy", api_base=sim.base_url, input_per_mtok=1, output_per_mtok=2
        )
        tight = bw.Target(
            "openai/tight", api_base=sim.base_url, input_per_mtok=3, output_per_mtok=4
        )
        result = grid_sync(_mixed_suite(), [roomy, tight], space, cache_dir=tmp_path / "c",
                           home=tmp_path)  # fmt: skip
        sent = [(r["model"], r["params"].get("max_tokens"), r["status"]) for r in sim.requests]
        alone = grid_sync(_mixed_suite(), tight, space, cache_dir=tmp_path / "c", home=tmp_path)
    # one run: every setting of every target on every case
    assert len(sent) == 2 * 2 * 12 and result.run.results.height == 48
    assert {(m, cap) for m, cap, _ in sent} == {(m, c) for m in ("roomy", "tight") for c in (6, 40)}
    assert {s for m, cap, s in sent if m == "tight" and cap == 40} == {400}  # over its window
    frame = result.frame
    assert frame.height == 4 and result.targets == ["openai/roomy", "openai/tight"]
    assert frame.select("target", "max_tokens").rows() == [
        ("openai/roomy", "6"), ("openai/roomy", "40"), ("openai/tight", "6"), ("openai/tight", "40")
    ]  # fmt: skip
    # the scores the sim's behaviour implies, computed from the results, not assumed
    for row in frame.iter_rows(named=True):
        rows = result.run.results.filter(pl.col("target") == row["variant"])
        ok = rows.filter(pl.col("status") == "ok")
        expected = ok["score_exact"].mean() if ok.height else None
        assert row["score_exact_mean"] == expected
    per = result.best_per_target
    assert per.select("target", "max_tokens").rows() == [
        ("openai/roomy", "40"),
        ("openai/tight", "6"),
    ]
    assert per["score_exact_mean"].to_list() == [1.0, 0.5]
    assert result.best_for("openai/tight")["max_tokens"] == "6"
    assert alone.best["max_tokens"] == "6"  # one target: .best as before, the same answer
    with pytest.raises(BenchworkError, match="best_per_target"):
        _ = result.best
    with pytest.raises(BenchworkError, match="no target 'nope'"):
        result.best_for("nope")
    # one estimate for all targets and settings, priced per target, before the run
    est = result.estimate
    assert est.select("target", "setting").rows() == frame.select("target", "setting").rows()
    assert est["cost_usd"].null_count() == 0
    by_target = est.group_by("target").agg(pl.col("cost_usd").sum()).sort("target")
    assert by_target["cost_usd"][1] > by_target["cost_usd"][0]  # the pricier target costs more
    spec = result.chart().to_dict()
    assert spec["facet"]["column"]["field"] == "target"


def test_an_unsupported_parameter_for_one_of_two_targets_is_refused_before_any_call(
    tmp_path: Path,
) -> None:
    with SimServer([SimModel("m", ttft_s=0, itl_s=0)], answers=QA) as sim:
        openai = bw.Target("openai/m", api_base=sim.base_url)
        claude = bw.Target("anthropic/claude-3-5-haiku-latest", name="claude", api_base=sim.url)
        with pytest.raises(BenchworkError) as err:
            grid_sync(_suite(), [openai, claude], {"presence_penalty": [0, 1],
                      "temperature": [0]}, cache_dir=tmp_path / "c", home=tmp_path)  # fmt: skip
        assert sim.requests == []  # nothing reached the simulator
    message = str(err.value)
    assert "target 'claude'" in message and "'presence_penalty' not supported" in message
    assert "openai/m" not in message  # the target that accepts it is not blamed
    assert "'temperature'" not in message.split("accepts")[0]


def test_the_budget_covers_every_target_and_an_unknown_price_stays_unknown(
    tmp_path: Path,
) -> None:
    with SimServer([SimModel("a", ttft_s=0, itl_s=0), SimModel("b", ttft_s=0, itl_s=0)],
                   answers=QA) as sim:  # fmt: skip
        priced = bw.Target("openai/a", api_base=sim.base_url, input_per_mtok=1, output_per_mtok=1)
        unpriced = bw.Target("openai/b", api_base=sim.base_url)
        with pytest.raises(BenchworkError, match=r"'openai/b'.*no known price") as err:
            grid_sync(_suite(), [priced, unpriced], {"temperature": [0, 1]}, max_cost_usd=10.0,
                      home=tmp_path)  # fmt: skip
        assert "'openai/a'" not in str(err.value)
        one = estimate_cost(_suite(), [priced])["cost_usd"][0]
        # the budget is the sum over both settings of both priced targets: 4 x one target's
        twice = bw.Target("openai/a", name="a2", api_base=sim.base_url, input_per_mtok=1,
                          output_per_mtok=1)  # fmt: skip
        with pytest.raises(BenchworkError, match="2 settings x 2 target"):
            grid_sync(_suite(), [priced, twice], {"temperature": [0, 1]},
                      max_cost_usd=one * 3.5, home=tmp_path)  # fmt: skip
        assert sim.requests == []
        result = grid_sync(_suite(), [priced, unpriced], {"temperature": [0]},
                           cache_dir=tmp_path / "c", home=tmp_path)  # fmt: skip
    costs = dict(result.estimate.select("target", "cost_usd").rows())
    assert costs["openai/b"] is None and costs["openai/a"] == pytest.approx(one)
    assert result.frame.filter(pl.col("target") == "openai/b")["cost_usd"].to_list() == [None]


def test_grid_targets_are_checked(tmp_path: Path) -> None:
    target = bw.Target("openai/m", api_base="http://127.0.0.1:9/v1")
    with pytest.raises(BenchworkError, match="non-empty list of Targets"):
        grid_sync(_suite(), [], {"temperature": [0]}, home=tmp_path)
    with pytest.raises(BenchworkError, match="share the name 'openai/m'"):
        grid_sync(_suite(), [target, target], {"temperature": [0]}, home=tmp_path)
    with pytest.raises(BenchworkError, match="must be benchwork Targets"):
        grid_sync(_suite(), [target, "openai/x"], {"temperature": [0]}, home=tmp_path)  # type: ignore[list-item]


@given(
    space=st.dictionaries(
        st.sampled_from(["temperature", "top_p", "max_tokens", "seed"]),
        st.lists(st.integers(0, 9), min_size=1, max_size=4, unique=True),
        min_size=1,
    ),
    n=st.integers(1, 40),
    seed=st.integers(0, 2**16),
)
def test_random_search_is_a_seeded_subset_of_the_grid(
    space: dict[str, list[int]], n: int, seed: int
) -> None:
    from benchwork.tuning._grid import _settings

    full = _settings(space, "grid", None, 0)
    assert len(full) == math.prod(len(v) for v in space.values())
    assert len({tuple(s.items()) for s in full}) == len(full)  # every combination once
    picked = _settings(space, "random", n, seed)
    assert len(picked) == min(n, len(full)) and all(s in full for s in picked)
    assert len({tuple(s.items()) for s in picked}) == len(picked)
    assert picked == _settings(space, "random", n, seed)  # the same seed, the same settings
