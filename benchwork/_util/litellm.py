"""The one place litellm is imported: lazily, with the bundled price map, retries off.

``import litellm`` takes ~4 s and by default fetches its price map over the network; we set
``LITELLM_LOCAL_MODEL_COST_MAP=True`` first so prices do not change between runs.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from importlib import metadata, util
from pathlib import Path
from typing import Any

__all__ = ["get_litellm", "litellm_version", "price_table", "price_table_id"]


@functools.cache
def get_litellm() -> Any:
    """Import litellm once, quietly, with the local cost map and no telemetry."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.telemetry = False  # pyright: ignore[reportAttributeAccessIssue]  (set on purpose)
    litellm.suppress_debug_info = True
    litellm.num_retries = 0
    return litellm


@functools.cache
def litellm_version() -> str | None:
    try:
        return metadata.version("litellm")
    except metadata.PackageNotFoundError:
        return None


@functools.cache
def _price_file() -> Path | None:
    spec = util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = (
        Path(next(iter(spec.submodule_search_locations)))
        / "model_prices_and_context_window_backup.json"
    )
    return path if path.exists() else None


@functools.cache
def price_table() -> dict[str, Any]:
    """litellm's bundled price table, read as JSON without importing litellm (~50 ms vs ~4 s)."""
    path = _price_file()
    if path is None:
        return {}
    return json.loads(path.read_bytes())


@functools.cache
def price_table_id() -> str:
    """Which price table costs came from: litellm version and the table file's digest."""
    path = _price_file()
    if path is None:
        return "none"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return f"litellm-{litellm_version()} bundled sha256:{digest}"
