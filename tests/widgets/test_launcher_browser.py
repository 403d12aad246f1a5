"""Launcher in a real JupyterLab (headless Debian Chromium through Playwright).

Click Discover -> the sim server's models appear (Python -> DOM); add one, set a parameter its
provider does not accept -> the flag shows next to it and the kernel's ``launcher.issues`` and
``launcher.targets`` hold the choice (browser -> Python, read from a later cell's output);
Start is refused with the reason; litellm's known models filter by search box and provider,
and a seed on an anthropic one is flagged next to it; once fixed, Start runs in the kernel
and a later cell prints the handle's status and row count.
"""

from __future__ import annotations

import json
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

SETUP = sim_setup_code(
    suite="""bw.Suite.from_records(
    [{"id": f"c{i}", "input": f"Spell {i} in words.", "expected": f"n{i}"} for i in range(8)],
    name="launcher-suite",
)""",
    models="""[SimModel("quick-a", ttft_s=0.01, itl_s=0.005, tokens=3, seed=1,
              input_per_mtok=0.5, output_per_mtok=2.0),
     SimModel("quick-b", ttft_s=0.01, itl_s=0.005, tokens=3, seed=2)]""",
    concurrency=4,
    extra="from benchwork.widgets import Launcher",
)

CELLS = [
    SETUP,
    'launcher = Launcher(suite, api_base=sim.base_url, cache="off")\nlauncher',
    # browser -> Python: wait for the flag the browser's edits caused, then print the state
    "import json\n"
    "while not launcher.issues:\n"
    "    await asyncio.sleep(0.1)\n"
    'print("picked", json.dumps({"issues": launcher.issues,\n'
    '      "targets": [[t.name, t.model, t.api_base == sim.base_url, t.params]\n'
    "                  for t in launcher.targets]}))",
    # the run the Start button launched, awaited here
    "while launcher.handle is None:\n"
    "    await asyncio.sleep(0.1)\n"
    "run = await launcher.handle\n"
    'print("launched", launcher.handle.status, run.results.height, len(sim.requests),\n'
    '      len(launcher.handles), launcher.runs[-1]["status"])',
]


