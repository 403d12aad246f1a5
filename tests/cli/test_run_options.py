"""`benchwork run` parity for everyday runs (issue 15 item 5): --param, --case, --tag, --limit,
--no-save; bad values are one-line errors like a targets file's. Real HTTP to the sim."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import benchwork as bw
from benchwork.sim import SimModel, SimServer


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    with SimServer([SimModel("m", ttft_s=0.0, itl_s=0.0, tokens=3)]) as server:
        yield server


@pytest.fixture
def suite_file(tmp_path: Path) -> Path:
    cases = [
        {"id": f"c{i}", "input": f"q{i}", "tags": ["even" if i % 2 == 0 else "odd"]}
        for i in range(6)
    ]
    path = tmp_path / "s.yaml"
    bw.Suite.from_records(cases, name="s").save(path)
    return path


def _run(
    sim: SimServer, suite_file: Path, tmp_path: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "benchwork", "run", str(suite_file), "-m", "openai/m",
            "--api-base", sim.base_url, "--home", str(tmp_path / "home"),
            "--cache-dir", str(tmp_path / "cache"), "--quiet", *extra]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, timeout=120)


def test_param_case_tag_and_limit_choose_what_is_sent(
    sim: SimServer, suite_file: Path, tmp_path: Path
) -> None:
    sim.reset_log()
    proc = _run(sim, suite_file, tmp_path, "--param", "temperature=0.3", "--param", "max_tokens=2",
                "--param", "seed=7", "--tag", "even", "--limit", "2")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    sent = sim.requests
    assert sorted(r["prompt"] for r in sent) == ["q0", "q2"]  # even tags, first two
    assert all(
        r["params"].get("temperature") == 0.3 and r["params"].get("max_tokens") == 2 for r in sent
    )
    assert all(r["params"].get("seed") == 7 for r in sent)  # read as a number, not text
    sim.reset_log()
    proc = _run(sim, suite_file, tmp_path, "--case", "c5", "--case", "c1")
    assert proc.returncode == 0 and sorted(r["prompt"] for r in sim.requests) == ["q1", "q5"]


def test_no_save_keeps_no_run_but_still_caches(
    sim: SimServer, suite_file: Path, tmp_path: Path
) -> None:
    sim.reset_log()
    first = _run(sim, suite_file, tmp_path, "--no-save")
    assert first.returncode == 0 and "not saved (--no-save)" in first.stdout
    assert not (tmp_path / "home" / "runs").exists() or not any(
        (tmp_path / "home" / "runs").iterdir()
    )
    assert len(sim.requests) == 6
    sim.reset_log()
    again = _run(sim, suite_file, tmp_path)
    assert again.returncode == 0 and sim.requests == [], "the --no-save run's calls were cached"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--param", "temperature"], "--param 'temperature': write NAME=VALUE"),
        (["--param", "api_key=sk-123456789"], "do not put an API key in params"),
        (["--case", "nope"], "no case with id 'nope'"),
        (["--tag", "missing"], "missing"),
        (["--limit", "0"], "--limit must be >= 1"),
    ],
)
def test_bad_options_are_one_line_errors(sim: SimServer, suite_file: Path, tmp_path: Path,
                                         extra: list[str], message: str) -> None:  # fmt: skip
    sim.reset_log()
    proc = _run(sim, suite_file, tmp_path, *extra)
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and message in lines[0] and "sk-123456789" not in proc.stderr
    assert sim.requests == []
