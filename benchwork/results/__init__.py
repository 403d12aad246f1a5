"""Results: the one representation of a call (CallRecord) and of a run's rows (the frame)."""

from benchwork.results._check import record_problem
from benchwork.results._schema import (
    RESULT_SCHEMA,
    CallRecord,
    clean_text,
    parse_started_at,
    records_to_frame,
)
from benchwork.results._scores import (
    SCORE_FIELDS,
    SCORE_NUMBERS,
    check_score_name,
    flatten_scores,
    fold_scores,
    is_score_value_column,
    score_column,
    score_names,
    score_value_columns,
)
from benchwork.results._totals import cost_total_expr, record_totals, total_cost, totals_exprs

__all__ = [
    "RESULT_SCHEMA",
    "SCORE_FIELDS",
    "SCORE_NUMBERS",
    "CallRecord",
    "check_score_name",
    "clean_text",
    "cost_total_expr",
    "flatten_scores",
    "fold_scores",
    "is_score_value_column",
    "parse_started_at",
    "record_problem",
    "record_totals",
    "records_to_frame",
    "score_column",
    "score_names",
    "score_value_columns",
    "total_cost",
    "totals_exprs",
]
