"""CLI commands over the analysis subpackage (statistics on stored runs): compare."""

from __future__ import annotations

from typing import Any

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add the analysis subcommands to the ``benchwork`` parser (none yet; ``compare`` next)."""
    del sub
