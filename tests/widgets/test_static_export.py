"""An executed notebook exported to HTML shows each widget's *last* state, offline (issue 12.5).

papermill executes a notebook whose run finishes while a later cell awaits it; the widget's
final counts must be in the saved widget state (they are sent as part of the cell executing
then, see widgets/_kernel.py), and ``reports.export_html`` must swap the widget view for that
state's static HTML. The page is then opened in headless Chromium with every non-file
request refused: the widget is visible with its final numbers and nothing was fetched.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from support import BROWSER_ARGS, CHROMIUM, sim_setup_code, write_notebook

from benchwork.reports import export_html
from benchwork.widgets import WIDGET_STATE_MIME, WIDGET_VIEW_MIME, replace_widget_views

SETUP = sim_setup_code(
    suite="""bw.Suite.from_records(
    [{"id": f"c{i}", "input": f"Say {i}.", "expected": f"n{i}"} for i in range(6)], name="static"
)""",
    models='[SimModel("m1", ttft_s=0.02, itl_s=0.005, tokens=3, seed=1), '
    'SimModel("m2", ttft_s=0.04, itl_s=0.005, tokens=3, accuracy=0.5, seed=2)]',
    concurrency=2,
    extra="from benchwork.widgets import Dashboard, RunProgress",
)
CELLS = [
    SETUP,
    'h = bw.start(suite, targets("m1", "m2"), cache="off", progress=False)\nRunProgress(h)',
    "r = await h\nprint(r.status, r.results.height)",
    'h2 = bw.start(suite, targets("m1"), cache="off", progress=False)\nDashboard(h2)',
    "r2 = await h2\nprint(r2.status, r2.results.height)",
]


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import papermill

    root = tmp_path_factory.mktemp("static")
    src, out = root / "w.ipynb", root / "w-out.ipynb"
    write_notebook(src, CELLS)
    papermill.execute_notebook(
        str(src), str(out), kernel_name="python3", progress_bar=False, cwd=str(root)
    )
    return out


def _states(nb: nbformat.NotebookNode) -> dict:
    return nb.metadata["widgets"][WIDGET_STATE_MIME]["state"]


def test_the_saved_widget_state_is_the_last_state(executed: Path) -> None:
    nb = nbformat.read(executed, as_version=4)
    ours = {s["state"]["_bw_widget"]: s["state"] for s in _states(nb).values()
            if s["state"].get("_bw_widget")}  # fmt: skip
    assert sorted(ours) == ["Dashboard", "RunProgress"]
    # the runs finished while the *next* cell was executing: their updates were recorded anyway
    progress = ours["RunProgress"]
    assert (progress["status"], progress["done"], progress["total"]) == ("finished", 12, 12)
    (dash,) = ours["Dashboard"]["runs"]
    assert (dash["status"], dash["done"], dash["total"]) == ("finished", 6, 6)
    assert "finished 12" in "".join(o.get("text", "") for o in nb.cells[2].outputs)


def test_replace_widget_views_swaps_only_our_views(executed: Path) -> None:
    nb = nbformat.read(executed, as_version=4)
    views = [
        o for c in nb.cells for o in c.get("outputs", []) if WIDGET_VIEW_MIME in o.get("data", {})
    ]
    assert len(views) == 2
    assert replace_widget_views(nb) == 2
    assert 'data-widget="Dashboard"' in nb.cells[3].outputs[0]["data"]["text/html"]
    html = nb.cells[1].outputs[0]["data"]["text/html"]
    assert 'data-widget="RunProgress"' in html and "12/12 calls (100%)" in html
    assert "<script" not in html
    # a view of a model with no saved state stays as it was
    nb2 = nbformat.read(executed, as_version=4)
    nb2.metadata["widgets"][WIDGET_STATE_MIME]["state"] = {}
    assert replace_widget_views(nb2) == 0


def test_exported_html_shows_the_widget_offline_in_chromium(executed: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not found")
    sync_api = pytest.importorskip("playwright.sync_api")
    page_path = export_html(executed, code=True)
    text = page_path.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]*src=[\"']https?://", text)
    refused: list[str] = []

    def file_only(route, request) -> None:  # type: ignore[no-untyped-def]
        if request.url.startswith("file://"):
            route.continue_()
        else:
            refused.append(request.url)
            route.abort()

    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)
        try:
            page = browser.new_page()
            page.route("**/*", file_only)
            page.goto(page_path.as_uri())
            widget = page.locator('.benchwork-static[data-widget="RunProgress"]')
            sync_api.expect(widget).to_be_visible()
            sync_api.expect(widget.locator(".benchwork-status")).to_have_text("finished")
            sync_api.expect(widget.locator(".benchwork-counts")).to_contain_text("12/12 calls")
            sync_api.expect(widget.locator("tr", has_text="m2")).to_have_count(1)
            dash = page.locator('.benchwork-static[data-widget="Dashboard"]')
            sync_api.expect(dash).to_be_visible()
            sync_api.expect(dash).to_contain_text("finished")
            sync_api.expect(dash.locator("svg.benchwork-spark").first).to_be_attached()
        finally:
            browser.close()
    assert refused == [], refused
