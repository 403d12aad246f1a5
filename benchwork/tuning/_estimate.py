"""What a run will cost before it starts: input tokens counted, output tokens bounded.

Input tokens are litellm's count of each rendered conversation (an estimate for models it does
not know); output tokens are ``max_tokens`` when set (an upper bound), else ``assumed_output``
per call, flagged. Unknown prices give a null cost, never 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from benchwork.suite import Suite
from benchwork.target import Target, prices_for

__all__ = ["estimate_cost"]


def estimate_cost(
    suite: Suite, targets: Sequence[Target], *, repeats: int = 1, assumed_output: int = 256
) -> pl.DataFrame:
    """Per target: calls, input tokens, output tokens (bound or assumption), and USD."""
    from benchwork._util.litellm import get_litellm

    litellm = get_litellm()
    rows = []
    for t in targets:
        input_tokens = 0
        for case in suite.cases:
            try:
                n = int(litellm.token_counter(model=t.model, messages=suite.messages(case)))
            except Exception:
                n = sum(len(str(m.get("content", ""))) for m in suite.messages(case)) // 4
            input_tokens += n * repeats
        calls = len(suite) * repeats
        cap = t.params.get("max_tokens") or t.params.get("max_completion_tokens")
        output_tokens = int(cap) * calls if cap else assumed_output * calls
        prices = prices_for(t)  # USD per input token, per output token; None when unknown
        cost = None
        if prices is not None:
            cost = input_tokens * prices[0] + output_tokens * prices[1]
        rows.append(
            {
                "target": t.name,
                "calls": calls,
                "input_tokens": input_tokens,
                "output_tokens": output_tokens,
                "output_is_bound": bool(cap),
                "cost_usd": cost,
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "target": pl.String,
            "calls": pl.Int64,
            "input_tokens": pl.Int64,
            "output_tokens": pl.Int64,
            "output_is_bound": pl.Boolean,
            "cost_usd": pl.Float64,
        },
    )