def test_discover_pick_flag_and_start_round_trip(lab, tmp_path: Path) -> None:
    expect = sync_api.expect
    with lab_notebook(lab, "launcher.ipynb", CELLS) as page:
        widget = page.locator(".benchwork-launcher")
        widget.wait_for(timeout=90_000)
        expect(widget.locator(".benchwork-launcher-suite")).to_have_text(
            "launcher-suite · 8 cases", timeout=30_000
        )
        api_base = widget.locator(".benchwork-launcher-api-base")
        expect(api_base).to_have_value(re.compile(r"^http://127\.0\.0\.1:\d+/v1$"), timeout=30_000)

        # Discover: the list comes from the sim's /models through the kernel
        widget.locator(".benchwork-launcher-discover").click()
        models = widget.locator(".benchwork-launcher-model")
        expect(models).to_have_count(2, timeout=60_000)
        expect(models.locator(".benchwork-launcher-model-id")).to_have_text(["quick-a", "quick-b"])
        expect(widget.locator(".benchwork-launcher-discover-error")).to_be_hidden()
        expect(models.nth(0)).to_contain_text("$0.5 / $2")

        # pick quick-a and set parameters: temperature is fine, top_k is not (openai)
        widget.locator(
            '.benchwork-launcher-model[data-id="quick-a"] .benchwork-launcher-add'
        ).click()
        row = widget.locator('.benchwork-launcher-target[data-name="quick-a"]')
        expect(row).to_be_visible(timeout=30_000)
        expect(row.locator(".benchwork-launcher-target-model")).to_have_text("openai/quick-a")
        # the estimate (computed in Python) is priced for this target
        expect(widget.locator(".benchwork-launcher-cost")).to_have_text(
            re.compile(r"^\$0\.\d+"), timeout=30_000
        )
        temperature = row.locator('.benchwork-launcher-param[data-param="temperature"]')
        temperature.fill("0.3")
        temperature.press("Enter")
        other = row.locator(".benchwork-launcher-other")
        other.fill("top_k=40")
        other.press("Enter")
        flag = widget.locator(".benchwork-launcher-flag")
        expect(flag).to_have_text("'top_k' is not supported by openai", timeout=30_000)
        expect(flag).to_be_visible()

        # the kernel holds the same choice (printed by a later cell)
        picked = page.locator(".jp-OutputArea-output", has_text=re.compile(r"^picked \{"))
        expect(picked).to_be_visible(timeout=30_000)
        state = json.loads(picked.inner_text().split(" ", 1)[1])
        assert state["issues"] == {"quick-a": ["'top_k' is not supported by openai"]}
        assert state["targets"] == [
            ["quick-a", "openai/quick-a", True, {"temperature": 0.3, "top_k": 40}]
        ]

        # Start is refused while the flag stands, with the reason
        start = widget.locator(".benchwork-launcher-start")
        start.click()
        message = widget.locator(".benchwork-launcher-message")
        expect(message).to_have_text(
            "not started: quick-a: 'top_k' is not supported by openai", timeout=30_000
        )
        expect(message).to_have_class(re.compile("benchwork-launcher-error"))

        # litellm's known models: search and provider filter, computed in the kernel
        widget.locator(".benchwork-launcher-known-section > summary").click()
        widget.locator(".benchwork-launcher-known-provider").select_option(
            "anthropic", timeout=60_000
        )
        widget.locator(".benchwork-launcher-search").fill("HAIKU")
        known = widget.locator(".benchwork-launcher-known-model")
        expect(widget.locator(".benchwork-launcher-known-count")).to_have_text(
            re.compile(r"^\d+ matches$"), timeout=30_000
        )
        expect(known.first).to_contain_text("anthropic", timeout=30_000)
        # the search is sent 250 ms after typing: wait until only its matches are listed
        expect(known.filter(has_not_text=re.compile("haiku", re.I))).to_have_count(
            0, timeout=30_000
        )
        expect(known.filter(has_not_text="anthropic")).to_have_count(0)
        names = [n.lower() for n in known.evaluate_all("rows => rows.map(r => r.dataset.model)")]
        assert names and all("haiku" in n for n in names), names
        expect(widget.locator(".benchwork-launcher-known-count")).to_have_text(
            f"{len(names)} matches"
        )
        # add one; a seed is fine for openai but not for anthropic: flagged next to it only
        known.first.locator(".benchwork-launcher-add").click()
        claude = widget.locator(f'.benchwork-launcher-target[data-name="{names[0]}"]')
        expect(claude.locator(".benchwork-launcher-target-model")).to_have_text(
            f"anthropic/{names[0]}", timeout=30_000
        )
        seed = claude.locator('.benchwork-launcher-param[data-param="seed"]')
        seed.fill("7")
        seed.press("Enter")
        expect(widget.locator(".benchwork-launcher-flag:visible")).to_have_text(
            ["'top_k' is not supported by openai", "'seed' is not supported by anthropic"],
            timeout=30_000,
        )
        claude.locator(".benchwork-launcher-remove").click()
        expect(widget.locator(".benchwork-launcher-target")).to_have_count(1, timeout=30_000)

        # fix it, start for real: the run happens in the kernel and finishes
        other.fill("")
        other.press("Enter")
        expect(flag).to_be_hidden(timeout=30_000)
        expect(start).to_be_enabled(timeout=30_000)
        start.click()
        run_row = widget.locator(".benchwork-launcher-run")
        expect(run_row).to_have_count(1, timeout=60_000)
        expect(run_row.locator(".benchwork-launcher-run-status")).to_have_text(
            "finished", timeout=60_000
        )
        expect(run_row).to_contain_text("8/8 calls · 0 errors")
        launched = page.locator(".jp-OutputArea-output", has_text=re.compile(r"^launched "))
        expect(launched).to_be_visible(timeout=60_000)
        assert launched.inner_text().split() == ["launched", "finished", "8", "8", "1", "finished"]
        expect(message).to_have_text(re.compile(r"^run \S+ finished: 8 row\(s\)$"))
        page.screenshot(path=str(tmp_path / "launcher.png"))
        if os.environ.get("BENCHWORK_SCREENSHOTS"):
            dest = Path(os.environ["BENCHWORK_SCREENSHOTS"])
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy(tmp_path / "launcher.png", dest / "launcher.png")
