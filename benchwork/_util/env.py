"""Where API keys are read from: the environment, then a ``.env`` file in the working directory.

Researchers commonly keep keys in ``.env``. It is read at call time with python-dotenv's
``dotenv_values`` (parsing only: ``os.environ`` is never changed, so the values are not
inherited by child processes or copied anywhere) and re-read when the file changes.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["getenv"]

_cache: dict[Path, tuple[float, dict[str, str | None]]] = {}


def _dotenv(path: Path) -> dict[str, str | None]:
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return {}
    hit = _cache.get(path)
    if hit is not None and hit[0] == mtime:
        return hit[1]
    from dotenv import dotenv_values

    values = dict(dotenv_values(path))
    _cache[path] = (mtime, values)
    return values


def getenv(name: str) -> str | None:
    """``os.environ[name]``, else the value ``./.env`` gives it, else None."""
    value = os.environ.get(name)
    if value:
        return value
    return _dotenv(Path.cwd() / ".env").get(name) or None
