"""Totals over calls (calls, errors, tokens, cost), computed in one place under one rule.

The rule for money: a total over any unknown cost is null (unknown), never the sum of the
known part shown as if it were the whole. A leaderboard that adds up only the priced calls
would make a partly unpriced model look cheap.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import polars as pl

__all__ = ["cost_total_expr", "record_totals", "total_cost", "totals_exprs"]


def total_cost(values: Iterable[float | None] | pl.Series) -> float | None:
    """Sum of ``values``, or None when any is None (unknown) or there are none."""
    if isinstance(values, pl.Series):
        if values.len() == 0 or values.null_count():
            return None
        return float(values.sum())
    total = 0.0
    seen = False
    for v in values:
        if v is None:
            return None
        total += v
        seen = True
    return total if seen else None


def cost_total_expr(col: str | pl.Expr = "cost_usd") -> pl.Expr:
    """Polars expression: the column's sum, null when any value is null or there are none."""
    e = pl.col(col) if isinstance(col, str) else col
    return pl.when((e.null_count() == 0) & (e.len() > 0)).then(e.sum()).otherwise(None)


def totals_exprs() -> list[pl.Expr]:
    """calls, errors, error_rate, cached, tokens and cost over a group of result rows.

    Tokens and cost are over successful calls (a failed call is not billed by our count).
    """
    ok = pl.col("status") == "ok"
    return [
        pl.len().alias("calls"),
        (~ok).sum().alias("errors"),
        (~ok).mean().alias("error_rate"),
        pl.col("cached").sum().alias("cached"),
        pl.col("input_tokens").filter(ok).sum().alias("input_tokens"),
        pl.col("output_tokens").filter(ok).sum().alias("output_tokens"),
        cost_total_expr(pl.col("cost_usd").filter(ok)).alias("cost_usd"),
    ]


def record_totals(records: Iterable[Any]) -> dict[str, Any]:
    """The same totals over CallRecords or record dicts (warm-ups excluded): no Polars needed."""
    calls = errors = cached = 0
    costs: list[float | None] = []
    for r in records:
        get = r.get if isinstance(r, dict) else lambda k, _r=r: getattr(_r, k, None)
        if get("warmup"):
            continue
        calls += 1
        cached += bool(get("cached"))
        if get("status") != "ok":
            errors += 1
        else:
            costs.append(get("cost_usd"))
    return {
        "calls": calls,
        "errors": errors,
        "cached": cached,
        "cost_usd": total_cost(costs),
    }
