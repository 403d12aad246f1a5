"""Synthetic results frames for chart tests (the schema's columns, seeded)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import polars as pl

T0 = datetime(2026, 1, 1, tzinfo=UTC)

#: target -> (accuracy, ttft s, tok/s, cost per call, error rate)
PROFILES = {
    "fast-small": (0.6, 0.08, 160.0, 0.00002, 0.10),
    "balanced": (0.8, 0.15, 75.0, 0.0002, 0.02),
    "slow-large": (0.95, 0.30, 35.0, 0.002, 0.0),
    "pricey-bad": (0.7, 0.25, 40.0, 0.003, 0.05),
}


def synth(
    targets: dict[str, tuple[float, float, float, float, float]] | None = None,
    n_cases: int = 40,
    repeats: int = 1,
    seed: int = 0,
    run_id: str = "r0",
    started: datetime = T0,
) -> pl.DataFrame:
    """One row per call; errors are 500s and 429s, with null scores like real failed calls."""
    rng = np.random.default_rng(seed)
    parts = []
    for name, (acc, ttft, tps, cost, err) in (targets or PROFILES).items():
        n = n_cases * repeats
        failed = rng.random(n) < err
        status = np.where(rng.random(n) < 0.7, 500, 429)
        right = rng.random(n) < acc
        t = ttft * rng.lognormal(0, 0.15, n)
        rate = tps * rng.lognormal(0, 0.1, n)
        parts.append(
            pl.DataFrame(
                {
                    "run_id": run_id,
                    "case_id": np.repeat([f"c{i:03d}" for i in range(n_cases)], repeats),
                    "target": name,
                    "repeat": np.tile(np.arange(repeats), n_cases),
                    "warmup": False,
                    "cached": False,
                    "status": np.where(failed, "error", "ok"),
                    "http_status": np.where(failed, status, 200),
                    "error_type": pl.Series(
                        [
                            ("server_error" if s == 500 else "rate_limit") if f else None
                            for f, s in zip(failed, status, strict=True)
                        ],
                        dtype=pl.String,
                    ),
                    "started_at": started,
                    "ttft_s": np.where(failed, np.nan, t),
                    "latency_s": np.where(failed, np.nan, t + 50 / rate),
                    "output_tps": np.where(failed, np.nan, rate),
                    "cost_usd": np.where(failed, 0.0, cost * rng.lognormal(0, 0.05, n)),
                    "output_text": np.where(right, "right answer", "wrong answer"),
                    "score_exact": np.where(failed, np.nan, right.astype(float)),
                    "score_exact_explanation": np.where(right, "matches", "does not match"),
                }
            ).with_columns(
                pl.col("ttft_s", "latency_s", "output_tps", "score_exact").fill_nan(None)
            )
        )
    return pl.concat(parts)


__all__ = ["PROFILES", "T0", "synth"]
