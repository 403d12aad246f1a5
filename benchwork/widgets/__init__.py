"""Notebook widgets (anywidget): the Python side; front-end sources live in the top-level widgets/."""

from benchwork.widgets._progress import RunProgress, asset_path

__all__ = ["RunProgress", "asset_path"]
