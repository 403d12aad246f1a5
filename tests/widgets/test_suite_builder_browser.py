"""SuiteBuilder in a real JupyterLab, driven by headless Debian Chromium through Playwright.

Each browser action (typing, clicking, uploading) is checked on the Python side: the test
sets the source of a scratch cell, runs it in the kernel and reads what it printed. Each
Python-side change is checked in the widget's DOM. Skipped only when /usr/bin/chromium or
the playwright package is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from support import CHROMIUM, lab_notebook

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} not found (apt-get install -y chromium)", allow_module_level=True)
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright not installed (pip install playwright)"
)
expect = sync_api.expect

SCRATCH = 1  # the index of the scratch cell in every notebook here

_RUN = """async ([index, code]) => {
  const nb = window.jupyterapp.shell.currentWidget.content;
  const cell = nb.widgets[index];
  cell.model.sharedModel.setSource(code);
  nb.activeCellIndex = index;
  await window.jupyterapp.commands.execute('notebook:run-cell');
  return cell.model.outputs.toJSON().map((o) =>
    o.output_type === 'stream' ? [].concat(o.text).join('')
    : o.output_type === 'error' ? `ERROR ${o.ename}: ${o.evalue}` : '').join('');
}"""


def kernel(page: Any, code: str) -> Any:
    """Run *code* in the scratch cell; it must end by printing ``OUT:`` and JSON; return that."""
    text = page.evaluate(_RUN, [SCRATCH, code])
    assert "OUT:" in text, f"the scratch cell printed {text!r}"
    return json.loads(text.split("OUT:", 1)[1])


def kernel_until(page: Any, code: str, expected: Any, timeout: float = 30.0) -> None:
    """Run the probe *code* until it prints *expected* (an edit reaches the kernel a moment
    after the browser shows it: the widget manager sends state updates one at a time)."""
    deadline = time.monotonic() + timeout
    out = kernel(page, code)
    while out != expected and time.monotonic() < deadline:
        time.sleep(0.5)
        out = kernel(page, code)
    assert out == expected


def wait_ready(page: Any) -> None:
    expect(page.get_by_text("scratch-ready")).to_be_visible(timeout=90_000)


BIG = """
import json
import benchwork as bw
from benchwork.widgets import SuiteBuilder
big = bw.Suite.from_records(
    [{"id": f"c{i}", "input": f"Say {{{{ w }}}} ({i})", "vars": {"w": f"word{i}"},
      "expected": f"word{i}", "tags": ["even" if i % 2 == 0 else "odd"]} for i in range(1000)],
    name="big", system="Answer briefly.", scorers=["exact"],
)
b = SuiteBuilder(big)
b
"""


def rows(page: Any) -> Any:
    return page.locator(".benchwork-sb-rows .benchwork-sb-case")


def row(page: Any, case_id: str) -> Any:
    return page.locator(f'.benchwork-sb-case[data-case-id="{case_id}"]')


def _screenshot(page: Any, tmp_path: Path, name: str) -> None:
    page.screenshot(path=str(tmp_path / name), full_page=True)
    if os.environ.get("BENCHWORK_SCREENSHOTS"):
        dest = Path(os.environ["BENCHWORK_SCREENSHOTS"])
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / name, dest / name)


def test_paged_grid_edits_validation_and_python_changes(lab, tmp_path: Path) -> None:
    with lab_notebook(lab, "suite_builder_grid.ipynb", [BIG, 'print("scratch-ready")']) as page:
        wait_ready(page)
        widget = page.locator(".benchwork-suite-builder")
        # 1,000 cases: one page of 50 rows in the DOM, and the pager moves through them
        expect(rows(page)).to_have_count(50, timeout=60_000)
        expect(widget.locator(".benchwork-sb-page-label")).to_have_text(
            "Page 1 of 20 · cases 1–50 of 1000"
        )
        assert rows(page).first.locator(".benchwork-sb-id").input_value() == "c0"
        assert page.locator(".benchwork-sb-case textarea, .benchwork-sb-case input").count() < 600
        widget.locator(".benchwork-sb-next").click()
        expect(rows(page).first).to_have_attribute("data-case-id", "c50")
        expect(rows(page)).to_have_count(50)
        ids = [rows(page).nth(i).get_attribute("data-case-id") for i in range(50)]
        assert ids == [f"c{i}" for i in range(50, 100)]
        assert kernel(page, 'print("OUT:", json.dumps(b.page))') == 1

        # typing in the browser reaches Python's builder.suite
        field = row(page, "c51").locator(".benchwork-sb-input")
        field.fill("Define {{ w }} in one line")
        field.press("Tab")
        kernel_until(
            page,
            'print("OUT:", json.dumps([b.suite["c51"].input, b.suite["c50"].input]))',
            ["Define {{ w }} in one line", "Say {{ w }} (50)"],
        )
        tags = row(page, "c52").locator(".benchwork-sb-tags")
        tags.fill("even, hard")
        tags.press("Tab")
        kernel_until(page, 'print("OUT:", json.dumps(b.suite["c52"].tags))', ["even", "hard"])

        # the loader's own messages, next to the field at fault
        bad_vars = row(page, "c53").locator(".benchwork-sb-vars")
        bad_vars.fill('{"w": ')
        bad_vars.press("Tab")
        error = row(page, "c53").locator(".benchwork-sb-cell-vars .benchwork-sb-error")
        expect(error).to_contain_text("not valid JSON", timeout=30_000)
        unknown = row(page, "c54").locator(".benchwork-sb-input")
        unknown.fill("Say {{ colour }}")
        unknown.press("Tab")
        expect(
            row(page, "c54").locator(".benchwork-sb-cell-vars .benchwork-sb-error")
        ).to_have_text(
            "template variable 'colour' is not defined in vars (defined: w)", timeout=30_000
        )
        template = widget.locator(".benchwork-sb-setting-template")
        template.fill("Question without the input")
        template.press("Tab")
        expect(widget.locator(".benchwork-sb-cell-template .benchwork-sb-error")).to_have_text(
            "'template' does not use {{ input }}, so every case's input would be lost",
            timeout=30_000,
        )
        _screenshot(page, tmp_path, "suite_builder_errors.png")
        out = kernel(
            page,
            "from benchwork.errors import SuiteError\ntry:\n    b.suite\nexcept SuiteError as e:\n    err = str(e)\n"
            'print("OUT:", json.dumps([err, sorted({e["index"] for e in b.errors}, key=str)]))',
        )
        assert "not valid JSON" in out[0] and out[1] == [53, 54, None]
        template.fill("")
        template.press("Tab")
        bad_vars.fill('{"w": "fixed"}')
        bad_vars.press("Tab")
        unknown.fill("Say {{ w }}")
        unknown.press("Tab")
        expect(widget.locator(".benchwork-sb-ok")).to_be_visible(timeout=30_000)
        out = kernel(page, 'print("OUT:", json.dumps([b.suite["c53"].vars, b.suite.template]))')
        assert out == [{"w": "fixed"}, None]

        # the preview is Suite.messages of the selected case, from the kernel
        row(page, "c53").locator(".benchwork-sb-id").click()
        preview = widget.locator(".benchwork-sb-preview")
        expect(preview).to_contain_text("Preview of case 'c53'", timeout=30_000)
        expect(preview.locator(".benchwork-sb-preview-content").last).to_have_text("Say fixed (53)")

        # a change made in Python shows in the DOM
        kernel(
            page,
            'b.suite = bw.Suite.from_records([{"id": "z1", "input": "zed"}], name="other")\n'
            'b.add(bw.Case("z2", [{"role": "user", "content": "hello chat"}]))\n'
            'print("OUT:", json.dumps(len(b.cases)))',
        )
        expect(rows(page)).to_have_count(2, timeout=30_000)
        assert rows(page).nth(1).locator(".benchwork-sb-id").input_value() == "z2"
        expect(rows(page).nth(1).locator(".benchwork-sb-content")).to_have_value("hello chat")
        expect(widget.locator(".benchwork-sb-setting-name")).to_have_value("other")
        expect(widget.locator(".benchwork-sb-page-label")).to_have_text(
            "Page 1 of 1 · cases 1–2 of 2"
        )


SMALL = """
import json
import benchwork as bw
from benchwork.widgets import SuiteBuilder
seed = bw.Suite.from_records(
    [{"id": "q1", "input": "Capital of France?", "expected": "Paris"},
     {"id": "q2", "input": "2 + 2?", "expected": "4"}],
    name="seed",
)
def variation(i, text):
    return bw.Case(f"q1-v{i}", text, expected="Paris", tags=["synthetic"],
                   metadata={"synthetic": {"generator": "paraphrase", "seed_case": "q1"}})
