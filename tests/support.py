"""Helpers shared by several test modules: a kill -9 harness and the in-kernel sim set-up.

Plain functions (not fixtures) so that subprocess scripts and kernel code strings stay
readable at their call site; imported as ``from support import ...`` (pytest puts ``tests/``
on ``sys.path``).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = [
    "BROWSER_ARGS",
    "CHROMIUM",
    "jupyter_server",
    "kill_9_when",
    "lab_notebook",
    "sim_setup_code",
    "write_notebook",
]


def kill_9_when(
    argv: Sequence[str],
    ready: Callable[[], bool],
    *,
    what: str,
    timeout: float = 60.0,
    poll: float = 0.005,
    settle: float = 0.0,
    env: dict[str, str] | None = None,
) -> bytes:
    """Start ``argv``, wait until ``ready()``, SIGKILL it (after ``settle`` s); return its stdout.

    Fails with *what* if the child exits first or ``ready()`` never holds within *timeout*;
    asserts the child really died of the SIGKILL (not of its own accord).
    """
    proc = subprocess.Popen(
        list(argv),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    try:
        deadline = time.monotonic() + timeout
        while not ready():
            assert proc.poll() is None, (f"the child exited before {what}", proc.communicate())
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            time.sleep(poll)
        if settle:
            time.sleep(settle)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    out, _ = proc.communicate()
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, out)
    return out


def sim_setup_code(*, suite: str, models: str, concurrency: int, extra: str = "") -> str:
    """Kernel code that builds ``suite``, starts the sim on a thread and defines ``targets()``.

    *suite* and *models* are Python expressions; ``targets(*names, concurrency=...)`` names the
    key variable so litellm stays unloaded (the sim needs no key).
    """
    return f"""
import asyncio, os
import benchwork as bw
from benchwork.sim import SimModel, SimServer

suite = {suite}
sim = SimServer({models}, answers=suite.expected_by_prompt()).start()

def targets(*names, concurrency={concurrency}):
    return [bw.Target(f"openai/{{n}}", name=n, api_base=sim.base_url, api_key_env="SIM_KEY",
                      concurrency=concurrency) for n in names]
{extra}
"""


#: Debian's Chromium, driven by Playwright (``playwright install`` cannot work here)
CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def write_notebook(path: Path, cells: Sequence[str]) -> None:
    """Write a notebook of code *cells* with a python3 kernelspec."""
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)


@contextmanager
def lab_notebook(
    lab: tuple[str, Path],
    name: str,
    cells: Sequence[str],
    *,
    run_all: bool = True,
    viewport: tuple[int, int] = (1200, 1100),
) -> Iterator[Any]:
    """Open a new notebook *name* of *cells* in the ``lab`` fixture's JupyterLab; yield the page.

    Headless Debian Chromium through Playwright; waits for an idle kernel, then (with
    *run_all*) fires ``notebook:run-all-cells`` without waiting for the cells to finish, so a
    cell that ``await``s a run does not block the test. The kernel is shut down at the end.
    """
    from playwright import sync_api

    url, root = lab
    write_notebook(root / name, cells)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
        try:
            page.goto(f"{url}/lab/tree/{name}?reset", wait_until="domcontentloaded")
            page.wait_for_function(
                "() => window.jupyterapp?.shell.currentWidget?.sessionContext?.session"
                "?.kernel?.status === 'idle'",
                timeout=60_000,
            )
            if run_all:
                page.evaluate(
                    "() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }"
                )
            yield page
        finally:
            try:
                page.evaluate(
                    "async () => await window.jupyterapp.commands.execute('kernelmenu:shutdown')"
                )
            except Exception:
                pass
            browser.close()


@contextmanager
def jupyter_server(
    base: Path, module: str, args: Sequence[str], *, data_dir: bool = False
) -> Iterator[tuple[str, Path, dict[str, str]]]:
    """Start ``python -m <module>`` (jupyterlab, jupyter_server) under *base*; yield URL, root, env.

    Fresh config, runtime and settings dirs (and data dir with *data_dir*), no news pop-up, no
    token, a free port, isolated benchwork home and cache; waits up to 180 s for
    ``/api/status`` (a loaded 2-core machine starts it slowly); stops the server at the end.
    """
    import pytest

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
    if data_dir:
        env["JUPYTER_DATA_DIR"] = str(base / "data")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    common = ["--no-browser", "--ip=127.0.0.1", f"--port={port}", "--allow-root",
              f"--ServerApp.root_dir={root}", "--IdentityProvider.token=",
              "--ServerApp.password="]  # fmt: skip
    log_path = base / "server.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", module, *common, *args],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 180
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/api/status", timeout=2):
                        break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        log.flush()
                        pytest.fail(f"{module} did not start:\n{log_path.read_text()}")
                    time.sleep(0.2)
            yield url, root, env
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
