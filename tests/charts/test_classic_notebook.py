"""Charts show with the network cut in the classic Notebook UI (nbclassic) and Notebook 7.

Issue 11 item 2 ("offline, everywhere"): JupyterLab is covered by test_browser.py; here the
same notebook (import benchwork, two charts with the default renderer) runs in the classic
front end and in Jupyter Notebook 7, in headless Debian Chromium via Playwright, with every
request that does not go to the local server aborted and recorded. The test waits for vega to
draw both charts and asserts that no request left localhost.

Trust, as a user meets it: outputs made in the browser session are trusted, so their
scripts run and the charts are interactive (the classic toolbar still shows "Not Trusted"
for the new notebook; the charts draw regardless). A notebook executed elsewhere
(papermill, nbclient) and opened in the classic UI is untrusted: its scripts do not run and
the sanitised HTML shows each chart's static SVG copy; after ``jupyter trust NAME.ipynb``
(run with the server's JUPYTER_DATA_DIR, where the signatures live) and a reload, the
interactive charts draw.

One server for both UIs: ``python -m jupyter_server`` loads every enabled extension; with
``notebook`` 7 installed nbclassic serves under ``/nbclassic`` (``nbclassic.nbclassic_path()``).
Skipped only when /usr/bin/chromium, playwright or the front end's package is missing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support import BROWSER_ARGS, CHROMIUM, jupyter_server, write_notebook

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


@pytest.fixture(scope="session")
def classic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, dict[str, str]]]:
    """A Jupyter server with the classic UI (and Notebook 7 if installed): URL, root, env.

    Fresh config, runtime, data and settings dirs; no token; a free port."""
    pytest.importorskip("nbclassic", reason="nbclassic not installed (pip install nbclassic)")
    args = ["--JupyterNotebookApp.expose_app_in_browser=True", "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]  # fmt: skip
    base = tmp_path_factory.mktemp("classic")
    with jupyter_server(base, "jupyter_server", args, data_dir=True) as server:
        yield server


def _shutdown_kernels(url: str) -> None:
    """Delete every session (and so its kernel) on the test's own server."""
    with urllib.request.urlopen(f"{url}/api/sessions", timeout=10) as r:
        sessions = json.load(r)
    for s in sessions:
        req = urllib.request.Request(f"{url}/api/sessions/{s['id']}", method="DELETE")
        urllib.request.urlopen(req, timeout=30).close()


def _offline_page(browser: Any, url: str, blocked: list[str]) -> Any:
    """A page that may reach only the server at *url*; every other request is recorded."""
    page = browser.new_page(viewport={"width": 1200, "height": 1400})

    def only_server(route: Any, request: Any) -> None:
        if request.url.startswith(url) or request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            blocked.append(request.url)
            route.abort()

    page.route("**/*", only_server)
    return page


def _assert_drawn(embeds: Any) -> None:
    """vega drew each of two charts: a canvas or SVG with marks, of a real size."""
    sync_api.expect(embeds).to_have_count(2, timeout=60_000)
    for i in range(2):
        drawn = embeds.nth(i).locator("canvas, svg.marks").first
        drawn.wait_for(timeout=30_000)
        box = drawn.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 100, box
        if drawn.evaluate("e => e.tagName.toLowerCase()") == "svg":
            assert drawn.locator("path, rect, text").count() > 0


def _tooltip_on_hover(page: Any, embed: Any) -> str:
    """Hover the first chart's bars until vega-tooltip shows; its text ('' if never)."""
    box = embed.locator("canvas, svg.marks").first.bounding_box()
    assert box is not None
    tip = page.locator("#vg-tooltip-element")
    for fy in (0.25, 0.35, 0.45, 0.55, 0.65):
        page.mouse.move(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * fy)
        page.wait_for_timeout(300)
        if tip.count() and "target" in (tip.inner_text() or ""):
            return tip.inner_text()
    return ""


def _in_browser(
    classic: tuple[str, Path, dict[str, str]], check: Callable[[Any, list[str]], None]
) -> None:
    """Run *check(browser, blocked)*; then shut the kernels down and close the browser."""
    url = classic[0]
    blocked: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)
        try:
            check(browser, blocked)
        finally:
            try:
                _shutdown_kernels(url)
            except OSError:
                pass
            browser.close()
    assert blocked == [], f"requests that left localhost: {blocked}"


