"""TuningView in a real JupyterLab (headless Debian Chromium through Playwright).

The kernel runs a real quick-mode tuning against the sim, then shows it in a TuningView.
Python -> DOM: a later cell's ``view.update(frame)`` (released by a file the test writes)
adds generation 1's rows to the widget that showed only the original. DOM -> Python: clicking
a candidate and "Use this prompt" sets ``view.chosen_prompt``, which a trait observer writes
to a file and a re-run cell prints; both are read back by the test.

Started from the widget (``TuningView.tuner``): the test switches the mode to evolve and sets
population and generations in the page, clicks Tune; the kernel's ``await view.task`` cell
prints the options it ran with, the winner and the held-out verdict, and the DOM shows the
generations' rows, the run's status and the same verdict.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest
from support import CHROMIUM, lab_notebook, sim_setup_code

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} not found (apt-get install -y chromium)", allow_module_level=True)
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright not installed (pip install playwright)"
)
pytest.importorskip("nbformat")

SETUP = sim_setup_code(
    suite="""bw.Suite.from_records(
    [{"id": f"q{i}", "input": f"What is {i} plus {i}?", "expected": str(2 * i)} for i in range(16)],
    name="adds", system="You answer questions.",
)""",
    models="""[SimModel("solver", ttft_s=0, itl_s=0, accuracy=0.3, seed=11,
              prompt_rules=[PromptRule("answer first", 0.95)]),
     SimModel("meta", role="rewriter", ttft_s=0, itl_s=0, seed=2)]""",
    concurrency=8,
    extra="""
import json, pathlib
from benchwork.tuning import tune_prompt
from benchwork.widgets import TuningView
""",
)

CELLS = [
    "from benchwork.sim import PromptRule\n"
    + SETUP
    + """
solver, meta = targets("solver")[0], targets("meta")[0]
result = await tune_prompt(suite, solver, meta, k=4, dev=[f"q{i}" for i in range(8)])
pathlib.Path("tuning.json").write_text(json.dumps({
    "prompts": dict(zip(result.frame["candidate"], result.frame["prompt"])),
    "winner_prompt": result.winner,
}))
print("tuned", result.frame.height)
""",
    # the view starts with generation 0 only (the original); every choice goes to a file
    """view = TuningView(original=result.original)
view.observe(lambda ch: pathlib.Path("chosen.txt").write_text(ch["new"]), names="chosen_prompt")
view.update(result.frame.head(1))
view""",
    # a later cell adds the rewrites, once the test has seen the first state in the DOM
    """import asyncio
while not pathlib.Path("go").exists():
    await asyncio.sleep(0.1)
view.update(result.frame)
print("updated", len(view.candidates))""",
    'view.show(result)\nprint("shown", view.winner)',
    'print(f"chosen: {view.selected} | {view.chosen_prompt}")',
]


def _wait_for_file(path: Path, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while not path.exists() or not path.read_text():
        assert time.monotonic() < deadline, f"the kernel never wrote {path.name}"
        time.sleep(0.1)
    return path.read_text()


def test_tuning_view_live_update_select_and_use_this_prompt(lab, tmp_path: Path) -> None:
    _, root = lab
    for stale in ("go", "chosen.txt", "tuning.json"):
        (root / stale).unlink(missing_ok=True)
    with lab_notebook(lab, "tuning_view.ipynb", CELLS) as page:
        expect = sync_api.expect
        view = page.locator(".benchwork-tuning")
        view.wait_for(timeout=120_000)
        rows = view.locator(".benchwork-tuning-row")
        # Python -> DOM, first state: the original alone, generation 0, no chart yet
        expect(rows).to_have_count(1, timeout=30_000)
        expect(rows.first).to_have_attribute("data-candidate", "original")
        expect(rows.first).to_have_attribute("data-generation", "0")
        expect(view.locator(".benchwork-tuning-status")).to_have_text("running")
        expect(view.locator("svg.benchwork-tuning-chart")).to_have_count(0)

        tuned = json.loads(_wait_for_file(root / "tuning.json"))
        prompts: dict[str, str] = tuned["prompts"]
        assert len(prompts) >= 3
        (root / "go").write_text("1")  # releases the cell that calls view.update(frame)

        # Python -> DOM: the new generation's rows, each with its dev score and whisker
        expect(rows).to_have_count(len(prompts), timeout=60_000)
        gen1 = view.locator('.benchwork-tuning-gen[data-generation="1"] .benchwork-tuning-row')
        expect(gen1).to_have_count(len(prompts) - 1)
        assert sorted(rows.evaluate_all("rs => rs.map(r => r.dataset.candidate)")) == sorted(
            prompts
        )
        expect(view.locator("svg.benchwork-tuning-chart")).to_have_count(1)
        expect(view.locator(".benchwork-tuning-whisker")).to_have_count(len(prompts))
        # show(result): the winner highlighted, the held-out verdict, the winner selected
        winner_row = view.locator(".benchwork-tuning-row.benchwork-tuning-winner")
        expect(winner_row).to_have_count(1, timeout=60_000)
        winner = winner_row.get_attribute("data-candidate")
        assert winner is not None and prompts[winner] == tuned["winner_prompt"]
        expect(view.locator(".benchwork-tuning-status")).to_have_text("done")
        expect(view.locator(".benchwork-tuning-confirm")).to_contain_text("p (Holm) =")
        expect(view.locator(".benchwork-tuning-detail-name")).to_have_text(winner)
        expect(page.get_by_text(f"shown {winner}")).to_be_visible(timeout=30_000)

        # DOM -> Python: pick a candidate that is not the winner, see its prompt and diff
        pick = next(name for name in prompts if name not in (winner, "original"))
        view.locator(f'.benchwork-tuning-row[data-candidate="{pick}"]').click()
        detail = view.locator(".benchwork-tuning-detail")
        expect(detail.locator(".benchwork-tuning-detail-name")).to_have_text(pick)
        expect(detail.locator(".benchwork-tuning-prompt")).to_have_text(prompts[pick])
        inserted = detail.locator(".benchwork-tuning-diff ins")
        expect(inserted.first).to_be_visible()
        assert prompts[pick].endswith("".join(inserted.all_inner_texts()).strip())
        detail.locator(".benchwork-tuning-use").click()
        # the kernel's observer wrote the prompt Python now holds
        assert _wait_for_file(root / "chosen.txt") == prompts[pick]
        # ... the widget shows the round trip (chosen/chosen_prompt set by Python) ...
        expect(detail.locator(".benchwork-tuning-chosen-note")).to_contain_text(
            "view.chosen_prompt", timeout=30_000
        )
        expect(view.locator(".benchwork-tuning-row.benchwork-tuning-chosen")).to_have_attribute(
            "data-candidate", pick
        )
        # ... and a re-run of the last cell prints the selection and the chosen prompt
        page.evaluate(
            """async () => {
                const panel = window.jupyterapp.shell.currentWidget;
                panel.content.activeCellIndex = panel.content.widgets.length - 1;
                await window.jupyterapp.commands.execute('notebook:run-cell');
            }"""
        )
        expect(page.get_by_text(f"chosen: {pick} | {prompts[pick]}")).to_be_visible(timeout=30_000)
        page.screenshot(path=str(tmp_path / "tuning_view.png"), full_page=True)
        if os.environ.get("BENCHWORK_SCREENSHOTS"):
            dest = Path(os.environ["BENCHWORK_SCREENSHOTS"])
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy(tmp_path / "tuning_view.png", dest / "tuning_view.png")


START_CELLS = [
    "from benchwork.sim import PromptRule\n"
    + SETUP.replace("range(16)", "range(12)")
    + """
