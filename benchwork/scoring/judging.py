"""The building blocks of LLM judging, public so that pairwise comparison (``benchwork.runner``)
reuses the same prompts, judge model, cache policy and verdict parser as the judge scorers."""

from benchwork.scoring._judge import SelfGradingWarning
from benchwork.scoring._judge_model import JudgeModel, JudgeSpec, judge_target
from benchwork.scoring._judge_parse import read_winner
from benchwork.scoring._judge_prompts import (
    DEFAULT_CRITERIA,
    JUDGE_SYSTEM,
    PAIRWISE_TEMPLATE,
    case_input_text,
    check_template,
    correction,
    expected_text,
    render_prompt,
    same_model,
)

__all__ = [
    "DEFAULT_CRITERIA",
    "JUDGE_SYSTEM",
    "PAIRWISE_TEMPLATE",
    "JudgeModel",
    "JudgeSpec",
    "SelfGradingWarning",
    "case_input_text",
    "check_template",
    "correction",
    "expected_text",
    "judge_target",
    "read_winner",
    "render_prompt",
    "same_model",
]