def test_charts_show_offline_in_nbclassic(classic, tmp_path: Path) -> None:
    """Run all cells in the classic UI: both charts draw with vega, tooltips work, no
    request leaves localhost, the static copies are removed by the scripts."""
    from nbclassic import nbclassic_path

    url, root, _ = classic
    write_notebook(root / "charts.ipynb", CELLS)

    def check(browser: Any, blocked: list[str]) -> None:
        page = _offline_page(browser, url, blocked)
        page.goto(f"{url}{nbclassic_path()}/notebooks/charts.ipynb", wait_until="domcontentloaded")
        page.wait_for_function(
            "() => window.Jupyter?.notebook?.kernel?.is_connected?.() === true", timeout=90_000
        )
        page.evaluate("() => { window.Jupyter.notebook.execute_all_cells(); }")
        sync_api.expect(page.get_by_text("renderer benchwork")).to_be_visible(timeout=90_000)
        _assert_drawn(page.locator(".output_area .vega-embed"))
        assert page.locator(".output_area img.benchwork-static").count() == 0
        assert page.get_by_text("chart error").count() == 0
        tip = _tooltip_on_hover(page, page.locator(".output_area .vega-embed").first)
        page.screenshot(path=str(tmp_path / "nbclassic.png"))
        assert "target" in tip and "rank" in tip, tip

    _in_browser(classic, check)


def test_charts_show_offline_in_notebook7(classic, tmp_path: Path) -> None:
    """The same notebook in Jupyter Notebook 7 (the successor of the classic UI)."""
    pytest.importorskip("notebook.app", reason="Notebook 7 not installed (pip install notebook)")
    url, root, _ = classic
    write_notebook(root / "charts7.ipynb", CELLS)

    def check(browser: Any, blocked: list[str]) -> None:
        page = _offline_page(browser, url, blocked)
        page.goto(f"{url}/notebooks/charts7.ipynb", wait_until="domcontentloaded")
        page.wait_for_function(
            "() => window.jupyterapp?.shell.currentWidget?.sessionContext?.session"
            "?.kernel?.status === 'idle'",
            timeout=90_000,
        )
        page.evaluate(
            "async () => await window.jupyterapp.commands.execute('notebook:run-all-cells')"
        )
        sync_api.expect(page.get_by_text("renderer benchwork")).to_be_visible(timeout=90_000)
        _assert_drawn(page.locator(".jp-OutputArea-output .vega-embed"))
        assert page.locator(".jp-OutputArea-output img.benchwork-static").count() == 0
        assert page.get_by_text("chart error").count() == 0
        tip = _tooltip_on_hover(page, page.locator(".jp-OutputArea-output .vega-embed").first)
        page.screenshot(path=str(tmp_path / "notebook7.png"))
        assert "target" in tip and "rank" in tip, tip

    _in_browser(classic, check)


def test_a_saved_notebook_in_nbclassic_shows_static_then_trusted_interactive(
    classic, tmp_path: Path
) -> None:
    """Executed elsewhere (nbclient), the notebook opens untrusted in the classic UI: no script
    runs and each chart shows as its static SVG copy. ``jupyter trust`` then a reload: the
    interactive charts draw, still with no request leaving localhost."""
    nbclient = pytest.importorskip("nbclient")
    from nbclassic import nbclassic_path

    url, root, env = classic
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbclient.NotebookClient(nb, timeout=180, kernel_name="python3").execute()
    nbformat.write(nb, root / "saved.ipynb")

    def check(browser: Any, blocked: list[str]) -> None:
        page = _offline_page(browser, url, blocked)
        page.goto(f"{url}{nbclassic_path()}/notebooks/saved.ipynb", wait_until="domcontentloaded")
        still = page.locator(".output_area img.benchwork-static")
        sync_api.expect(still).to_have_count(2, timeout=90_000)
        for i in range(2):
            assert still.nth(i).evaluate("img => img.complete && img.naturalWidth") > 300
            box = still.nth(i).bounding_box()
            assert box is not None and box["width"] > 300 and box["height"] > 100, box
        assert page.locator(".vega-embed").count() == 0  # no script ran
        assert page.evaluate("() => window.Jupyter.notebook.trusted") is False
        page.screenshot(path=str(tmp_path / "untrusted.png"))

        done = subprocess.run(
            [sys.executable, "-m", "jupyter", "trust", str(root / "saved.ipynb")],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        page.reload(wait_until="domcontentloaded")
        _assert_drawn(page.locator(".output_area .vega-embed"))
        assert page.evaluate("() => window.Jupyter.notebook.trusted") is True
        assert page.locator(".output_area img.benchwork-static").count() == 0
        page.screenshot(path=str(tmp_path / "trusted.png"))

    _in_browser(classic, check)
