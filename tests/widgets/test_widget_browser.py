"""RunProgress in a real JupyterLab, driven by headless Debian Chromium through Playwright.

Recipe from JUPYTER.md: one server per session with fresh config/runtime/settings dirs, open
``/lab/tree/X.ipynb?reset``, run all cells, then wait for the widget's own DOM and assert on text
the *Python side* wrote (counts, status), so the test proves the kernel ⇄ browser round trip.
Skipped only when /usr/bin/chromium or the playwright package is missing.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from support import BROWSER_ARGS, CHROMIUM, sim_setup_code

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} not found (apt-get install -y chromium)", allow_module_level=True)
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright not installed (pip install playwright)"
)
nbformat = pytest.importorskip("nbformat")


SETUP = sim_setup_code(
    suite="""bw.Suite.from_records(
    [{"id": f"c{i}", "input": f"Spell {i} in words.", "expected": f"n{i}"} for i in range(16)],
    name="browser-suite",
)""",
    models="""[SimModel("quick-a", ttft_s=0.05, itl_s=0.01, tokens=3, seed=1),
     SimModel("quick-b", ttft_s=0.08, itl_s=0.01, tokens=3, accuracy=0.5, seed=2),
     SimModel("crawl", ttft_s=0.6, itl_s=0.02, tokens=3, seed=3)]""",
    concurrency=4,
    extra="from benchwork.widgets import RunProgress",
)

CELLS = [
    SETUP,
    # progress left on: the widget must replace the automatic display, not add to it
    'first = bw.start(suite, targets("quick-a", "quick-b"), cache="off")\nRunProgress(first)',
    'r1 = await first\nprint("first-run", r1.status, r1.results.height)',
    'second = bw.start(suite, targets("crawl", concurrency=1), cache="off", progress=False)\n'
    "RunProgress(second)",
    "r2 = await second\n"
    'journal = (r2.path / "journal.jsonl").read_text().splitlines()\n'
    'print("second-run", r2.status, r2.results.height, len(journal), second.progress.total)',
]


def _write_notebook(path: Path, cells: list[str]) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)


def test_run_progress_widget_counts_and_cancel_round_trip(lab, tmp_path: Path) -> None:
    url, root = lab
    _write_notebook(root / "progress.ipynb", CELLS)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 1100})
        try:
            page.goto(f"{url}/lab/tree/progress.ipynb?reset", wait_until="domcontentloaded")
            page.wait_for_function(
                "() => window.jupyterapp?.shell.currentWidget?.sessionContext?.session"
                "?.kernel?.status === 'idle'",
                timeout=60_000,
            )
            # fire and forget: the last cell awaits the second run until it is cancelled
            page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")

            widgets = page.locator(".benchwork-progress")
            first, second = widgets.nth(0), widgets.nth(1)
            first.wait_for(timeout=60_000)
            # the first run: the counts text (written by the Python side) reaches the total
            sync_api.expect(first.locator(".benchwork-counts")).to_contain_text(
                "32/32 calls", timeout=30_000
            )
            sync_api.expect(first.locator(".benchwork-status")).to_have_text("finished")
            sync_api.expect(first.locator(".benchwork-target")).to_have_count(2)
            sync_api.expect(first.locator(".benchwork-cancel")).to_be_hidden()
            sync_api.expect(page.get_by_text("first-run finished 32")).to_be_visible()
            # one display per run: the automatic HTML line was removed when the widget attached
            sync_api.expect(page.locator(".benchwork-progress-line")).to_have_count(0)

            # the second, slower run: click Cancel once a row or two are in
            second.wait_for(timeout=30_000)
            sync_api.expect(second.locator(".benchwork-status")).to_have_text("running")
            sync_api.expect(second.locator(".benchwork-counts")).to_contain_text(
                "2/16 calls", timeout=20_000
            )
            page.screenshot(path=str(tmp_path / "running.png"))
            second.locator(".benchwork-cancel").click()

            # Python cancelled the run and says so: in the widget and in the awaiting cell
            sync_api.expect(second.locator(".benchwork-status")).to_have_text(
                "cancelled", timeout=15_000
            )
            out = page.get_by_text("second-run cancelled")
            sync_api.expect(out).to_be_visible(timeout=15_000)
            _, status, rows, journal_lines, total = out.inner_text().split()
            assert status == "cancelled"
            assert rows == journal_lines and 2 <= int(rows) < int(total) == 16
            page.screenshot(path=str(tmp_path / "widgets.png"))
            if os.environ.get("BENCHWORK_SCREENSHOTS"):
                dest = Path(os.environ["BENCHWORK_SCREENSHOTS"])
                dest.mkdir(parents=True, exist_ok=True)
                for name in ("running.png", "widgets.png"):
                    shutil.copy(tmp_path / name, dest / name)
        finally:
            try:
                page.evaluate(
                    "async () => await window.jupyterapp.commands.execute('kernelmenu:shutdown')"
                )
            except Exception:
                pass
            browser.close()
