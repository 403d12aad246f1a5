"""Scheduled recurring runs: a suite run on a timer, each run followed by its report.

``benchwork schedule add NAME --suite S --targets T --every 1d [--report leaderboard]`` keeps
the schedule in ``<home>/schedules.json`` and installs one crontab line that calls
``benchwork schedule run NAME`` (which runs the suite, then renders the report for that run).
Without a ``crontab`` command it prints the line and an equivalent systemd timer instead.
Runs of one suite share its name, so ``benchwork trends SUITE`` reads them.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchwork.errors import BenchworkError

__all__ = [
    "Schedule",
    "cron_line",
    "describe",
    "load_schedules",
    "remove_schedule",
    "save_schedule",
    "systemd_units",
]

MARK = "# benchwork-schedule:"
_EVERY = re.compile(r"^(\d+)([mhdw])$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class Schedule:
    """One recurring run: what to run, how often, and which report to render after it."""

    name: str
    suite: str
    targets: str
    every: str
    report: str | None = None
    home: str | None = None
    workdir: str = "."

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise BenchworkError(f"schedule name {self.name!r}: use letters, digits, '.', '_', '-'")
        if not _EVERY.match(self.every):
            raise BenchworkError(
                f"--every {self.every!r}: give a count and a unit, e.g. 30m, 6h, 1d or 1w"
            )
        for label, path in (("suite", self.suite), ("targets", self.targets)):
            if not Path(path).is_file():
                raise BenchworkError(f"schedule {self.name!r}: {label} file {path!r} not found")


def _cron_time(every: str) -> str:
    found = _EVERY.match(every)
    assert found is not None
    n, unit = int(found.group(1)), found.group(2)
    if unit == "m":
        return f"*/{n} * * * *" if n > 1 else "* * * * *"
    if unit == "h":
        return f"0 */{n} * * *" if n > 1 else "0 * * * *"
    if unit == "d":
        return f"0 3 */{n} * *" if n > 1 else "0 3 * * *"
    return "0 3 * * 1" if n == 1 else f"0 3 */{7 * n} * *"


def _command(s: Schedule) -> str:
    home = f" --home {shlex.quote(s.home)}" if s.home else ""
    log = shlex.quote(str(Path(s.workdir) / f"benchwork-schedule-{s.name}.log"))
    return (
        f"cd {shlex.quote(s.workdir)} && {shlex.quote(sys.executable)} -m benchwork schedule run "
        f"{shlex.quote(s.name)}{home} >> {log} 2>&1"
    )


def cron_line(s: Schedule) -> str:
    """The crontab line for *s*, ending with a marker that names it."""
    return f"{_cron_time(s.every)} {_command(s)} {MARK}{s.name}"


def systemd_units(s: Schedule) -> str:
    """A systemd service and timer doing what the crontab line does (for hosts without cron)."""
    found = _EVERY.match(s.every)
    assert found is not None
    n, unit = found.group(1), {"m": "min", "h": "h", "d": "d", "w": "w"}[found.group(2)]
    return (
        f"# ~/.config/systemd/user/benchwork-{s.name}.service\n[Unit]\n"
        f"Description=benchwork schedule {s.name}\n\n[Service]\nType=oneshot\n"
        f"ExecStart=/bin/sh -c {shlex.quote(_command(s))}\n\n"
        f"# ~/.config/systemd/user/benchwork-{s.name}.timer\n[Timer]\nOnBootSec=5min\n"
        f"OnUnitActiveSec={n}{unit}\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n"
        f"# then: systemctl --user enable --now benchwork-{s.name}.timer\n"
    )


def _store(home: str | Path | None) -> Path:
    from benchwork.store import default_home

    return (Path(home) if home else default_home()) / "schedules.json"


def load_schedules(home: str | Path | None = None) -> dict[str, Schedule]:
    path = _store(home)
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {name: Schedule(**fields) for name, fields in data.items()}
    except (ValueError, TypeError) as exc:
        raise BenchworkError(f"{path}: not a schedules file ({exc}); fix or delete it") from None


def _write(home: str | Path | None, schedules: dict[str, Schedule]) -> None:
    path = _store(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {name: asdict(s) for name, s in schedules.items()}
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def _crontab_read(crontab: Path | None) -> list[str]:
    if crontab is not None:
        return crontab.read_text(encoding="utf-8").splitlines() if crontab.exists() else []
    proc = subprocess.run(["crontab", "-l"], capture_output=True, text=True)
    return proc.stdout.splitlines() if proc.returncode == 0 else []


def _crontab_write(crontab: Path | None, lines: list[str]) -> None:
    text = "\n".join(lines) + ("\n" if lines else "")
    if crontab is not None:
        crontab.write_text(text, encoding="utf-8")
        return
    proc = subprocess.run(["crontab", "-"], input=text, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BenchworkError(f"crontab refused the new table: {proc.stderr.strip()}")


def cron_available(crontab: Path | None = None) -> bool:
    return crontab is not None or shutil.which("crontab") is not None


def save_schedule(s: Schedule, *, crontab: Path | None = None) -> str:
    """Store *s* and install its crontab line (replacing one of the same name).

    Returns what was done, for the terminal: the installed line, or, with no ``crontab``
    command, the line and a systemd timer to install by hand.
    """
    schedules = load_schedules(s.home)
    schedules[s.name] = s
    _write(s.home, schedules)
    line = cron_line(s)
    if not cron_available(crontab):
        return (
            "no crontab command here: add this line with 'crontab -e',\n"
            f"{line}\nor install this systemd timer:\n{systemd_units(s)}"
        )
    kept = [ln for ln in _crontab_read(crontab) if not ln.endswith(f"{MARK}{s.name}")]
    _crontab_write(crontab, [*kept, line])
    return f"installed: {line}"


def remove_schedule(
    name: str, home: str | Path | None = None, *, crontab: Path | None = None
) -> None:
    schedules = load_schedules(home)
    if name not in schedules:
        known = ", ".join(sorted(schedules)) or "none"
        raise BenchworkError(f"no schedule {name!r} (schedules: {known})")
    del schedules[name]
    _write(home, schedules)
    if cron_available(crontab):
        lines = _crontab_read(crontab)
        _crontab_write(crontab, [ln for ln in lines if not ln.endswith(f"{MARK}{name}")])


def describe(s: Schedule) -> dict[str, Any]:
    return {**asdict(s), "cron": _cron_time(s.every)}
