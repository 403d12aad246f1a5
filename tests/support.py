"""Helpers shared by several test modules: a kill -9 harness and the in-kernel sim set-up.

Plain functions (not fixtures) so that subprocess scripts and kernel code strings stay
readable at their call site; imported as ``from support import ...`` (pytest puts ``tests/``
on ``sys.path``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence

__all__ = ["BROWSER_ARGS", "CHROMIUM", "kill_9_when", "sim_setup_code"]


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
