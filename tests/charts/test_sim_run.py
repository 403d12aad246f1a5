"""Charts of a real run against the simulated provider (real HTTP, real records)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import polars as pl
from chart_svg import marks, render

import benchwork as bw
import benchwork.charts as ch
from benchwork import analysis
from benchwork.sim import DEMO_MODELS, Fault, SimServer


def test_charts_of_a_simulated_run(tmp_path: Path) -> None:
    cases = [
        bw.Case(
            id=f"s{i:02d}",
            input=f"What is {i} + {i + 3}? Answer with the number.",
            expected=str(2 * i + 3),
        )
        for i in range(16)
    ]
    suite = bw.Suite(name="sums", cases=cases, scorers=["exact"])
    models = [replace(DEMO_MODELS[0], faults=[Fault("500", rate=0.2)]), *DEMO_MODELS[1:]]
    sim = SimServer(models, answers=suite.expected_by_prompt()).start()
    try:
        targets = [
            bw.Target(
                f"openai/{m.name}",
                name=m.name,
                api_base=sim.base_url,
                input_per_mtok=m.input_per_mtok,
                output_per_mtok=m.output_per_mtok,
                retry={"max_attempts": 1},
            )
            for m in models
        ]
        run = bw.run_sync(
            suite,
            targets,
            cache="off",
            home=tmp_path / "h",
            cache_dir=tmp_path / "c",
            progress=False,
        )
    finally:
        sim.stop()
    lb = analysis.leaderboard(run).sort("target")
    rows = ch.leaderboard_data(run).sort("target")
    assert rows["target"].to_list() == lb["target"].to_list()
    assert np.allclose(rows["lo"], lb["score_exact_lo"]) and np.allclose(
        rows["hi"], lb["score_exact_hi"]
    )
    svg = render(ch.heatmap(run))
    outputs = {
        (m.fields["case_id"], m.fields["target"]): m.fields["output"]
        for m in marks(svg, "layer_1_marks")
    }
    ok = run.results.filter(pl.col("status") == "ok")
    for case_id, target, text in ok.select("case_id", "target", "output_text").iter_rows():
        assert outputs[(case_id, target)] == text
    errors = run.results.filter(pl.col("status") != "ok")
    assert errors.height > 0
    _, by_status = ch.errors_data(run)
    assert by_status["status"].to_list() == ["HTTP 500"]
    assert by_status["count"].sum() == errors.height
    cq = ch.cost_quality_data(run)
    assert set(cq.filter("pareto")["target"]) >= {"fast-small", "slow-large"}  # cheapest, best
