"""The result row: one per call, with stable column names and Polars dtypes.

Every client path (lean HTTP, litellm) and the cache produce exactly these fields, so
frames from different runs and versions concatenate without surprises.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

import polars as pl

from benchwork.results._scores import (
    SCORE_FIELDS,
    flatten_scores,
    is_score_value_column,
    score_column,
)

__all__ = [
    "RESULT_SCHEMA",
    "CallRecord",
    "clean_text",
    "parse_started_at",
    "records_to_frame",
]


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
    "retry_wait_s": pl.Float64(),
    "attempt_errors": pl.String(),
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
    "tokens_source": pl.String(),
    "cost_usd": pl.Float64(),
    "finish_reason": pl.String(),
    "output_text": pl.String(),
    "tool_calls": pl.String(),
    "turns": pl.Int64(),
    "cache_key": pl.String(),
    "loop_lag_ms": pl.Float64(),
    "response_model": pl.String(),
    "system_fingerprint": pl.String(),
}


@dataclass(slots=True)
class CallRecord:
    """One finished call (or its error). ``tool_calls`` is a JSON string of the OpenAI list form.

    ``started_at`` is a UTC ``datetime`` in memory and in the results frame; only its JSON
    forms (journal, cache, ``to_dict``) hold the ISO-8601 text, parsed back by ``from_dict``.
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
    #: seconds spent waiting between attempts (backoff and Retry-After), None with no retry
    retry_wait_s: float | None = None
    #: each failed attempt in order, e.g. "429 rate_limit, 500 server_error"
    attempt_errors: str | None = None
    started_at: datetime | None = None
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
    # where the counts came from: "usage", "max_tokens", "chunks", "tokenize", "probe",
    # "litellm" (the one guess), or "<input>/<output>" when the two differ
    tokens_source: str | None = None
    cost_usd: float | None = None
    finish_reason: str | None = None
    output_text: str | None = None
    tool_calls: str | None = None
    turns: int | None = None  # model calls in a tool conversation; None for a single call
    cache_key: str | None = None
    #: the worst event-loop lag while this call was timed (live calls); see runner._health
    loop_lag_ms: float | None = None
    #: the model id and ``system_fingerprint`` the provider reported (reports cite them)
    response_model: str | None = None
    system_fingerprint: str | None = None
    scores: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A plain JSON-ready dict (``scores`` kept as a nested dict).

        Hot path (twice per call): every field is a scalar or a string except ``scores``, whose
        values are flat ``Score.to_dict()`` dicts, so one level of copying is a full copy;
        ``dataclasses.asdict`` deep-copied everything and cost ~0.4 ms per record.
        """
        out = {name: getattr(self, name) for name in _FIELD_NAMES}
        if self.started_at is not None:
            out["started_at"] = self.started_at.isoformat()
        scores = self.scores
        out["scores"] = (
            {k: dict(v) if isinstance(v, dict) else v for k, v in scores.items()} if scores else {}
        )
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CallRecord:
        """Build from a dict, ignoring keys this version does not know (forward compatible)."""
        names = _FIELD_SET
        fields_ = {k: v for k, v in data.items() if k in names}
        fields_["started_at"] = parse_started_at(fields_.get("started_at"))
        return cls(**fields_)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


_FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in fields(CallRecord) if f.name != "scores")
_FIELD_SET: frozenset[str] = frozenset(f.name for f in fields(CallRecord))


def parse_started_at(value: Any) -> datetime | None:
    """A record's ``started_at`` as an aware UTC datetime (from ISO text, or as given)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        when = value
    else:
        try:
            when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def records_to_frame(records: list[CallRecord] | list[dict[str, Any]]) -> pl.DataFrame:
    """Build the results frame: RESULT_SCHEMA columns, then ``score_*`` columns in first-seen order.

    Per scorer: ``score_<name>`` and the ``score_<name>_<field>`` columns some row reports, by
    the one codec in :mod:`benchwork.results._scores` (``flatten_scores``).
    """
    rows = [r.to_dict() if isinstance(r, CallRecord) else dict(r) for r in records]
    # the datetime itself where there is one (no round trip through text)
    starts = [
        parse_started_at(r.started_at if isinstance(r, CallRecord) else r.get("started_at"))
        for r in records
    ]
    flat = [flatten_scores(row.get("scores")) for row in rows]
    # score columns in first-seen scorer order, each scorer's value then its fields
    # (flatten_scores emits a scorer's value column first, then that scorer's fields)
    seen: dict[str, set[str]] = {}
    for cols in flat:
        current: set[str] = set()
        for c in cols:
            if is_score_value_column(c):
                current = seen.setdefault(c[len("score_") :], set())
            current.add(c)
    score_cols: dict[str, bool] = {}  # column -> holds text (an explanation)
    for stem, cols in seen.items():
        for part in (None, *SCORE_FIELDS):
            c = score_column(stem, part)
            if c in cols:
                score_cols[c] = part == "explanation"
    data: dict[str, list[Any]] = {c: [row.get(c) for row in rows] for c in RESULT_SCHEMA}
    for c in score_cols:
        data[c] = [cols.get(c) for cols in flat]
    data["started_at"] = starts
    frame = pl.DataFrame({c: data[c] for c in RESULT_SCHEMA}, schema=dict(RESULT_SCHEMA))
    if score_cols:
        extra = pl.DataFrame(
            {c: data[c] for c in score_cols},
            schema={c: pl.String() if text else pl.Float64() for c, text in score_cols.items()},
        )
        frame = pl.concat([frame, extra], how="horizontal")
    return frame
