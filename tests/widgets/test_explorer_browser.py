"""Explorer in a real JupyterLab (headless Debian Chromium through Playwright).

Python -> DOM: a later cell sets ``ex.case_id`` and the widget shows that case's outputs.
DOM -> Python: clicking a heatmap cell, a filter button, and typing in the search box change
the kernel's traits; a kernel-side observer writes them to a file the test reads, and the case
list in the DOM is compared with the kernel's own filtered list.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from support import CHROMIUM, lab_notebook, sim_setup_code

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} not found (apt-get install -y chromium)", allow_module_level=True)
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright not installed (pip install playwright)"
)

STATE_FILE = "explorer_state.json"

SETUP = sim_setup_code(
    suite="""bw.Suite.from_records(
    [{"id": f"c{i}", "input": f"What is {i} + {i}?", "expected": str(20 + 2 * i)}
     for i in range(12)],
    name="explorer-suite",
)""",
    models="""[SimModel("quick-a", ttft_s=0.0, itl_s=0.0, seed=1),
     SimModel("quick-b", ttft_s=0.0, itl_s=0.0, accuracy=0.5, seed=2),
     SimModel("flaky", ttft_s=0.0, itl_s=0.0, faults=[bw.sim.Fault("401", rate=0.4)], seed=3)]""",
    concurrency=4,
    extra="""import json, pathlib
from benchwork.widgets import Explorer
""",
)

RUN = f"""run = await bw.run(
    suite, targets("quick-a", "quick-b", "flaky"),
    scorers=["exact", {{"type": "numeric", "tolerance": 10, "name": "near"}}],
    cache="off", progress=False,
)
ex = Explorer(run, case="c3", page_size=5)

def _log(_change=None):
    pathlib.Path({STATE_FILE!r}).write_text(json.dumps({{
        "case_id": ex.case_id, "filter": ex.filter, "focus_target": ex.focus_target,
        "search": ex.search, "case_ids": ex.case_ids, "open": ex.case.get("id"),
        "page": ex.page,
    }}))

ex.observe(_log, names=["case_id", "filter", "focus_target", "search", "case", "page"])
bad = sorted(set(run.results.filter(run.results["status"] != "ok")["case_id"]),
             key=lambda c: int(c[1:]))
print("failed-cases", json.dumps(bad))
ex"""

MOVE = """ex.case_id = "c7"
print("moved-to", ex.case_id, json.dumps([c["output"] for c in ex.case["calls"]]))"""


def _wait_state(path: Path, want: dict[str, Any], timeout: float = 60.0) -> dict[str, Any]:
    """The kernel's last written state once it has every key/value in ``want``."""
    deadline = time.monotonic() + timeout
    last: dict[str, Any] = {}
    while time.monotonic() < deadline:
        if path.exists():
            try:
                last = json.loads(path.read_text())
            except json.JSONDecodeError:  # caught mid-write
                last = {}
            if all(last.get(k) == v for k, v in want.items()):
                return last
        time.sleep(0.2)
    raise AssertionError(f"kernel state never reached {want}; last: {last}")


def test_explorer_python_and_browser_round_trip(lab: tuple[str, Path], tmp_path: Path) -> None:
    _, root = lab
    state = root / STATE_FILE
    state.unlink(missing_ok=True)
    with lab_notebook(lab, "explorer.ipynb", [SETUP, RUN, MOVE]) as page:
        widget = page.locator(".benchwork-explorer")
        try:
            widget.wait_for(timeout=120_000)
        except Exception as exc:  # say what the cells printed instead
            page.screenshot(path=str(tmp_path / "no-widget.png"), full_page=True)
            outputs = page.locator(".jp-OutputArea-output").all_inner_texts()
            raise AssertionError(f"no Explorer widget; cell outputs: {outputs}") from exc

        # Python -> DOM: the later cell moved the view from c3 to c7
        moved = page.get_by_text("moved-to c7")
        sync_api.expect(moved).to_be_visible(timeout=60_000)
        outputs = json.loads(moved.inner_text().split(" ", 2)[2])
        sync_api.expect(widget.locator(".benchwork-ex-case-id")).to_have_text("c7", timeout=30_000)
        sync_api.expect(widget.locator(".benchwork-ex-output")).to_have_text(
            [o for o in outputs if o is not None], timeout=30_000
        )
        sync_api.expect(widget.locator(".benchwork-ex-input-text")).to_have_text("What is 7 + 7?")
        printed = page.locator(".jp-OutputArea-output", has_text="failed-cases").inner_text()
        failed = json.loads(printed.split(" ", 1)[1])
        assert failed, "the flaky model should have failed some calls"

        # Python moved the case list to c7's page (5 cases a page)
        rows = widget.locator(".benchwork-ex-row")
        page_ids = [f"c{i}" for i in range(5, 10)]
        sync_api.expect(rows).to_have_count(5, timeout=30_000)
        assert [rows.nth(i).get_attribute("data-case") for i in range(5)] == page_ids
        sync_api.expect(widget.locator(".benchwork-ex-page")).to_have_text("page 2 of 3 · 12 cases")

        # DOM -> Python: the pager, then a heatmap cell opens its case and focuses its target
        widget.locator(".benchwork-ex-prev").click()
        _wait_state(state, {"page": 0})
        sync_api.expect(rows.first).to_have_attribute("data-case", "c0", timeout=30_000)
        # a heatmap cell opens its case and focuses its target
        widget.locator('.benchwork-ex-cell[data-case="c2"][data-target="quick-b"]').click()
        _wait_state(state, {"case_id": "c2", "focus_target": "quick-b", "open": "c2"})
        sync_api.expect(widget.locator(".benchwork-ex-case-id")).to_have_text("c2", timeout=30_000)
        sync_api.expect(widget.locator(".benchwork-ex-call.benchwork-ex-focus")).to_have_attribute(
            "data-target", "quick-b"
        )

        # the "failed" filter: the kernel filters, and the DOM lists exactly its cases
        button = widget.locator('.benchwork-ex-filter[data-filter="failed"]')
        sync_api.expect(button.locator(".benchwork-ex-count")).to_have_text(str(len(failed)))
        button.click()
        kernel = _wait_state(state, {"filter": "failed"})
        assert kernel["case_ids"] == failed
        shown = failed[:5]
        sync_api.expect(rows).to_have_count(len(shown), timeout=30_000)
        assert [rows.nth(i).get_attribute("data-case") for i in range(len(shown))] == shown
        sync_api.expect(button).to_have_class("benchwork-ex-filter benchwork-ex-active")

        # back to every case, then type into the search box: the list narrows to one case
        widget.locator('.benchwork-ex-filter[data-filter="all"]').click()
        _wait_state(state, {"filter": "all"})
        sync_api.expect(rows).to_have_count(5, timeout=30_000)
        sync_api.expect(widget.locator(".benchwork-ex-page")).to_contain_text("12 cases")
        widget.locator(".benchwork-ex-search").press_sequentially("7 + 7", delay=50)
        kernel = _wait_state(state, {"search": "7 + 7"})
        assert kernel["case_ids"] == ["c7"]
        sync_api.expect(rows).to_have_count(1, timeout=30_000)
        sync_api.expect(rows.first).to_have_attribute("data-case", "c7")
        widget.screenshot(path=str(tmp_path / "explorer.png"))
