"""Shared fixtures: every test gets its own run store and cache (never the user's)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import jupyter_server

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCHWORK_HOME", str(tmp_path / "bw-home"))
    monkeypatch.setenv("BENCHWORK_CACHE_DIR", str(tmp_path / "bw-cache"))


@pytest.fixture(scope="session")
def timing_sim() -> Iterator[object]:
    """A sim in its own process with a known schedule: TTFT 200 ms, 50 tokens every 20 ms."""
    from benchwork.sim import SimModel, SimProcess

    models = [
        SimModel("sched", ttft_s=0.2, itl_s=0.02, tokens=50),
        SimModel("instant", ttft_s=0.0, itl_s=0.0, tokens=8),
    ]
    with SimProcess(models) as sim:
        yield sim


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "local_model: needs the real local model (.ci/local_model.sh); runs last"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``local_model`` run last (notebooks included), so the background build
    that ``.ci/run`` starts has the whole rest of the run to finish before they wait on it."""
    items.sort(key=lambda item: item.get_closest_marker("local_model") is not None)


# -- a real JupyterLab for the browser tests (widgets, charts): one server per session ----------
@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A JupyterLab server (URL, root dir) with fresh config, runtime and settings dirs."""
    args = ["--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly"]  # fmt: skip
    with jupyter_server(tmp_path_factory.mktemp("lab"), "jupyterlab", args) as (url, root, _):
        yield url, root
