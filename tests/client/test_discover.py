"""Model discovery (issue 12 item 2, discovery part): a server's /models over real HTTP, with a
clear message when there is no endpoint or no server, and litellm's known models with prices."""

from __future__ import annotations

import socket

import pytest

from benchwork.client import known_models, list_models_sync
from benchwork.errors import BenchworkError
from benchwork.sim import SimModel, SimServer


def test_a_servers_models_with_prices_and_window() -> None:
    models = [
        SimModel("small", input_per_mtok=0.1, output_per_mtok=0.2),
        SimModel("served", tokenizer="vllm", context_window=4096),
    ]
    with SimServer(models) as sim:
        frame = list_models_sync(sim.base_url)
    rows = {r["id"]: r for r in frame.iter_rows(named=True)}
    assert set(rows) == {"small", "served"}
    assert (rows["small"]["input_per_mtok"], rows["small"]["output_per_mtok"]) == (0.1, 0.2)
    assert rows["served"]["context_window"] == 4096 and rows["small"]["context_window"] is None


def test_no_endpoint_and_no_server_are_one_line_errors() -> None:
    with (
        SimServer([SimModel("m")]) as sim,
        pytest.raises(BenchworkError, match="has no /models endpoint"),
    ):
        list_models_sync(f"{sim.url}/elsewhere")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(BenchworkError, match="is the server running"):
        list_models_sync(f"http://127.0.0.1:{port}/v1")


def test_known_models_come_with_prices_and_windows() -> None:
    table = known_models("anthropic")
    assert table.height > 3 and set(table["provider"]) == {"anthropic"}
    priced = table.drop_nulls(["input_per_mtok", "output_per_mtok", "context_window"])
    assert priced.height > 0 and (priced["output_per_mtok"] >= priced["input_per_mtok"]).all()
