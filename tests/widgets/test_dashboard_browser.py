"""Dashboard in a real JupyterLab, driven by headless Debian Chromium through Playwright.

Python -> DOM: two runs in one dashboard; their counts reach the totals, each target's p50
TTFT (the same number the kernel computes from the results) and the errors by HTTP status of
a failing sim model are shown. DOM -> Python: one run's Cancel cancels that run only (the
awaiting cell prints both statuses). A browser reload in the middle of a run shows the same
widget again, which keeps updating to the final count.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from support import CHROMIUM, lab_notebook, sim_setup_code

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} not found (apt-get install -y chromium)", allow_module_level=True)
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright not installed (pip install playwright)"
)
expect = sync_api.expect

SETUP = "from benchwork.sim import Fault\n" + sim_setup_code(
    suite="""bw.Suite.from_records(
    [{"id": f"c{i}", "input": f"Spell {i} in words.", "expected": f"the number {i} in words"}
     for i in range(24)],
    name="dashboard-suite",
)""",
    models="""[SimModel("steady", ttft_s=0.4, itl_s=0.01, tokens=8, seed=1),
     SimModel("flaky", ttft_s=0.1, itl_s=0.01, tokens=8, seed=2, faults=[Fault("500", rate=0.3)]),
     SimModel("crawl", ttft_s=0.6, itl_s=0.01, tokens=8, seed=3),
     SimModel("crawl-slow", ttft_s=1.0, itl_s=0.01, tokens=8, seed=4)]""",
    concurrency=2,
    extra="from benchwork.widgets import Dashboard\n"
    "NO_RETRY = bw.client.RetryPolicy(max_attempts=1, max_wait_s=0)",
)

TWO_RUNS = [
    SETUP,
    # the automatic progress stays on: the dashboard must replace it, not add to it
    'h1 = bw.start(suite, targets("steady", "flaky"), cache="off", retry=NO_RETRY)\n'
    'h2 = bw.start(suite, targets("crawl", concurrency=1), cache="off")\n'
    "dash = Dashboard(h1, h2)\n"
    "dash",
    "r1 = await h1\n"
    "r2 = await h2\n"
    'steady = r1.results.filter(r1.results["target"] == "steady")\n'
    'flaky = r1.results.filter(r1.results["target"] == "flaky")\n'
    'print("statuses", r1.status, r2.status, r1.results.height, r2.results.height,\n'
    '      round(steady["ttft_s"].median() * 1000), (flaky["http_status"] == 500).sum())',
]

RELOAD = [
    SETUP,
    'h = bw.start(suite, targets("crawl-slow", concurrency=1), cache="off")\n'
    "dash = Dashboard(h)\n"
    "dash",
]


def _done(cell_text: str) -> tuple[int, int]:
    done, total = cell_text.strip().split("/")
    return int(done), int(total)


def test_two_runs_counts_p50_errors_and_one_runs_cancel(lab, tmp_path: Path) -> None:
    with lab_notebook(lab, "dashboard.ipynb", TWO_RUNS) as page:
        dash = page.locator(".benchwork-dashboard")
        dash.wait_for(timeout=60_000)
        runs = dash.locator(".benchwork-dash-run")
        expect(runs).to_have_count(2, timeout=30_000)
        run1, run2 = runs.nth(0), runs.nth(1)
        expect(run1.locator(".benchwork-dash-target")).to_have_count(2)
        # one display per run: the automatic progress line went when the dashboard attached
        expect(page.locator(".benchwork-progress-line")).to_have_count(0)

        # run 2 (one slow target) has a row or two in, run 1 is still going: cancel run 2
        crawl_done = run2.locator(
            '.benchwork-dash-target[data-target="crawl"] .benchwork-dash-done'
        )
        expect(crawl_done).to_have_text(re.compile(r"^[1-9]\d*/24$"), timeout=30_000)
        expect(run1.locator(".benchwork-dash-status")).to_have_text("running")
        run2.locator(".benchwork-dash-cancel").click()

        # Python cancelled run 2 only: run 2 says cancelled, run 1 goes on to its totals
        expect(run2.locator(".benchwork-dash-status")).to_have_text("cancelled", timeout=20_000)
        expect(run1.locator(".benchwork-dash-status")).to_have_text("finished", timeout=60_000)
        for name in ("steady", "flaky"):
            row = run1.locator(f'.benchwork-dash-target[data-target="{name}"]')
            expect(row.locator(".benchwork-dash-done")).to_have_text("24/24")
            expect(row.locator(".benchwork-dash-ttft .benchwork-dash-value")).to_have_text(
                re.compile(r"^\d+ ms$")
            )
            expect(row.locator(".benchwork-dash-ttft svg.benchwork-spark polyline")).to_have_count(
                1
            )
            expect(row.locator(".benchwork-dash-tps .benchwork-dash-value")).to_have_text(
                re.compile(r"^\d+\.\d tok/s$")
            )
        expect(run1.locator(".benchwork-dash-summary")).to_contain_text("48/48 calls")
        expect(run1.locator(".benchwork-dash-cancel")).to_be_hidden()

        out = page.get_by_text(re.compile(r"^statuses "))
        expect(out).to_be_visible(timeout=30_000)
        _, status1, status2, rows1, rows2, p50_ms, http500 = out.inner_text().split()
        assert (status1, status2) == ("finished", "cancelled")
        assert rows1 == "48" and 1 <= int(rows2) < 24
        assert _done(run2.locator(".benchwork-dash-done").inner_text()) == (int(rows2), 24)

        # the numbers in the DOM are the kernel's: p50 TTFT and the HTTP 500s of the flaky model
        steady = run1.locator('.benchwork-dash-target[data-target="steady"]')
        shown_ms = int(
            steady.locator(".benchwork-dash-ttft .benchwork-dash-value").inner_text()[:-3]
        )
        assert abs(shown_ms - int(p50_ms)) <= 1 and shown_ms >= 400
        flaky = run1.locator('.benchwork-dash-target[data-target="flaky"]')
        assert int(http500) > 0
        expect(flaky.locator(".benchwork-dash-err-status")).to_have_text(f"HTTP 500 ×{http500}")
        expect(flaky.locator(".benchwork-dash-err-count")).to_have_text(http500)
        expect(steady.locator(".benchwork-dash-err-count")).to_have_text("0")
        dash.screenshot(path=str(tmp_path / "dashboard.png"))
        if os.environ.get("BENCHWORK_SCREENSHOTS"):
            dest = Path(os.environ["BENCHWORK_SCREENSHOTS"])
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy(tmp_path / "dashboard.png", dest / "dashboard.png")


def test_reload_mid_run_reattaches_to_the_same_widget(lab) -> None:
    with lab_notebook(lab, "dashboard_reload.ipynb", RELOAD) as page:
        done = page.locator(".benchwork-dashboard .benchwork-dash-done")
        expect(done).to_have_text(re.compile(r"^[2-9]/24$"), timeout=60_000)
        page.evaluate("async () => await window.jupyterapp.commands.execute('docmanager:save')")
        page.reload(wait_until="domcontentloaded")
        page.wait_for_function(
            "() => window.jupyterapp?.shell.currentWidget?.sessionContext?.session"
            "?.kernel?.status === 'idle'",
            timeout=60_000,
        )
        # the saved output points at the live model: the widget shows again, mid-run
        expect(done).to_have_count(1, timeout=60_000)
        first_seen, total = _done(done.inner_text())
        assert total == 24 and first_seen < 24, "the run was over before the page came back"
        # ... and keeps updating from the kernel, to the final count
        expect(done).to_have_text("24/24", timeout=90_000)
        expect(page.locator(".benchwork-dash-status")).to_have_text("finished", timeout=30_000)
        expect(page.locator(".benchwork-dashboard")).to_have_count(1)
