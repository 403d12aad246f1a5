"""Executing a template with papermill, then exporting it: HTML without code, and PDF.

HTML comes from nbconvert with inputs and prompts left out (readers see text, tables and
charts); charts are already inline SVG or PNG in the outputs, so the file needs no network.
PDF is that HTML printed by Debian's headless Chromium (the same browser the widget tests
drive), which keeps charts and text selectable.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from benchwork.errors import BenchworkError
from benchwork.reports._params import check_params
from benchwork.reports._templates import template_parameters, template_path

__all__ = ["export_html", "export_pdf", "report"]

_CDN_SCRIPT = re.compile(
    r"<script[^>]*\bsrc=[\"']https?://[^\"']*[\"'][^>]*>\s*</script>", re.IGNORECASE
)
CHROMIUM = os.environ.get("BENCHWORK_CHROMIUM", "/usr/bin/chromium")


def report(
    template: str | Path,
    out: str | Path | None = None,
    *,
    html: bool = False,
    pdf: bool = False,
    kernel: str = "python3",
    timeout_s: float = 600.0,
    **params: Any,
) -> Path:
    """Execute *template* with *params* into the notebook *out*; optionally export HTML/PDF.

    Parameters are checked against the template's parameters cell before any kernel starts.
    Returns the executed notebook's path; the HTML/PDF files sit beside it, and the reported
    tables as CSV and JSON in ``<out>-tables/`` (bundled templates).
    """
    import papermill

    path = template_path(template)
    target = Path(out) if out is not None else Path.cwd() / f"{path.stem}-report.ipynb"
    known = template_parameters(path)  # the parameters cell, read once
    if "tables_dir" not in params and "tables_dir" in known:
        params = {**params, "tables_dir": str(target.with_name(f"{target.stem}-tables"))}
    checked = check_params(path, params, known)
    target.parent.mkdir(parents=True, exist_ok=True)
    papermill.execute_notebook(
        str(path),
        str(target),
        parameters=checked,
        kernel_name=kernel,
        cwd=str(Path.cwd()),
        progress_bar=False,
        execution_timeout=int(timeout_s),
        report_mode=True,  # papermill hides the injected-parameters source in exports too
    )
    if html or pdf:
        page = export_html(target)
        if pdf:
            export_pdf(page)
    return target


def export_html(notebook: str | Path, *, code: bool = False) -> Path:
    """``<notebook>.html``: outputs only (no code, no prompts), self-contained (no CDN).

    Each benchwork widget shows its last saved state as static HTML (a widget manager would
    need scripts from a CDN); *code* keeps the cells' source, for a notebook rather than a report.
    """
    import nbformat
    from nbconvert import HTMLExporter

    from benchwork.widgets import WIDGET_VIEW_MIME, replace_widget_views

    notebook = Path(notebook)
    exporter = HTMLExporter(
        exclude_input=not code, exclude_input_prompt=not code, exclude_output_prompt=True
    )
    nb = nbformat.read(notebook, as_version=4)
    replace_widget_views(nb)
    views = (
        o for c in nb.cells for o in c.get("outputs", []) if WIDGET_VIEW_MIME in o.get("data", {})
    )
    if next(views, None) is None:  # nothing left for a widget manager: do not load one
        nb.metadata.pop("widgets", None)
    body, _ = exporter.from_notebook_node(nb)
    # nbconvert's page loads require.js and MathJax from CDNs; a report needs neither (charts
    # are inline SVG, text is Markdown), and a self-contained file must not reach out
    body = _CDN_SCRIPT.sub("", body)
    page = notebook.with_suffix(".html")
    page.write_text(body, encoding="utf-8")
    return page


def export_pdf(page: str | Path) -> Path:
    """``<page>.pdf``: the HTML printed by headless Chromium (no network needed)."""
    page = Path(page).resolve()
    browser = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if not browser:
        raise BenchworkError(
            "PDF export needs Chromium: apt-get install chromium (or set BENCHWORK_CHROMIUM)"
        )
    pdf = page.with_suffix(".pdf")
    cmd = [
        browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
        f"--print-to-pdf={pdf}", page.as_uri(),
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0 or not pdf.is_file():
        raise BenchworkError(f"PDF export failed: {proc.stderr.strip()[-300:]}")
    return pdf
