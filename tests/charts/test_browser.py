"""Charts show in a real JupyterLab with the network cut (headless Chromium, Playwright).

The page may reach only the lab server: every other request is aborted and recorded. The
notebook imports benchwork, draws charts with the default settings, and the test waits for
vega to draw them and for a tooltip on hover: the inline renderer works offline, with
interaction. Skipped only when /usr/bin/chromium or playwright is missing. The server
recipe is JUPYTER.md's (as in tests/widgets/test_widget_browser.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support import BROWSER_ARGS, CHROMIUM

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} not found (apt-get install -y chromium)", allow_module_level=True)
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright not installed (pip install playwright)"
)
nbformat = pytest.importorskip("nbformat")


CELLS = [
    "import sys\n"
    f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
    "from chartdata import synth\n"
    "import benchwork as bw\n"
    "run = synth()",
    "bw.charts.leaderboard(run)",
    "bw.charts.cost_quality(run)",
    'import altair as alt\nprint("renderer", alt.renderers.active)',
]


def test_charts_show_offline_in_jupyterlab(lab, tmp_path: Path) -> None:
    url, root = lab
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, root / "charts.ipynb")
    blocked: list[str] = []

    def only_lab(route, request) -> None:
        if request.url.startswith(url) or request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            blocked.append(request.url)
            route.abort()

    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 1400})
        page.route("**/*", only_lab)
        try:
            page.goto(f"{url}/lab/tree/charts.ipynb?reset", wait_until="domcontentloaded")
            page.wait_for_function(
                "() => window.jupyterapp?.shell.currentWidget?.sessionContext?.session"
                "?.kernel?.status === 'idle'",
                timeout=60_000,
            )
            page.evaluate(
                "async () => await window.jupyterapp.commands.execute('notebook:run-all-cells')"
            )
            sync_api.expect(page.get_by_text("renderer benchwork")).to_be_visible(timeout=60_000)
            embeds = page.locator(".jp-OutputArea-output .vega-embed")
            sync_api.expect(embeds).to_have_count(2, timeout=30_000)
            # vega drew each chart: a canvas (or svg) with a size, and no load error shown
            for i in range(2):
                drawn = embeds.nth(i).locator("canvas, svg.marks").first
                drawn.wait_for(timeout=30_000)
                box = drawn.bounding_box()
                assert box is not None and box["width"] > 300 and box["height"] > 100
            assert page.get_by_text("Error loading script").count() == 0
            # the static copy each output carries was removed by its script
            assert page.locator(".jp-OutputArea-output img.benchwork-static").count() == 0
            # interaction works offline: hovering a bar shows vega-tooltip with its figures
            bar = embeds.nth(0).locator("canvas, svg.marks").first
            box = bar.bounding_box()
            assert box is not None
            tip = page.locator("#vg-tooltip-element")
            shown = False
            for fy in (0.25, 0.35, 0.45, 0.55, 0.65):
                page.mouse.move(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * fy)
                page.wait_for_timeout(300)
                if tip.count() and "target" in (tip.inner_text() or ""):
                    shown = True
                    break
            page.screenshot(path=str(tmp_path / "charts.png"))
            assert shown, "no tooltip on hover"
            assert "rank" in tip.inner_text()
            assert not [u for u in blocked if "jsdelivr" in u or "vega" in u], blocked
        finally:
            try:
                page.evaluate(
                    "async () => await window.jupyterapp.commands.execute('kernelmenu:shutdown')"
                )
            except Exception:
                pass
            browser.close()


def test_charts_show_offline_in_exported_html(tmp_path: Path) -> None:
    """A notebook executed with the defaults, exported by nbconvert, opened with no network."""
    nbclient = pytest.importorskip("nbclient")
    nbconvert = pytest.importorskip("nbconvert")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    html, _ = nbconvert.HTMLExporter().from_notebook_node(nb)
    page_path = tmp_path / "report.html"
    page_path.write_text(html, encoding="utf-8")
    blocked: list[str] = []

    def local_only(route, request) -> None:
        if request.url.startswith(("file:", "data:", "blob:")):
            route.continue_()
        else:
            blocked.append(request.url)
            route.abort()

    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 1400})
            page.route("**/*", local_only)
            page.goto(page_path.as_uri(), wait_until="load")
            embeds = page.locator(".vega-embed")
            sync_api.expect(embeds).to_have_count(2, timeout=30_000)
            for i in range(2):
                drawn = embeds.nth(i).locator("canvas, svg.marks").first
                drawn.wait_for(timeout=30_000)
                box = drawn.bounding_box()
                assert box is not None and box["width"] > 300
            assert not [u for u in blocked if "vega" in u], blocked
        finally:
            browser.close()


def test_a_reopened_untrusted_notebook_shows_the_static_copy(lab, tmp_path: Path) -> None:
    """Outputs saved by another process are untrusted in JupyterLab: scripts do not run, and
    the sanitised HTML still shows each chart's SVG copy."""
    nbclient = pytest.importorskip("nbclient")
    url, root = lab
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    nbformat.write(nb, root / "saved.ipynb")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 1400})
        page.route(
            "**/*",
            lambda route, req: (
                route.continue_() if req.url.startswith((url, "data:")) else route.abort()
            ),
        )
        try:
            page.goto(f"{url}/lab/tree/saved.ipynb?reset", wait_until="domcontentloaded")
            still = page.locator(".jp-OutputArea-output img.benchwork-static")
            sync_api.expect(still).to_have_count(2, timeout=60_000)
            for i in range(2):
                box = still.nth(i).bounding_box()
                assert box is not None and box["width"] > 300 and box["height"] > 100
            page.screenshot(path=str(tmp_path / "untrusted.png"))
            assert page.locator(".vega-embed").count() == 0  # no script ran
        finally:
            browser.close()
