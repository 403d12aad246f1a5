"""The engine inside a real ipykernel: run_sync under a running loop, start/await, cancel, interrupt.

One kernel serves every test (started once, ~2 s); the simulator runs in that kernel on its own
thread, with models slow enough (hundreds of ms per call) that "still running" is unambiguous.
"""

from __future__ import annotations

import json
import queue
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import sim_setup_code

jupyter_client = pytest.importorskip("jupyter_client")
pytest.importorskip("ipykernel")

SETUP = sim_setup_code(
    suite="""bw.Suite.from_records(
    [{"id": f"q{i}", "input": f"What is {i} + {i}?", "expected": str(2 * i)} for i in range(12)],
    name="kernel-arith",
)""",
    models="""[SimModel("steady", ttft_s=0.15, itl_s=0.01, tokens=4, seed=1),
     SimModel("sluggish", ttft_s=0.4, itl_s=0.02, tokens=4, seed=2)]""",
    concurrency=2,
    extra="""
HOME = os.environ["BENCHWORK_HOME"]

def journal_lines(run_id):
    path = os.path.join(HOME, "runs", run_id, "journal.jsonl")
    with open(path, encoding="utf-8") as f:
        return sum(1 for line in f if line.strip())
print("ready", sim.base_url)
""",
)


class Kernel:
    """A blocking client that collects each cell's text output and reply."""

    def __init__(self, km: Any, kc: Any) -> None:
        self.km, self.kc = km, kc

    def submit(self, code: str) -> str:
        return self.kc.execute(textwrap.dedent(code))

    def collect(self, msg_ids: list[str], timeout: float = 30) -> dict[str, dict[str, Any]]:
        """Wait until every cell in ``msg_ids`` is idle; their outputs, errors and replies."""
        out = {m: {"text": "", "error": None, "idle": False, "reply": None} for m in msg_ids}
        deadline = time.monotonic() + timeout
        while not all(o["idle"] for o in out.values()):
            left = deadline - time.monotonic()
            if left <= 0:
                pending = [m for m, o in out.items() if not o["idle"]]
                raise TimeoutError(f"cells did not finish in {timeout} s: {pending}")
            try:
                msg = self.kc.get_iopub_msg(timeout=min(left, 1.0))
            except queue.Empty:
                continue
            cell = out.get(msg["parent_header"].get("msg_id"))
            if cell is None:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                cell["text"] += content["text"]
            elif kind in ("execute_result", "display_data", "update_display_data"):
                cell["text"] += content["data"].get("text/plain", "") + "\n"
            elif kind == "error":
                cell["error"] = content["ename"]
                cell["text"] += f"{content['ename']}: {content['evalue']}\n"
            elif kind == "status" and content["execution_state"] == "idle":
                cell["idle"] = True
        while any(o["reply"] is None for o in out.values()):
            reply = self.kc.get_shell_msg(timeout=10)
            cell = out.get(reply["parent_header"].get("msg_id"))
            if cell is not None:
                cell["reply"] = reply["content"]["status"]
        return out

    def run(self, code: str, timeout: float = 30) -> dict[str, Any]:
        mid = self.submit(code)
        cell = self.collect([mid], timeout)[mid]
        return cell

    def ok(self, code: str, timeout: float = 30) -> str:
        cell = self.run(code, timeout)
        assert cell["reply"] == "ok" and cell["error"] is None, cell["text"]
        return cell["text"]


@pytest.fixture(scope="module")
def kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Kernel, Path]]:
    from jupyter_client.manager import start_new_kernel

    home = tmp_path_factory.mktemp("kernel-home")
    env = {
        "BENCHWORK_HOME": str(home),
        "BENCHWORK_CACHE_DIR": str(home / "cache"),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }
    import os

    km, kc = start_new_kernel(
        kernel_name="python3", startup_timeout=60, env={**os.environ, **env}, cwd=str(home)
    )
    k = Kernel(km, kc)
    try:
        assert "ready" in k.ok(SETUP, timeout=60)
        yield k, home
    finally:
        try:
            k.run("sim.stop()", timeout=10)
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)