solver, meta = targets("solver")[0], targets("meta")[0]
view = TuningView.tuner(suite, solver, meta, k=2, dev=[f"q{i}" for i in range(6)])
view""",
    # the tuning the Tune button started, awaited in a later cell
    """while view.task is None:
    await asyncio.sleep(0.1)
result = await view.task
gens = sorted(set(result.frame["generation"].to_list()))
print("tuned", json.dumps({
    "options": {k: view.options[k] for k in ("mode", "population", "generations")},
    "mode": result.mode, "gens": gens, "winner": view.winner,
    "verdict": result.confirmation["verdict"], "same": result is view.result,
}))""",
]


def test_tune_button_starts_the_tuning_in_the_kernel(lab, tmp_path: Path) -> None:
    expect = sync_api.expect
    with lab_notebook(lab, "tuning_start.ipynb", START_CELLS) as page:
        view = page.locator(".benchwork-tuning")
        view.wait_for(timeout=120_000)
        bar = view.locator(".benchwork-tuning-controls")
        expect(bar).to_be_visible(timeout=30_000)
        expect(bar.locator(".benchwork-tuning-run-status")).to_have_text("ready", timeout=30_000)
        mode = bar.locator(".benchwork-tuning-mode")
        expect(mode).to_have_value("quick")
        knob = {
            k: bar.locator(f'input[data-knob="{k}"]') for k in ("k", "population", "generations")
        }
        expect(knob["k"]).to_have_value("2")
        expect(knob["population"]).to_be_hidden()  # evolve-only knobs hide in quick mode
        expect(bar.locator(".benchwork-tuning-cancel")).to_be_disabled()

        # browser -> Python: evolve, population 2, generations 2, then Tune
        mode.select_option("evolve")
        expect(knob["k"]).to_be_hidden()
        expect(knob["population"]).to_be_visible()
        knob["population"].fill("2")
        knob["population"].press("Tab")
        knob["generations"].fill("2")
        knob["generations"].press("Tab")
        bar.locator(".benchwork-tuning-tune").click()

        # the kernel ran what the page chose, and awaited the task the click started
        line = page.get_by_text(re.compile(r"^tuned \{"))
        expect(line).to_be_visible(timeout=120_000)
        out = json.loads(line.inner_text().strip().removeprefix("tuned "))
        assert out["options"] == {"mode": "evolve", "population": 2, "generations": 2}
        assert out["mode"] == "evolve" and out["same"] is True
        gens, winner, verdict = out["gens"], out["winner"], out["verdict"]
        assert gens[0] == 0 and len(gens) >= 2 and max(gens) <= 2 and winner and verdict

        # Python -> DOM: every generation's rows, the winner, the verdict, the run's status
        for g in gens:
            expect(view.locator(f'.benchwork-tuning-gen[data-generation="{g}"]')).to_have_count(1)
        expect(view.locator(".benchwork-tuning-row.benchwork-tuning-winner")).to_have_attribute(
            "data-candidate", winner
        )
        expect(view.locator(".benchwork-tuning-confirm")).to_contain_text(f"→ {verdict}")
        expect(bar.locator(".benchwork-tuning-run-status")).to_have_text("done")
        expect(bar.locator(".benchwork-tuning-run-message")).to_contain_text(
            f"winner {winner} · held-out {verdict}"
        )
        expect(bar.locator(".benchwork-tuning-tune")).to_be_enabled()
        expect(bar.locator(".benchwork-tuning-cancel")).to_be_disabled()
        page.screenshot(path=str(tmp_path / "tuning_start.png"), full_page=True)
        if os.environ.get("BENCHWORK_SCREENSHOTS"):
            dest = Path(os.environ["BENCHWORK_SCREENSHOTS"])
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy(tmp_path / "tuning_start.png", dest / "tuning_start.png")
