"""The sim in its own process, so it never shares a GIL with the client it is timing.

An in-process ``SimServer`` on a thread is fine for correctness tests, but at 50 streams
the client's own work delays the sim's chunks by tens of ms; benchmarks, the demo and
timing tests use ``SimProcess``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import urllib.request
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchwork.sim.models import SimModel

__all__ = ["SimProcess"]


class SimProcess:
    """``benchwork sim`` as a child process; ``base_url``, ``requests`` and ``reset_log()``."""

    def __init__(
        self,
        models: list[SimModel] | None = None,
        *,
        answers_suite: str | Path | None = None,
        require_api_key_env: str | None = None,
        port: int = 0,
    ) -> None:
        self.models = models
        self.answers_suite = answers_suite
        self.require_api_key_env = require_api_key_env
        self.port = port
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def start(self) -> SimProcess:
        import yaml

        cmd = [sys.executable, "-m", "benchwork.sim", "--port", str(self.port)]
        if self.models is not None:
            self._tmp = tempfile.TemporaryDirectory(prefix="benchwork-sim-")
            path = Path(self._tmp.name) / "models.yaml"
            path.write_text(yaml.safe_dump([asdict(m) for m in self.models], sort_keys=False))
            cmd += ["--models", str(path)]
        if self.answers_suite is not None:
            cmd += ["--answers", str(self.answers_suite)]
        if self.require_api_key_env:
            cmd += ["--require-api-key-env", self.require_api_key_env]
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if "serving" not in line:
            rest = line + (self.proc.stdout.read() if self.proc.poll() is not None else "")
            self.stop()
            raise RuntimeError(f"benchwork sim did not start: {rest.strip()}")
        self.url = line.rsplit(" ", 1)[-1].removesuffix("/v1")
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
        self.proc = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    @property
    def requests(self) -> list[dict[str, Any]]:
        """The sim's request log (never holds headers or keys)."""
        with urllib.request.urlopen(f"{self.url}/_sim/requests", timeout=10) as resp:
            return json.loads(resp.read())

    def reset_log(self) -> None:
        req = urllib.request.Request(f"{self.url}/_sim/reset", method="POST", data=b"")
        urllib.request.urlopen(req, timeout=10).close()

    def __enter__(self) -> SimProcess:
        return self if self.proc is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"SimProcess({self.url or 'not started'})"
