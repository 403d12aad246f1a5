"""``benchwork models``: a server's /models (over real HTTP, the sim) or litellm's known models,
as a table or JSON; no endpoint or no server is one line on stderr and exit code 2."""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import threading

import pytest

from benchwork.cli import main
from benchwork.sim import SimModel, SimServer

MODELS = [
    SimModel("alpha", input_per_mtok=0.25, output_per_mtok=1.25),
    SimModel("beta-served", tokenizer="vllm", context_window=32768),
]


def _cli(*argv: str) -> subprocess.CompletedProcess[str]:
    """The installed entry point in a child process (what a user's shell runs)."""
    return subprocess.run(
        [sys.executable, "-m", "benchwork", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"},
    )


def _dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def test_a_servers_models_as_json_and_as_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    with SimServer(MODELS) as sim:
        assert main(["models", "--api-base", sim.base_url, "--json"]) == 0
        rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
        table = _cli("models", "--api-base", sim.base_url)
    assert set(rows) == {"alpha", "beta-served"}
    assert (rows["alpha"]["input_per_mtok"], rows["alpha"]["output_per_mtok"]) == (0.25, 1.25)
    assert rows["beta-served"]["context_window"] == 32768
    assert rows["beta-served"]["input_per_mtok"] is None
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["model", "owner", "context", "$/Mtok", "in", "$/Mtok", "out"]
    by_model = {line.split()[0]: line.split() for line in lines[2:-1]}
    assert by_model["alpha"][-2:] == ["0.25", "1.25"]
    assert by_model["beta-served"][-3:] == ["32,768", "?", "?"]  # unknown price: ?, never 0
    assert lines[-1] == "2 models"


def test_no_endpoint_and_no_server_are_one_line_errors() -> None:
    with SimServer(MODELS) as sim:
        missing = _cli("models", "--api-base", f"{sim.url}/elsewhere")
    down = _cli("models", "--api-base", _dead_url(), "--json")
    for proc, text in ((missing, "has no /models endpoint"), (down, "is the server running")):
        assert proc.returncode == 2 and proc.stdout == ""
        assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("benchwork: error: ")
        assert text in proc.stderr
    bad = _cli("models")  # neither --api-base nor --known
    assert (
        bad.returncode == 2 and "one of the arguments --api-base --known is required" in bad.stderr
    )


def test_known_models_by_provider_and_search(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--known", "--provider", "anthropic", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) > 3 and {r["provider"] for r in rows} == {"anthropic"}
    assert main(["models", "--known", "--provider", "anthropic", "--search", "HAIKU"]) == 0
    out = capsys.readouterr().out.splitlines()
    names = [line.split()[0] for line in out[2:-1]]
    assert names and all("haiku" in n for n in names)
    assert len(names) == sum("haiku" in r["model"] for r in rows) and out[-1].endswith("models")
    assert main(["models", "--known", "--provider", "no-such-provider"]) == 2
    assert "litellm knows no chat models for provider 'no-such-provider'" in capsys.readouterr().err
    assert main(["models", "--api-base", "http://127.0.0.1:1/v1", "--provider", "x"]) == 2


def test_a_server_listing_no_models(capsys: pytest.CaptureFixture[str]) -> None:
    class Empty(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"object": "list", "data": []}')

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Empty)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        assert main(["models", "--api-base", base]) == 2
        assert capsys.readouterr().err == f"benchwork: error: {base}/models lists no models\n"
        assert main(["models", "--api-base", base, "--json"]) == 0
        assert json.loads(capsys.readouterr().out) == []
    finally:
        server.shutdown()
        server.server_close()
