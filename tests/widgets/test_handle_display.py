"""Displaying a RunHandle shows its run's one Dashboard; displaying it again re-attaches to the
same widget model (issue 12 item 3: one display per run, never two)."""

from __future__ import annotations

import pytest

pytest.importorskip("anywidget")

import benchwork as bw
from benchwork._util.views import handle_view, set_handle_view
from benchwork.sim import SimModel, SimServer
from benchwork.widgets import WIDGET_VIEW_MIME, Dashboard


def _data(bundle):  # IPython accepts a mimebundle or (mimebundle, metadata)
    return bundle[0] if isinstance(bundle, tuple) else bundle


async def test_a_displayed_handle_is_its_runs_one_dashboard() -> None:
    suite = bw.Suite.from_records(
        [{"id": f"h{i}", "input": f"Say {i}", "expected": f"n{i}"} for i in range(6)], name="h"
    )
    with SimServer([SimModel("m", ttft_s=0.01, itl_s=0.001, tokens=3)]) as sim:
        target = bw.Target("openai/m", api_base=sim.base_url, api_key_env="SIM_KEY")
        handle = bw.start(suite, [target], cache="off", progress=False)
        first = handle._repr_mimebundle_()
        again = handle._repr_mimebundle_()
        run = await handle
    model_id = _data(first)[WIDGET_VIEW_MIME]["model_id"]
    assert _data(again)[WIDGET_VIEW_MIME]["model_id"] == model_id  # the same widget, re-attached
    dash = Dashboard.of(handle)
    assert dash.model_id == model_id
    (state,) = dash.runs
    assert (state["run_id"], state["status"], state["done"]) == (run.id, "finished", 6)


def test_without_a_registered_view_the_handle_shows_its_text() -> None:
    saved = handle_view()
    set_handle_view(None)
    try:
        from benchwork.runner import RunHandle

        assert RunHandle._repr_mimebundle_(object.__new__(RunHandle)) is None  # type: ignore[arg-type]
    finally:
        set_handle_view(saved)
