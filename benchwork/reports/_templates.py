"""Where report templates live and which parameters each one takes (read by papermill)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchwork.errors import BenchworkError

__all__ = ["TEMPLATES", "template_parameters", "template_path"]

#: the bundled templates, by name
TEMPLATES = ("leaderboard", "comparison", "speed")

_PACKAGE = Path(__file__).resolve().parents[1]
# the wheel (force-include templates -> benchwork/_templates), then the source tree
_DIRS = (_PACKAGE / "_templates", _PACKAGE.parent / "templates")


def template_path(template: str | Path) -> Path:
    """A bundled template by name (``leaderboard``), or a notebook path."""
    path = Path(template)
    if path.suffix == ".ipynb":
        if not path.is_file():
            raise BenchworkError(f"report template {str(path)!r} not found")
        return path
    for folder in _DIRS:
        candidate = folder / f"{template}.ipynb"
        if candidate.is_file():
            return candidate
    raise BenchworkError(
        f"unknown report template {str(template)!r}; use one of {', '.join(TEMPLATES)} "
        "or a path to a .ipynb file"
    )


def template_parameters(template: str | Path) -> dict[str, dict[str, Any]]:
    """The template's parameters: ``{name: {"type", "default", "help"}}`` (its parameters cell)."""
    import papermill

    found = papermill.inspect_notebook(str(template_path(template)))
    return {
        name: {
            "type": info.get("inferred_type_name") or "str",
            "default": info.get("default"),
            "help": info.get("help") or "",
        }
        for name, info in found.items()
    }
