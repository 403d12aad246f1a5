"""Run ids: what a valid one looks like, and how a new one is made (sortable by time)."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

__all__ = ["VALID_ID", "new_run_id"]

VALID_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def new_run_id() -> str:
    """A sortable, unique id: UTC time plus 6 random hex digits, e.g. ``20261122-113005-3fa9c1``."""
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)
