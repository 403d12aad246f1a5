"""The command line: one module per command group; ``benchwork`` and ``python -m benchwork``."""

from benchwork.cli._main import main

__all__ = ["main"]
