"""Cost of a call: the target's price override, else litellm's bundled table; unknown = None.

An unknown price is ``None``, never 0, so a leaderboard cannot show a paid model as free.
"""

from __future__ import annotations

from typing import Any

from benchwork._util.litellm import price_table
from benchwork.target._target import Target

__all__ = ["Prices", "call_cost", "prices_for"]

Prices = tuple[float, float]  # USD per input token, per output token


def prices_for(target: Target) -> Prices | None:
    """Per-token prices for a target, or None when no price is known for both directions."""
    if target.input_per_mtok is not None and target.output_per_mtok is not None:
        return target.input_per_mtok / 1e6, target.output_per_mtok / 1e6
    entry = _table_entry(target.model)
    if entry is None:
        return None
    inp = entry.get("input_cost_per_token")
    out = entry.get("output_cost_per_token")
    if target.input_per_mtok is not None:
        inp = target.input_per_mtok / 1e6
    if target.output_per_mtok is not None:
        out = target.output_per_mtok / 1e6
    if inp is None or out is None:
        return None
    return float(inp), float(out)


def _table_entry(model: str) -> dict[str, Any] | None:
    table = price_table()
    candidates = [model]
    if "/" in model:
        candidates.append(model.split("/", 1)[1])
    for name in candidates:
        entry = table.get(name)
        if isinstance(entry, dict) and entry.get("mode", "chat") in (
            "chat",
            "completion",
            "responses",
        ):
            return entry
    return None


def call_cost(
    prices: Prices | None, input_tokens: int | None, output_tokens: int | None
) -> float | None:
    """USD cost of one call; None when prices or token counts are unknown."""
    if prices is None or input_tokens is None or output_tokens is None:
        return None
    return input_tokens * prices[0] + output_tokens * prices[1]
