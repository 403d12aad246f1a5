"""The result row: one per call, with stable column names and Polars dtypes.

Every client path (lean HTTP, litellm) and the cache produce exactly these fields, so
frames from different runs and versions concatenate without surprises.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

import polars as pl

__all__ = ["RESULT_SCHEMA", "CallRecord", "clean_text", "records_to_frame"]


def clean_text(text: str | None) -> str | None:
    """Text that encodes as UTF-8: lone surrogates (from ``\\udcff`` escapes) become escapes.

    Polars and JSON writers reject lone surrogates; a model's odd output must not lose a run.
    """
    if text is None or text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


#: Column name -> Polars dtype, in display order. ``score_<name>`` columns are appended by scorers.
RESULT_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "case_id": pl.String(),
    "target": pl.String(),
    "model": pl.String(),
    "provider": pl.String(),
    "repeat": pl.Int64(),
    "warmup": pl.Boolean(),
    "cached": pl.Boolean(),
    "status": pl.String(),
    "http_status": pl.Int64(),
    "error_type": pl.String(),
    "error_message": pl.String(),
    "attempts": pl.Int64(),
    "started_at": pl.Datetime("us", "UTC"),
    "latency_s": pl.Float64(),
    "ttft_s": pl.Float64(),
    "output_tps": pl.Float64(),
    "prefill_tps": pl.Float64(),
    "itl_mean_s": pl.Float64(),
    "itl_p50_s": pl.Float64(),
    "itl_p95_s": pl.Float64(),
    "chunks": pl.Int64(),
    "input_tokens": pl.Int64(),
    "output_tokens": pl.Int64(),
    "tokens_estimated": pl.Boolean(),
    "cost_usd": pl.Float64(),
    "finish_reason": pl.String(),
    "output_text": pl.String(),
    "tool_calls": pl.String(),
    "cache_key": pl.String(),
}


@dataclass(slots=True)
class CallRecord:
    """One finished call (or its error). ``tool_calls`` is a JSON string of the OpenAI list form.

    ``started_at`` is an ISO-8601 UTC string so the record round-trips through JSON unchanged.
    """

    run_id: str
    case_id: str
    target: str
    model: str
    provider: str | None = None
    repeat: int = 0
    warmup: bool = False
    cached: bool = False
    status: str = "ok"
    http_status: int | None = None
    error_type: str | None = None
    error_message: str | None = None
    attempts: int = 1
    started_at: str | None = None
    latency_s: float | None = None
    ttft_s: float | None = None
    output_tps: float | None = None
    prefill_tps: float | None = None
    itl_mean_s: float | None = None
    itl_p50_s: float | None = None
    itl_p95_s: float | None = None
    chunks: int | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    tokens_estimated: bool = False
    cost_usd: float | None = None
    finish_reason: str | None = None
    output_text: str | None = None
    tool_calls: str | None = None
    cache_key: str | None = None
    scores: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A plain JSON-ready dict (``scores`` kept as a nested dict)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CallRecord:
        """Build from a dict, ignoring keys this version does not know (forward compatible)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def records_to_frame(records: list[CallRecord] | list[dict[str, Any]]) -> pl.DataFrame:
    """Build the results frame: RESULT_SCHEMA columns, then ``score_*`` columns in first-seen order."""
    rows = [r.to_dict() if isinstance(r, CallRecord) else dict(r) for r in records]
    score_cols: dict[str, None] = {}
    for row in rows:
        for name, value in (row.get("scores") or {}).items():
            if isinstance(value, dict):
                score_cols.setdefault(f"score_{name}", None)
                score_cols.setdefault(f"score_{name}_explanation", None)
            else:
                score_cols.setdefault(f"score_{name}", None)
    data: dict[str, list[Any]] = {c: [] for c in RESULT_SCHEMA}
    for c in score_cols:
        data[c] = []
    for row in rows:
        for c in RESULT_SCHEMA:
            data[c].append(row.get(c))
        scores = row.get("scores") or {}
        for c in score_cols:
            base = c[len("score_") :]
            if base.endswith("_explanation") and base[: -len("_explanation")] in scores:
                v = scores[base[: -len("_explanation")]]
                data[c].append(v.get("explanation") if isinstance(v, dict) else None)
            else:
                v = scores.get(base)
                data[c].append(v.get("value") if isinstance(v, dict) else v)
    schema = dict(RESULT_SCHEMA)
    frame = pl.DataFrame(
        {c: data[c] for c in RESULT_SCHEMA},
        schema={c: (pl.String() if c == "started_at" else t) for c, t in schema.items()},
    ).with_columns(
        pl.col("started_at").str.to_datetime(time_zone="UTC", time_unit="us", strict=False)
    )
    if score_cols:
        extra = pl.DataFrame(
            {c: data[c] for c in score_cols},
            schema={
                c: (pl.String() if c.endswith("_explanation") else pl.Float64()) for c in score_cols
            },
        )
        frame = pl.concat([frame, extra], how="horizontal")
    return frame
