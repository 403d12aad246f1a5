"""One look: a target keeps its colour across charts and runs; offline display; saved files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from chart_svg import marks, render
from chartdata import PROFILES, synth

import benchwork.charts as ch
from benchwork.errors import BenchworkError


def _fills(svg: str, container: str) -> dict[str, str]:
    return {m.fields["target"]: m.attrs["fill"] for m in marks(svg, container)}


def test_a_target_keeps_its_colour_across_charts_and_runs() -> None:
    run1 = synth(seed=0)
    run2 = synth({k: PROFILES[k] for k in ("slow-large", "balanced")}, seed=5, run_id="r1")
    by_leaderboard = _fills(render(ch.leaderboard(run1)), "layer_0_marks")
    by_cost = _fills(render(ch.cost_quality(run1)), "layer_3_marks")
    ch.reset_colors()  # a fresh process: the hash alone decides
    by_run2 = _fills(render(ch.leaderboard(run2)), "layer_0_marks")
    assert set(by_leaderboard) == set(PROFILES)
    assert len(set(by_leaderboard.values())) == len(PROFILES)  # distinct within a chart
    assert all(by_cost[t] == by_leaderboard[t] for t in by_cost)
    assert all(by_run2[t] == by_leaderboard[t] for t in by_run2)
    assert set(by_leaderboard.values()) <= {c.lower() for c in ch.PALETTE} | set(ch.PALETTE)


def test_colliding_names_get_distinct_colours_and_keep_them_in_the_process() -> None:
    names = [f"model-{i}" for i in range(40)]
    first = ch.target_colors(names[:2])
    # find a name that hashes onto the colour of model-0
    clash = next(n for n in names[2:] if ch.target_colors([n])[n] == first["model-0"])
    ch.reset_colors()
    both = ch.target_colors(["model-0", clash])
    assert both["model-0"] != both[clash]
    # once drawn, model-0 keeps its colour even beside a name that sorts first and clashes
    ch.reset_colors()
    ch.target_colors(["model-0"])
    again = (
        ch.target_colors(["a-" + clash, "model-0"])
        if False
        else ch.target_colors([clash, "model-0"])
    )
    assert again["model-0"] == first["model-0"]
    ch.pin_colors({"model-0": "#123456"})
    assert ch.target_colors(["model-0", clash])["model-0"] == "#123456"
    assert len(set(ch.target_colors(names[:18]).values())) == 18


def test_the_palette_is_okabe_ito_first() -> None:
    assert ch.PALETTE[:8] == ch.OKABE_ITO
    assert "#F0E442" not in {ch.target_colors([n])[n] for n in (f"t{i}" for i in range(50))}


@pytest.mark.parametrize("suffix", ["html", "svg", "png", "pdf", "json"])
def test_save_writes_self_contained_files(tmp_path: Path, suffix: str) -> None:
    out = ch.save(ch.leaderboard(synth()), tmp_path / "sub" / f"board.{suffix}")
    data = out.read_bytes()
    head = {"svg": b"<svg", "png": b"\x89PNG", "pdf": b"%PDF", "json": b"{"}
    if suffix == "html":
        text = data.decode()
        assert "vegaEmbed(" in text and "slow-large" in text
        assert "<script src=" not in text and "cdn.jsdelivr" not in text  # nothing fetched
        assert len(text) > 500_000  # the vega bundle is inlined
    else:
        assert data.startswith(head[suffix])
    if suffix == "svg":
        assert "Leaderboard" in data.decode()
    if suffix == "json":
        assert json.loads(data)["$schema"].startswith("https://vega.github.io/schema/vega-lite/v6")


def test_save_refuses_unknown_formats(tmp_path: Path) -> None:
    with pytest.raises(BenchworkError, match="unknown chart format"):
        ch.save(ch.leaderboard(synth()), tmp_path / "x.gif")


def test_import_makes_charts_display_offline(tmp_path: Path) -> None:
    code = """
import json, altair as alt
import benchwork as bw
assert alt.renderers.active == "default"
import polars as pl
chart = bw.charts.leaderboard(pl.read_parquet(PATH))
bundle = chart._repr_mimebundle_()
bundle = bundle[0] if isinstance(bundle, tuple) else bundle
html = bundle["text/html"]
print(json.dumps({"renderer": alt.renderers.active, "theme": alt.theme.active,
                  "cdn": "cdn.jsdelivr" in html or "<script src=" in html,
                  "inline": "vegaEmbed(" in html and len(html) > 500000,
                  "one": html.count('class="benchwork-chart"') == 1,
                  "static": html.count('src="data:image/svg+xml;base64,') == 1}))
"""
    tmp = tmp_path / "r.parquet"
    synth().write_parquet(tmp)
    out = subprocess.run(
        [sys.executable, "-c", code.replace("PATH", repr(str(tmp)))],
        capture_output=True,
        text=True,
        check=True,
    )
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got == {
        "renderer": "benchwork",
        "theme": "benchwork",
        "cdn": False,
        "inline": True,
        "one": True,
        "static": True,
    }


def test_a_chosen_renderer_is_kept_and_use_renderer_switches() -> None:
    code = """
import altair as alt
alt.renderers.enable("svg")
alt.theme.enable("dark")
import benchwork.charts as ch
assert alt.renderers.active == "svg" and alt.theme.active == "dark"
ch.use_renderer("interactive")
assert alt.renderers.active == "benchwork"
ch.use_renderer("svg")
assert alt.renderers.active == "svg"
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr


def test_import_benchwork_does_not_load_altair() -> None:
    code = "import sys, benchwork; print('altair' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_bw_charts_is_the_front_door() -> None:
    import benchwork as bw

    assert bw.charts is ch and "charts" in bw.__all__ and "charts" in dir(bw)
