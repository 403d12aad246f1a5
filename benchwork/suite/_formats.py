"""What the suite file formats share: extensions, and the CSV columns that cannot act.

Used by both :mod:`benchwork.suite._read` and :mod:`benchwork.suite._write`.
"""

from __future__ import annotations

from pathlib import Path

from benchwork.errors import SuiteError

__all__ = ["FORMATS"]

#: File extension -> format name.
FORMATS = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".jsonl": "jsonl", ".csv": "csv"}
_CSV_RESERVED = ("system", "template", "tools")  # columns a user may expect to act; CSV can't


def _format_of(source: str) -> str:
    suffix = Path(source).suffix.lower()
    if suffix in FORMATS:
        return FORMATS[suffix]
    what = f"unsupported file extension {suffix!r}" if suffix else "no file extension"
    raise SuiteError(f"{what}; supported: {', '.join(FORMATS)}", source=source)
