"""Shared fixtures: every test gets its own run store and cache (never the user's)."""

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

import pytest

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
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A JupyterLab server (URL, root dir) with fresh config, runtime and settings dirs."""
    base = tmp_path_factory.mktemp("lab")
    root = base / "root"
    root.mkdir()
    settings = base / "settings"
    notify = settings / "@jupyterlab" / "apputils-extension"
    notify.mkdir(parents=True)
    (notify / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(base / "config"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(base / "workspaces"),
        "BENCHWORK_HOME": str(base / "bw-home"),
        "BENCHWORK_CACHE_DIR": str(base / "bw-cache"),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }
    port = _free_port()
    log = open(base / "server.log", "w")  # closed in the finally below
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={port}",
            "--allow-root",
            f"--ServerApp.root_dir={root}",
            "--IdentityProvider.token=",
            "--ServerApp.password=",
            "--LabApp.expose_app_in_browser=True",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # a loaded 2-core machine starts it slowly
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail(f"JupyterLab did not start:\n{(base / 'server.log').read_text()}")
                time.sleep(0.2)
        yield url, root
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
