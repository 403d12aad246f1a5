"""Scheduled recurring runs (issue 13 item 7): add writes a crontab line that calls
``benchwork schedule run NAME``; that command runs the suite and renders its report; list and
remove keep the table and the crontab in step. Real processes, real HTTP to the sim."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import benchwork as bw
from benchwork.sim import SimModel, SimServer


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "benchwork", *args], capture_output=True,
                          text=True, timeout=300, cwd=cwd)  # fmt: skip


def test_schedule_add_run_list_remove(tmp_path: Path) -> None:
    suite = bw.Suite.from_records(
        [{"id": "a", "input": "What is 2?", "expected": "2"}], name="nightly"
    )
    suite_file = tmp_path / "nightly.yaml"
    suite.save(suite_file)
    cron = tmp_path / "crontab"
    cron.write_text("MAILTO=me@example.com\n0 1 * * * echo keep-me\n", encoding="utf-8")
    home = tmp_path / "home"
    with SimServer(
        [SimModel("m", ttft_s=0.0, itl_s=0.0)], answers=suite.expected_by_prompt()
    ) as sim:
        targets = tmp_path / "targets.yaml"
        targets.write_text(f"- model: openai/m\n  api_base: {sim.base_url}\n", encoding="utf-8")
        added = _cli("schedule", "add", "nightly", "--suite", str(suite_file), "--targets", str(targets),
                     "--every", "1d", "--report", "leaderboard", "--home", str(home), "--crontab", str(cron),
                     cwd=tmp_path)  # fmt: skip
        assert added.returncode == 0, added.stderr
        lines = cron.read_text(encoding="utf-8").splitlines()
        assert lines[:2] == ["MAILTO=me@example.com", "0 1 * * * echo keep-me"], (
            "other entries kept"
        )
        (entry,) = [ln for ln in lines if "benchwork-schedule:nightly" in ln]
        assert entry.startswith("0 3 * * * ") and "-m benchwork schedule run nightly" in entry

        # what cron would run, run now: the command from the crontab line itself
        command = entry[len("0 3 * * * ") : entry.index(" # benchwork-schedule:")]
        proc = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
    log = (tmp_path / "benchwork-schedule-nightly.log").read_text(encoding="utf-8")
    runs = bw.runs(home=home)
    assert runs.height == 1 and runs["suite"][0] == "nightly" and runs["run_id"][0] in log
    reports = list((tmp_path / "reports").glob("nightly-*.html"))
    assert len(reports) == 1 and runs["run_id"][0] in reports[0].read_text(encoding="utf-8")

    listed = _cli("schedule", "list", "--home", str(home), cwd=tmp_path)
    assert (
        "nightly: every 1d (0 3 * * *)" in listed.stdout and "report leaderboard" in listed.stdout
    )
    removed = _cli(
        "schedule", "remove", "nightly", "--home", str(home), "--crontab", str(cron), cwd=tmp_path
    )
    assert removed.returncode == 0
    assert cron.read_text(encoding="utf-8").splitlines() == [
        "MAILTO=me@example.com",
        "0 1 * * * echo keep-me",
    ]


def test_bad_schedules_are_one_line_errors(tmp_path: Path) -> None:
    suite = tmp_path / "s.yaml"
    suite.write_text("name: s\ncases: [{id: a, input: x}]\n", encoding="utf-8")
    bad_every = _cli("schedule", "add", "x", "--suite", str(suite), "--targets", str(suite),
                     "--every", "daily", "--crontab", str(tmp_path / "c"), cwd=tmp_path)  # fmt: skip
    assert bad_every.returncode == 2 and "--every 'daily'" in bad_every.stderr
    missing = _cli("schedule", "add", "x", "--suite", "nope.yaml", "--targets", str(suite),
                   "--every", "1h", "--crontab", str(tmp_path / "c"), cwd=tmp_path)  # fmt: skip
    assert missing.returncode == 2 and "suite file" in missing.stderr
    gone = _cli("schedule", "remove", "ghost", "--home", str(tmp_path), cwd=tmp_path)
    assert gone.returncode == 2 and "no schedule 'ghost'" in gone.stderr


def test_without_crontab_the_line_and_a_systemd_timer_are_printed(tmp_path: Path) -> None:
    from benchwork.reports import Schedule, systemd_units

    suite = tmp_path / "s.yaml"
    suite.write_text("name: s\ncases: [{id: a, input: x}]\n", encoding="utf-8")
    s = Schedule(
        name="hourly", suite=str(suite), targets=str(suite), every="6h", workdir=str(tmp_path)
    )
    units = systemd_units(s)
    assert "OnUnitActiveSec=6h" in units and "benchwork schedule run hourly" in units
    assert shlex.quote(sys.executable) in units