def _fields(text: str, tag: str) -> list[str]:
    """The words after ``tag`` on the line that starts with it."""
    for line in text.splitlines():
        if line.startswith(tag + " "):
            return line.split()[1:]
    raise AssertionError(f"no line starting with {tag!r} in:\n{text}")


def test_run_sync_inside_kernel_returns_rows_and_next_queued_cell_runs(kernel) -> None:
    k, _ = kernel
    # both requests are queued before the first finishes: the second must still be answered
    first = k.submit(
        """
        assert asyncio.get_running_loop().is_running()   # the kernel's loop is live here
        r = bw.run_sync(suite, targets("steady"), cache="off")   # default progress display
        print("sync", len(r.results), r.status, r.results["status"].unique().to_list())
        """
    )
    second = k.submit('print("queued-cell-ran", 6 * 7)')
    cells = k.collect([first, second], timeout=30)
    assert cells[first]["reply"] == "ok", cells[first]["text"]
    assert _fields(cells[first]["text"], "sync") == ["12", "finished", "['ok']"]
    assert cells[second]["reply"] == "ok"
    assert "queued-cell-ran 42" in cells[second]["text"]


def test_start_returns_before_the_run_ends_and_a_later_cell_awaits_it(kernel) -> None:
    k, _ = kernel
    text = k.ok(
        """
        h = bw.start(suite, targets("sluggish"), cache="off", progress=False)
        print("started", h.done(), h.progress.done < h.progress.total, h.progress.total)
        """
    )
    assert _fields(text, "started") == ["False", "True", "12"]
    text = k.ok(
        """
        r = await h
        print("awaited", len(r.results), r.status, h.done(), len(h.results))
        """
    )
    assert _fields(text, "awaited") == ["12", "finished", "True", "12"]


def test_cancel_mid_run_keeps_every_finished_row(kernel) -> None:
    k, _ = kernel
    k.ok('h = bw.start(suite, targets("sluggish", concurrency=1), cache="off", progress=False)')
    text = k.ok(
        """
        while h.progress.done < 2:
            await asyncio.sleep(0.05)
        h.cancel()
        r = await h
        stored = bw.load_run(h.run_id)
        print("cancelled", r.status, stored.status, len(h.results), len(r.results),
              journal_lines(h.run_id), len(stored.results), h.progress.total)
        """
    )
    status, stored_status, handle_rows, run_rows, journal, stored_rows, total = _fields(
        text, "cancelled"
    )
    assert (status, stored_status) == ("cancelled", "cancelled")
    assert 2 <= int(handle_rows) < int(total)
    assert handle_rows == run_rows == journal == stored_rows


@pytest.mark.parametrize(
    ("call", "raised"),
    [("await bw.run", "CancelledError"), ("bw.run_sync", "KeyboardInterrupt")],
)
def test_kernel_interrupt_mid_run_keeps_rows_and_kernel(kernel, call: str, raised: str) -> None:
    k, home = kernel
    run_id = f"interrupted-{call.split('.')[-1]}"
    journal = home / "runs" / run_id / "journal.jsonl"
    mid = k.submit(
        f"""
        r = {call}(suite, targets("sluggish", concurrency=1), cache="off",
                   run_id={run_id!r}, progress=False)
        print("not interrupted")
        """
    )
    deadline = time.monotonic() + 20
    while not (journal.exists() and len(journal.read_text().splitlines()) >= 2):
        if time.monotonic() > deadline:
            raise AssertionError(f"the run wrote no rows: {k.collect([mid], timeout=5)}")
        time.sleep(0.05)
    k.km.interrupt_kernel()
    cell = k.collect([mid], timeout=20)[mid]
    assert cell["reply"] == "error" and cell["error"] == raised, cell["text"]
    assert "not interrupted" not in cell["text"]
    assert k.km.is_alive()

    rows = [json.loads(line) for line in journal.read_text().splitlines() if line.strip()]
    assert 2 <= len(rows) < 12
    text = k.ok(
        f"""
        stored = bw.load_run({run_id!r})
        print("after", stored.status, len(stored.results), sorted(stored.results["case_id"]) ==
              sorted({sorted(r["case_id"] for r in rows)!r}))
        """
    )
    assert _fields(text, "after") == ["cancelled", str(len(rows)), "True"]
