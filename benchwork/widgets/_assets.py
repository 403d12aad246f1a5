"""Where the widgets' front-end files live: the wheel's ``benchwork/_widgets`` or the source tree."""

from __future__ import annotations

from pathlib import Path

__all__ = ["asset_path", "asset_text"]

_PACKAGE = Path(__file__).resolve().parents[1]
# the wheel (force-include widgets -> benchwork/_widgets), then the source tree / editable install
_ASSET_DIRS = (_PACKAGE / "_widgets", _PACKAGE.parent / "widgets")


def asset_path(name: str) -> Path:
    """Where a front-end file (``run_progress.js``, ``explorer.css``, ...) is installed."""
    for folder in _ASSET_DIRS:
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(
        f"benchwork widget asset {name!r} not found in {', '.join(map(str, _ASSET_DIRS))}"
    )


def asset_text(name: str) -> str:
    """The text of a front-end file (an anywidget ``_esm`` or ``_css``)."""
    return asset_path(name).read_text(encoding="utf-8")
