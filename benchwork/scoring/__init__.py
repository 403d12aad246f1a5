"""Scoring: the ``Score``/``Scorer`` protocol, the scorer registry and the built-in scorers.

Specs are resolved by ``get_scorer``: a registered name (``"exact"``), a dict
(``{"type": "numeric", "tolerance": 0.01, "name": "num"}``), a Scorer object, or a function
``(case, record)``. ``score_records`` writes ``record.scores[name] = score.to_dict()``.
``scorer_config`` / ``build_scorer`` store a scorer's full configuration and rebuild it
(resume and rescore use them).
"""

from benchwork.scoring._apply import score_record, score_records
from benchwork.scoring._check import check_cases
from benchwork.scoring._config import build_scorer, scorer_config, scorer_configs
from benchwork.scoring._fuzzy import Fuzzy
from benchwork.scoring._json import JsonSchema, JsonValid
from benchwork.scoring._judge import Judge, JudgeReference, SelfGradingWarning
from benchwork.scoring._judge_model import JudgeModel, judge_target
from benchwork.scoring._numeric import Numeric, extract_number, find_number
from benchwork.scoring._panel import Panel, fleiss_kappa, panel_agreement
from benchwork.scoring._registry import (
    get_scorer,
    register_scorer,
    resolve_scorers,
    scorer,
    scorer_names,
)
from benchwork.scoring._score import AsyncBaseScorer, BaseScorer, Score, Scorer, ScorerSpec
from benchwork.scoring._semantic import Semantic
from benchwork.scoring._text import Contains, Exact, NotContains, Regex, StartsWith
from benchwork.scoring._tools import ToolArgs, ToolSelection, parse_tool_calls

__all__ = [
    "AsyncBaseScorer",
    "BaseScorer",
    "Contains",
    "Exact",
    "Fuzzy",
    "JsonSchema",
    "JsonValid",
    "Judge",
    "JudgeModel",
    "JudgeReference",
    "NotContains",
    "Numeric",
    "Panel",
    "Regex",
    "Score",
    "Scorer",
    "ScorerSpec",
    "SelfGradingWarning",
    "Semantic",
    "StartsWith",
    "ToolArgs",
    "ToolSelection",
    "build_scorer",
    "check_cases",
    "extract_number",
    "find_number",
    "fleiss_kappa",
    "get_scorer",
    "judge_target",
    "panel_agreement",
    "parse_tool_calls",
    "register_scorer",
    "resolve_scorers",
    "score_record",
    "score_records",
    "scorer",
    "scorer_config",
    "scorer_configs",
    "scorer_names",
]
