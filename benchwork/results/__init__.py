"""Results: the one representation of a call (CallRecord) and of a run's rows (the frame)."""

from benchwork.results._check import record_problem
from benchwork.results._schema import (
    RESULT_SCHEMA,
    SCORE_NUMBERS,
    CallRecord,
    clean_text,
    parse_started_at,
    records_to_frame,
)
from benchwork.results._totals import cost_total_expr, record_totals, total_cost, totals_exprs

__all__ = [
    "RESULT_SCHEMA",
    "SCORE_NUMBERS",
    "CallRecord",
    "clean_text",
    "cost_total_expr",
    "parse_started_at",
    "record_problem",
    "record_totals",
    "records_to_frame",
    "total_cost",
    "totals_exprs",
]
