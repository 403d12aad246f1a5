"""Report templates executed by papermill against runs made here over real HTTP (issue 13).

Checks what a reader and a reviewer rely on: code-free HTML with intervals, narrative that
the statistics support, a provenance/citation block whose content hash is the hash of the
reported numbers, checked parameters, a PDF with text, and offline replay that gives the
same numbers with networking actually blocked.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import nbformat
import polars as pl
import pytest

import benchwork as bw
from benchwork.errors import BenchworkError
from benchwork.reports import content_hash, report
from benchwork.sim import SimModel, SimServer

HASH = re.compile(r"Content hash of the reported numbers:\*\* `(sha256:[0-9a-f]{64})`")


def _text(nb_path: Path) -> str:
    nb = nbformat.read(nb_path, as_version=4)
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            parts.extend(str(v) for v in out.get("data", {}).values())
    return "\n".join(parts)


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """One run of two targets (always right / always wrong) on 12 cases, plus its files."""
    root = tmp_path_factory.mktemp("reports")
    cases = [
        {"id": f"q{i}", "input": f"What is {i} times 3?", "expected": str(3 * i)} for i in range(12)
    ]
    suite = bw.Suite.from_records(cases, name="triples")
    suite_file = root / "triples.yaml"
    suite.save(suite_file)
    models = [SimModel("right", ttft_s=0.01, itl_s=0.001, seed=1),
              SimModel("wrong", ttft_s=0.02, itl_s=0.001, accuracy=0.0, seed=2)]  # fmt: skip
    with SimServer(models, answers=suite.expected_by_prompt()) as sim:
        targets_file = root / "targets.yaml"
        targets_file.write_text(
            "".join(f"- model: openai/{m.name}\n  name: {m.name}\n  api_base: {sim.base_url}\n"
                    "  input_per_mtok: 1\n  output_per_mtok: 2\n" for m in models),
            encoding="utf-8",
        )  # fmt: skip
        targets = bw.target.load_targets(targets_file)
        run = bw.run_sync(
            suite, targets, home=root / "home", cache_dir=root / "cache", progress=False
        )
    assert run.counts["errors"] == 0
    yield {"run": run, "root": root, "suite": suite_file, "targets": targets_file}


@pytest.mark.parametrize("template", ["leaderboard", "comparison", "speed"])
def test_template_renders_code_free_html_with_provenance(
    made: dict, template: str, tmp_path: Path
) -> None:
    run, root = made["run"], made["root"]
    out = report(template, tmp_path / f"{template}.ipynb", html=True, run_ids=run.id,
                 home=str(root / "home"))  # fmt: skip
    text = _text(out)
    html = out.with_suffix(".html").read_text(encoding="utf-8")
    assert "import benchwork" not in html and "as_run_ids(" not in html, "code shows in the export"
    for needle in (run.id, run.manifest["suite_hash"], "openai/right", "litellm",
                   "provider reported model right", "system_fingerprint fp_sim_1"):  # fmt: skip
        assert needle in text and needle in html, needle
    found = HASH.search(text)
    assert found and found.group(1) in html and "@misc{" in text  # citation block and BibTeX
    assert '<script src="https://' not in html and "cdn.jsdelivr" not in html
    if template in ("leaderboard", "comparison"):
        assert "right beats wrong on exact by 100 points" in text
        assert "Holm p < 0.001" in text
    if template == "leaderboard":
        assert re.search(r"100% \[\d+, 100\]", text), "scores carry their interval"
        tables = tmp_path / "leaderboard-tables"
        lb = pl.read_json(tables / "table1.json")
        assert set(lb["target"]) == {"right", "wrong"} and (tables / "table1.csv").is_file()
        expected = bw.analysis.leaderboard(run.results, confidence=0.95)
        assert lb["score_exact_lo"].to_list() == expected["score_exact_lo"].to_list()


def test_the_content_hash_is_the_hash_of_the_reported_numbers(made: dict, tmp_path: Path) -> None:
    run, root = made["run"], made["root"]
    hashes = []
    for i in range(2):
        out = report(
            "leaderboard", tmp_path / f"l{i}.ipynb", run_ids=[run.id], home=str(root / "home")
        )
        found = HASH.search(_text(out))
        assert found, "no content hash in the report"
        hashes.append(found.group(1))
    lb = bw.analysis.leaderboard(run.results, confidence=0.95)
    pairs = bw.analysis.compare_targets(run.results, alpha=0.05)
    assert hashes[0] == hashes[1] == content_hash(lb, pairs)


def test_bad_parameters_fail_before_a_kernel_starts(made: dict) -> None:
    with pytest.raises(BenchworkError, match=r"unknown report parameter 'alhpa'.*alpha \(float"):
        report("leaderboard", alhpa=0.1)
    with pytest.raises(BenchworkError, match="'alpha' expects a number between 0 and 1"):
        report("leaderboard", alpha=2)
    with pytest.raises(BenchworkError, match="'cache' expects one of use, refresh, off, replay"):
        report("leaderboard", cache="sometimes")
    with pytest.raises(BenchworkError, match="unknown report template 'leaderbord'"):
        report("leaderbord")
    proc = subprocess.run([sys.executable, "-m", "benchwork", "report", "leaderboard", "-p", "alpha", "x"],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 2 and "parameter 'alpha' expects float, got 'x'" in proc.stderr


@pytest.mark.skipif(
    not Path("/usr/bin/chromium").exists(), reason="PDF export needs Debian chromium"
)
def test_cli_writes_html_and_a_pdf_with_text(made: dict, tmp_path: Path) -> None:
    pypdf = pytest.importorskip("pypdf")
    run, root = made["run"], made["root"]
    out = tmp_path / "lb.ipynb"
    proc = subprocess.run(
        [sys.executable, "-m", "benchwork", "report", "leaderboard", "-p", "run_ids", run.id,
         "-p", "home", str(root / "home"), "-o", str(out), "--html", "--pdf"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    reader = pypdf.PdfReader(str(out.with_suffix(".pdf")))
    # NFKC: the typesetter joins "ff"/"fi" into one ligature glyph, and run ids are hex
    text = unicodedata.normalize("NFKC", " ".join(page.extract_text() for page in reader.pages))
    assert len(reader.pages) >= 1 and "Leaderboard" in text and run.id in text
    # the charts are in the PDF as vectors: their own text (axis titles, subtitles) is there
    assert "cost per call (USD)" in text and "whiskers: 95% interval" in text


@pytest.mark.skipif(
    shutil.which("unshare") is None or os.geteuid() != 0, reason="needs unshare -n (root)"
)
def test_offline_replay_gives_the_same_numbers_with_the_network_blocked(
    made: dict, tmp_path: Path
) -> None:
    root = made["root"]
    env = {
        **os.environ,
        "BENCHWORK_CACHE_DIR": str(root / "cache"),
        "BENCHWORK_HOME": str(tmp_path / "h"),
    }

    def offline(suite_file: Path, out: Path) -> subprocess.CompletedProcess[str]:
        cmd = (f"ip link set lo up && {sys.executable} -m benchwork report leaderboard "
               f"-p suite {suite_file} -p targets_file {made['targets']} -p cache replay -o {out}")  # fmt: skip
        return subprocess.run(["unshare", "-n", "sh", "-c", cmd], capture_output=True, text=True,
                              timeout=300, env=env, cwd=tmp_path)  # fmt: skip

    hashes = []
    for i in range(2):
        proc = offline(made["suite"], tmp_path / f"r{i}.ipynb")
        assert proc.returncode == 0, proc.stderr[-2000:]
        hashes.append(HASH.search(_text(tmp_path / f"r{i}.ipynb")).group(1))  # type: ignore[union-attr]
    assert hashes[0] == hashes[1]

    # a call that is not in the cache fails, naming the case and the target
    grown = bw.Suite.load(made["suite"])
    extra = bw.Suite(
        name=grown.name, cases=[*grown.cases, bw.Case(id="new-case", input="What is 100 times 3?")]
    )
    extra_file = tmp_path / "grown.yaml"
    extra.save(extra_file)
    proc = offline(extra_file, tmp_path / "missing.ipynb")
    assert proc.returncode != 0
    assert "case 'new-case'" in proc.stderr and "right" in proc.stderr


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs Debian chromium")
def test_exported_html_shows_charts_and_tables_offline_in_chromium(
    made: dict, tmp_path: Path
) -> None:
    """The HTML export opened in headless Chromium with every non-file request refused."""
    sync_api = pytest.importorskip("playwright.sync_api")
    from support import BROWSER_ARGS, CHROMIUM

    run, root = made["run"], made["root"]
    out = report(
        "leaderboard", tmp_path / "lb.ipynb", html=True, run_ids=run.id, home=str(root / "home")
    )
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
            page.goto(out.with_suffix(".html").as_uri())
            charts = page.locator('img[src^="data:image/svg+xml"]')  # inline, no file fetched
            assert charts.count() >= 2  # the leaderboard and cost-quality charts
            for i in range(charts.count()):
                sync_api.expect(charts.nth(i)).to_be_visible()
                assert charts.nth(i).evaluate("img => img.complete && img.naturalWidth > 0")
            table = page.locator("table", has_text="TTFT p50")
            sync_api.expect(table.first).to_be_visible()
            sync_api.expect(table.first.locator("tr", has_text="right")).to_have_count(1)
            sync_api.expect(page.get_by_text("right beats wrong on exact")).to_be_visible()
        finally:
            browser.close()
    assert refused == [], refused