b = SuiteBuilder(seed, pending=[variation(1, "France's capital city?"),
                                variation(2, "Which city is France's capital"),
                                variation(3, "Nonsense variation")])
b
"""


def test_upload_review_actions_and_save(lab, tmp_path: Path) -> None:
    good = tmp_path / "upload.jsonl"
    good.write_text(
        "".join(
            json.dumps({"id": f"u{i}", "input": f"Upload {i}?", "expected": str(i)}) + "\n"
            for i in range(3)
        )
    )
    bad = tmp_path / "typo.yaml"
    bad.write_text("name: typo\ncases:\n  - id: t1\n    input: hi\n    expcted: x\n")
    with lab_notebook(lab, "suite_builder_review.ipynb", [SMALL, 'print("scratch-ready")']) as page:
        wait_ready(page)
        widget = page.locator(".benchwork-suite-builder")
        expect(rows(page)).to_have_count(2, timeout=60_000)

        # review: provenance shown; Accept, Edit + Accept, Reject by click
        cards = widget.locator(".benchwork-sb-pending")
        expect(cards).to_have_count(3)
        expect(cards.first.locator(".benchwork-sb-provenance")).to_have_text(
            "generator: paraphrase · seed_case: q1"
        )
        cards.first.locator(".benchwork-sb-accept").click()
        expect(cards).to_have_count(2, timeout=30_000)
        out = kernel(
            page,
            'print("OUT:", json.dumps([[c.id for c in b.suite], [c.id for c in b.pending]]))',
        )
        assert out == [["q1", "q2", "q1-v1"], ["q1-v2", "q1-v3"]]
        first = cards.first
        first.locator(".benchwork-sb-edit").click()
        _screenshot(page, tmp_path, "suite_builder_review.png")
        text = first.locator(".benchwork-sb-input")
        text.fill("Which city is the capital of France?")
        text.press("Tab")
        first.locator(".benchwork-sb-accept").click()
        expect(cards).to_have_count(1, timeout=30_000)
        cards.first.locator(".benchwork-sb-reject").click()
        expect(widget.locator(".benchwork-sb-review")).to_be_hidden(timeout=30_000)
        out = kernel(
            page,
            'print("OUT:", json.dumps([b.suite["q1-v2"].input, b.suite["q1-v2"].metadata,'
            " [c.id for c in b.suite], len(b.pending)]))",
        )
        assert out == [
            "Which city is the capital of France?",
            {"synthetic": {"generator": "paraphrase", "seed_case": "q1"}},
            ["q1", "q2", "q1-v1", "q1-v2"],
            0,
        ]

        # grid actions by click: duplicate, move up, delete; chat input
        row(page, "q2").locator(".benchwork-sb-duplicate").click()
        expect(row(page, "q2-copy")).to_have_count(1, timeout=30_000)
        row(page, "q2-copy").locator(".benchwork-sb-up").click()
        expect(rows(page).nth(1)).to_have_attribute("data-case-id", "q2-copy", timeout=30_000)
        row(page, "q1-v1").locator(".benchwork-sb-delete").click()
        expect(row(page, "q1-v1")).to_have_count(0, timeout=30_000)
        q2 = row(page, "q2")
        q2.locator(".benchwork-sb-input-kind").select_option("chat")
        q2.locator(".benchwork-sb-add-message").click()
        q2.locator(".benchwork-sb-role").first.select_option("system")
        q2.locator(".benchwork-sb-content").last.fill("What is 2 + 2?")
        q2.locator(".benchwork-sb-content").last.press("Tab")
        expected_json = q2.locator(".benchwork-sb-expected-kind")
        expected_json.select_option("json")
        q2.locator(".benchwork-sb-expected").fill("4")
        q2.locator(".benchwork-sb-expected").press("Tab")
        kernel_until(
            page,
            'print("OUT:", json.dumps([[c.id for c in b.suite], b.suite["q2"].input,'
            ' b.suite["q2"].expected]))',
            [
                ["q1", "q2-copy", "q2", "q1-v2"],
                [
                    {"role": "system", "content": "2 + 2?"},
                    {"role": "user", "content": "What is 2 + 2?"},
                ],
                4,
            ],
        )

        # upload through the browser's file input: the kernel loads it with the suite loader.
        # q2's expected is being typed in (focused, its edit not yet committed) when the upload
        # replaces the grid: that edit of the old row 2 must not land on the new case u2
        q2.locator(".benchwork-sb-expected").fill("5")
        widget.locator(".benchwork-sb-upload").set_input_files(str(good))
        status = widget.locator(".benchwork-sb-status")
        expect(status).to_have_text("imported 3 cases from upload.jsonl", timeout=30_000)
        expect(rows(page).nth(2)).to_have_attribute("data-case-id", "u2", timeout=30_000)
        page.evaluate("document.activeElement?.blur()")  # a change/blur of the old field fires
        page.wait_for_timeout(600)  # past the edit debounce: a late edit would be sent by now
        probe = 'print("OUT:", json.dumps([b.suite.name, [[c.id, c.input, c.expected] for c in b.suite]]))'
        out = kernel(page, probe)
        assert out == ["upload", [[f"u{i}", f"Upload {i}?", str(i)] for i in range(3)]]
        assert rows(page).nth(2).locator(".benchwork-sb-expected").input_value() == "2"
        expect(rows(page)).to_have_count(3)
        widget.locator(".benchwork-sb-upload").set_input_files(str(bad))
        expect(status).to_have_text(
            "typo.yaml: line 3: case 't1': unknown field 'expcted' (did you mean 'expected'?); "
            "allowed: id, input, vars, expected, tags, tools, metadata",
            timeout=30_000,
        )
        assert kernel(page, 'print("OUT:", json.dumps(len(b.suite)))') == 3  # nothing lost

        # save with the suite writer, from the browser
        target = tmp_path / "saved.yaml"
        widget.locator(".benchwork-sb-save-path").fill(str(target))
        widget.locator(".benchwork-sb-save").click()
        expect(status).to_contain_text("saved 3 cases to", timeout=30_000)
        out = kernel(page, f'print("OUT:", json.dumps(bw.Suite.load({str(target)!r}) == b.suite))')
        assert out is True
