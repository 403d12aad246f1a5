"""papermill executes templates/report.ipynb against a run made here; no key leaks into it."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import papermill
import pytest

import benchwork as bw
from benchwork.sim import SimModel, SimServer

TEMPLATE = Path(__file__).resolve().parents[2] / "templates" / "report.ipynb"
SENTINEL = "sk-bw-SENTINEL-7f3a9c1e-do-not-leak"
KEY_ENV = "BW_REPORT_TEST_KEY"


def _outputs_text(nb: nbformat.NotebookNode) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            parts.extend(str(v) for v in out.get("data", {}).values())
    return "\n".join(parts)


def test_report_template_executes_under_papermill(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, SENTINEL)  # the kernel papermill starts inherits it too
    home = tmp_path / "home"
    suite = bw.Suite.from_records(
        [
            {"id": f"sq{i}", "input": f"What is {i} squared?", "expected": str(i * i)}
            for i in range(6)
        ],
        name="squares",
    )
    models = [SimModel("alpha", ttft_s=0.01, itl_s=0.002, seed=1),
              SimModel("beta", ttft_s=0.02, itl_s=0.002, accuracy=0.5, seed=2)]  # fmt: skip
    with SimServer(models, answers=suite.expected_by_prompt(), require_api_key=SENTINEL) as sim:
        targets = [
            bw.Target(f"openai/{m.name}", name=f"{m.name}-target", api_base=sim.base_url,
                      api_key_env=KEY_ENV)
            for m in models
        ]  # fmt: skip
        run = bw.run_sync(suite, targets, cache="off", home=home, progress=False)
    assert run.status == "finished" and run.counts["errors"] == 0  # the key reached the sim

    out = tmp_path / "report.ipynb"
    papermill.execute_notebook(
        str(TEMPLATE),
        str(out),
        parameters={"run_ids": [run.id], "home": str(home), "title": "Squares report"},
        kernel_name="python3",
        cwd=str(tmp_path),
        progress_bar=False,
        execution_timeout=120,
    )
    raw = out.read_text(encoding="utf-8")
    nb = nbformat.reads(raw, as_version=4)
    tags = [c.metadata.get("tags", []) for c in nb.cells]
    assert ["parameters"] in tags and ["injected-parameters"] in tags
    text = _outputs_text(nb)
    assert "Squares report" in text
    assert run.id in text
    assert suite.hash in text
    for name in ("alpha-target", "beta-target", "openai/alpha", "openai/beta"):
        assert name in text
    assert bw.__version__ in text  # provenance: package versions
    assert any("image/svg+xml" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
    # the key is read at call time and never written: not in the report, not in the run files
    assert SENTINEL not in raw
    for path in (home / "runs" / run.id).iterdir():
        if path.suffix in (".json", ".jsonl"):
            assert SENTINEL not in path.read_text(encoding="utf-8"), path.name


@pytest.mark.parametrize("form", ["json-list", "comma-separated"])
def test_papermill_cli_takes_run_ids_as_a_string(tmp_path: Path, form: str) -> None:
    """`papermill ... -p run_ids '["<id>"]'` (the form the template's own error suggested)
    passed a string, and the template looped over its characters ("no run '['")."""
    import subprocess
    import sys

    home = tmp_path / "home"
    suite = bw.Suite.from_records([{"id": "a", "input": "What is 1?", "expected": "1"}], name="one")
    with SimServer(
        [SimModel("gamma", ttft_s=0.0, itl_s=0.0)], answers=suite.expected_by_prompt()
    ) as sim:
        target = bw.Target("openai/gamma", api_base=sim.base_url, api_key_env=KEY_ENV)
        ids = [
            bw.run_sync(suite, target, cache="off", home=home, progress=False).id for _ in range(2)
        ]
    value = json.dumps(ids) if form == "json-list" else " , ".join(ids)
    out = tmp_path / "report.ipynb"
    proc = subprocess.run(
        [sys.executable, "-m", "papermill", str(TEMPLATE), str(out), "-p", "run_ids", value,
         "-p", "home", str(home), "-k", "python3", "--cwd", str(tmp_path), "--no-progress-bar"],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = _outputs_text(nbformat.reads(out.read_text(encoding="utf-8"), as_version=4))
    assert all(run_id in text for run_id in ids)
