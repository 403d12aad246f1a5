"""The whole loop in one real JupyterLab, by clicks: build -> launch -> watch -> explore.

The widgets are wired once in a cell (``Launcher(builder, on_start=dash.add)``); everything
after that is done in the browser: "+ Add case" in the SuiteBuilder makes the suite invalid
and the Launcher says so next to its estimate; typing the case's input fixes it and the
Launcher's header and estimate follow (browser -> Python -> browser across two widgets);
adding a discovered model and Start runs the edited suite, the Dashboard shows it finish,
and an Explorer made on the still-running handle shows the new case's output once it ends.
The kernel's side is checked from Python: the run holds the case typed in the browser.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from support import CHROMIUM, lab_notebook, sim_setup_code

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} not found (apt-get install -y chromium)", allow_module_level=True)
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright not installed (pip install playwright)"
)
expect = sync_api.expect

SETUP = sim_setup_code(
    suite="""bw.Suite.from_records(
    [{"id": c.lower(), "input": f"What is the capital of {c}?", "expected": city}
     for c, city in {"France": "Paris", "Japan": "Tokyo", "Peru": "Lima", "Chile": "Santiago"}.items()],
    name="capitals",
)""",
    # slow enough (about 1 s a call, one at a time) that the run is still going when the
    # Explorer cell runs, so its waiting state is seen
    models="""[SimModel("steady", ttft_s=1.0, itl_s=0.01, tokens=3, seed=1,
              input_per_mtok=0.5, output_per_mtok=2.0)]""",
    concurrency=1,
    extra="from benchwork.widgets import Dashboard, Explorer, Launcher, SuiteBuilder",
)

CELLS = [
    SETUP,
    "builder = SuiteBuilder(suite)\nbuilder",
    'dash = Dashboard()\nlauncher = Launcher(builder, api_base=sim.base_url, cache="off",\n'
    "                    on_start=dash.add)\n"
    "display(launcher, dash)",
    'print("scratch-ready")',
]
SCRATCH = 3

_RUN = """async ([index, code]) => {
  const nb = window.jupyterapp.shell.currentWidget.content;
  const cell = nb.widgets[index];
  cell.model.sharedModel.setSource(code);
  nb.activeCellIndex = index;
  window.jupyterapp.commands.execute('notebook:run-cell');
}"""


def test_build_launch_watch_explore_by_clicks(lab, tmp_path: Path) -> None:
    with lab_notebook(lab, "workbench_loop.ipynb", CELLS, viewport=(1300, 1600)) as page:
        expect(page.get_by_text("scratch-ready")).to_be_visible(timeout=90_000)
        builder = page.locator(".benchwork-suite-builder")
        launcher = page.locator(".benchwork-launcher")
        suite_label = launcher.locator(".benchwork-launcher-suite")
        expect(suite_label).to_have_text("capitals · 4 cases", timeout=30_000)

        # pick the model first, so the estimate is there to follow the builder's edits
        launcher.locator(".benchwork-launcher-discover").click()
        launcher.locator(
            '.benchwork-launcher-model[data-id="steady"] .benchwork-launcher-add'
        ).click()
        total = launcher.locator(".benchwork-launcher-total")
        expect(total).to_have_text(re.compile(r"^total: \$0\.\d+ for 4 calls"), timeout=30_000)

        # + Add case in the builder: a blank input is refused, and the launcher says so
        builder.locator(".benchwork-sb-add").click()
        expect(suite_label).to_have_text("capitals · 5 cases", timeout=30_000)
        expect(total).to_contain_text(
            "the suite builder has an invalid case: case 'case-5': 'input' is empty",
            timeout=30_000,
        )
        launcher.locator(".benchwork-launcher-start").click()
        message = launcher.locator(".benchwork-launcher-message")
        expect(message).to_contain_text("not started: the suite builder has an invalid case")

        # type the new case's input: the estimate is back, for five calls
        field = builder.locator('.benchwork-sb-case[data-case-id="case-5"] .benchwork-sb-input')
        field.fill("What is the capital of Wales?")
        field.press("Tab")
        expect(total).to_have_text(re.compile(r"^total: \$0\.\d+ for 5 calls"), timeout=30_000)

        # Start: the dashboard follows the run the click started
        launcher.locator(".benchwork-launcher-start").click()
        dash = page.locator(".benchwork-dashboard")
        expect(dash.locator(".benchwork-dash-run")).to_have_count(1, timeout=30_000)
        expect(dash.locator(".benchwork-dash-status")).to_have_text("running", timeout=30_000)

        # an Explorer on the running handle: waiting first, the outputs once the run ends
        page.evaluate(_RUN, [SCRATCH, 'ex = Explorer(launcher.handle, case="case-5")\nex'])
        explorer = page.locator(".benchwork-explorer")
        note = explorer.locator(".benchwork-ex-note")
        expect(note).to_contain_text("waiting for run", timeout=30_000)
        expect(dash.locator(".benchwork-dash-status")).to_have_text("finished", timeout=60_000)
        expect(dash.locator(".benchwork-dash-target td").nth(1)).to_have_text("5/5")
        expect(note).to_be_hidden(timeout=30_000)
        expect(explorer.locator(".benchwork-ex-case-id")).to_have_text("case-5")
        expect(explorer.locator(".benchwork-ex-input-text")).to_have_text(
            "What is the capital of Wales?"
        )
        expect(explorer.locator(".benchwork-ex-output")).to_have_count(1)
        page.screenshot(path=str(tmp_path / "workbench_loop.png"), full_page=True)

        # the kernel ran the suite as edited in the browser
        page.evaluate(
            _RUN,
            [
                SCRATCH,
                "import json\nrun = await launcher.handle\n"
                'print("OUT:", json.dumps([run.status, sorted(run.results["case_id"]),\n'
                '    [r["prompt"] for r in sim.requests if r["path"].endswith("/completions")]]))',
            ],
        )
        out = page.locator(".jp-OutputArea-output", has_text=re.compile(r"^OUT: "))
        expect(out).to_be_visible(timeout=30_000)
        status, case_ids, prompts = json.loads(out.inner_text().split(" ", 1)[1])
        assert status == "finished"
        assert case_ids == ["case-5", "chile", "france", "japan", "peru"]
        # the refused Start sent nothing; the run sent the case typed in the browser
        assert len(prompts) == 5 and "What is the capital of Wales?" in prompts
