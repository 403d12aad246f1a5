"""Tool-call scorers on one record: tool_selection (names, order) and tool_args (arguments).

Expected calls come from ``case.metadata["expected_tool_calls"]`` (or ``expected=``): a list of
``{"name": ..., "arguments": {...}}``. Actual calls are the record's ``tool_calls`` JSON in the
OpenAI form, whose ``arguments`` are JSON strings.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from benchwork.errors import BenchworkError
from benchwork.scoring._fuzzy import check_threshold, similarity
from benchwork.scoring._numeric import to_number
from benchwork.scoring._registry import register_scorer
from benchwork.scoring._score import (
    BaseScorer,
    Score,
    case_field,
    clip,
    compile_regex,
    regex_search,
    regex_timeout,
)
from benchwork.scoring._text import normalize_text

__all__ = ["ARG_RULES", "ToolArgs", "ToolCall", "ToolSelection", "parse_tool_calls"]

ARG_RULES = ("exact", "fuzzy", "contains", "numeric", "ignore", "regex", "present")
NO_EXPECTED_CALLS = "case has no expected tool calls (case.metadata['expected_tool_calls'])"


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One tool call; ``error`` says why its arguments could not be read."""

    name: str
    arguments: Any = None
    error: str | None = None


def _one(item: Any) -> ToolCall:
    if not isinstance(item, Mapping):
        return ToolCall("?", None, f"a tool call must be an object, got {type(item).__name__}")
    inner = item.get("function")
    fn: Mapping[str, Any] = inner if isinstance(inner, Mapping) else item
    name, args = str(fn.get("name") or "?"), fn.get("arguments")
    if args is None or args == "":
        return ToolCall(name, {})
    if isinstance(args, str):
        try:
            args = json.loads(args)
        except (json.JSONDecodeError, RecursionError) as e:
            return ToolCall(name, None, f"arguments are not valid JSON: {e}; got {clip(args)}")
    if not isinstance(args, Mapping):
        return ToolCall(name, None, f"arguments must be an object, got {type(args).__name__}")
    return ToolCall(name, dict(args))


def parse_tool_calls(raw: Any) -> list[ToolCall]:
    """Parse a record's ``tool_calls`` (JSON string or list, OpenAI or flat form).

    Raises ``ValueError`` when the whole value is not a JSON list.
    """
    if raw is None or raw == "":
        return []
    if isinstance(raw, str | bytes):
        try:
            raw = json.loads(raw)
        except (json.JSONDecodeError, RecursionError) as e:
            raise ValueError(f"tool_calls is not valid JSON: {e}") from None
    if isinstance(raw, Mapping):
        raw = [raw]
    if not isinstance(raw, list):
        raise ValueError(f"tool_calls must be a list, got {type(raw).__name__}")
    return [_one(item) for item in raw]


def _metadata(case: Any) -> Mapping[str, Any]:
    metadata = case_field(case, "metadata")
    return metadata if isinstance(metadata, Mapping) else {}


class _ToolScorer(BaseScorer):
    needs_expected = False

    def _expected_field(self, case: Any) -> tuple[Any, str]:
        if self.expected is not None:
            return self.expected, f"scorer {self.name!r} option 'expected'"
        return _metadata(case).get("expected_tool_calls"), "metadata.expected_tool_calls"

    def _want(self, expected: Any) -> list[ToolCall]:
        try:
            want = parse_tool_calls(expected)
        except ValueError as e:
            raise BenchworkError(f"{self.name}: expected_tool_calls: {e}") from None
        bad = next((c for c in want if c.error), None)
        if bad:
            raise BenchworkError(f"{self.name}: expected call {bad.name!r}: {bad.error}")
        return want

    def check(self, case: Any) -> None:
        expected, field = self._expected_field(case)
        if expected is not None:
            self.field_error(case, field, self._want, expected)

    def _calls(self, case: Any, record: Any) -> tuple[list[ToolCall], list[ToolCall]] | Score:
        expected, _ = self._expected_field(case)
        if expected is None:
            return Score.skipped(NO_EXPECTED_CALLS)
        want = self._want(expected)
        try:
            got = parse_tool_calls(getattr(record, "tool_calls", None))
        except ValueError as e:
            return Score.passed(False, str(e))
        return want, got


def _names(calls: list[ToolCall]) -> str:
    return "[" + ", ".join(c.name for c in calls) + "]" if calls else "nothing"


class ToolSelection(_ToolScorer):
    """The right tools were called, in order (``order=False``: any order), with no extra calls."""

    default_name = "tool_selection"

    def __init__(
        self, *, order: bool = True, name: str | None = None, expected: Any = None
    ) -> None:
        super().__init__(name=name, expected=expected)
        self.order = order

    def score(self, output: str, expected: Any, case: Any, record: Any) -> Score:
        calls = self._calls(case, record)
        if isinstance(calls, Score):
            return calls
        want, got = calls
        want_names, got_names = [c.name for c in want], [c.name for c in got]
        if want_names == got_names:
            return Score.passed(
                True, f"called {_names(got)}" if got else "no tool calls, as expected"
            )
        missing = Counter(want_names) - Counter(got_names)
        extra = Counter(got_names) - Counter(want_names)
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing.elements()))
        if extra:
            parts.append("extra " + ", ".join(extra.elements()))
        if not parts:
            if not self.order:
                return Score.passed(True, f"called {_names(got)} (order ignored)")
            parts.append("wrong order")
        detail = f"; called {_names(got)}, expected {_names(want)}"
        return Score.passed(False, "; ".join(parts) + detail)


def _plain_float(value: Any) -> float | None:
    """A number, or a string that is nothing but a number (``"42"``, not ``"42 apples"``)."""
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def _loose_equal(got: Any, want: Any) -> bool:
    if isinstance(want, Mapping):
        return (
            isinstance(got, Mapping)
            and set(got) == set(want)
            and all(_loose_equal(got[k], want[k]) for k in want)
        )
    if isinstance(want, list | tuple):
        return (
            isinstance(got, list | tuple)
            and len(got) == len(want)
            and all(_loose_equal(g, w) for g, w in zip(got, want, strict=True))
        )
    if isinstance(want, bool) or isinstance(got, bool) or want is None or got is None:
        return type(got) is type(want) and got == want
    if isinstance(want, int | float) or isinstance(got, int | float):
        a, b = _plain_float(got), _plain_float(want)
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return normalize_text(str(got)) == normalize_text(str(want))


def _as_str(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _matches(rule: str, got: Any, want: Any, threshold: float) -> bool:
    if rule == "exact":
        return _loose_equal(got, want)
    if rule == "fuzzy":
        return similarity(_as_str(got), _as_str(want)) >= threshold
    if rule == "contains":
        return normalize_text(_as_str(want)) in normalize_text(_as_str(got))
    if rule == "present":
        return True
    if rule == "regex":
        return regex_search(_regex_rule(want), _as_str(got)) is not None
    a, b = to_number(got), to_number(want)  # numeric
    return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)


def _regex_rule(want: Any) -> str:
    """The expected value of a ``regex`` rule, checked to compile."""
    import regex

    pattern = str(want)
    try:
        compile_regex(pattern)
    except (regex.error, ValueError, OverflowError, RecursionError) as e:
        raise BenchworkError(f"tool_args: bad regex {want!r}: {e}") from None
    return pattern


class ToolArgs(_ToolScorer):
    """Fraction of expected arguments the matching calls got right.

    Each expected call is paired with the next unused actual call of the same name. ``mode``
    is the default comparison; ``rules`` maps an argument (``"city"`` or ``"tool.city"``) to
    one of ``exact``, ``fuzzy``, ``contains``, ``numeric``, ``regex`` (the expected value is a
    pattern, ``re.search``), ``present`` (any value), ``ignore``. A case's
    ``metadata["tool_arg_rules"]`` (same form) overrides ``rules`` for that case. ``exact``
    ignores case and whitespace and treats ``42`` and ``"42"`` as equal.
    """

    default_name = "tool_args"
    offload = "always"  # a regex rule can be slow on a short argument

    def __init__(
        self,
        *,
        mode: str = "exact",
        rules: Mapping[str, str] | None = None,
        fuzzy_threshold: float = 0.8,
        name: str | None = None,
        expected: Any = None,
    ) -> None:
        super().__init__(name=name, expected=expected)
        if mode not in ARG_RULES or mode == "ignore":
            raise BenchworkError(
                f"tool_args: mode {mode!r} is not one of: "
                + ", ".join(r for r in ARG_RULES if r != "ignore")
            )
        for key, rule in (rules or {}).items():
            if rule not in ARG_RULES:
                raise BenchworkError(
                    f"tool_args: rule {rule!r} for {key!r} is not one of: {', '.join(ARG_RULES)}"
                )
        self.mode, self.rules = mode, dict(rules or {})
        self.fuzzy_threshold = check_threshold(fuzzy_threshold, "tool_args")

    def _rule(self, tool: str, arg: str, case_rules: Mapping[str, str]) -> str:
        for rules in (case_rules, self.rules):
            rule = rules.get(f"{tool}.{arg}") or rules.get(arg)
            if rule:
                return rule
        return self.mode

    def _case_rules(self, case: Any) -> Mapping[str, str]:
        rules = _metadata(case).get("tool_arg_rules") or {}
        if not isinstance(rules, Mapping):
            raise BenchworkError(f"{self.name}: metadata.tool_arg_rules must be a mapping")
        for key, rule in rules.items():
            if not isinstance(rule, str) or rule not in ARG_RULES:
                raise BenchworkError(
                    f"{self.name}: metadata.tool_arg_rules: rule {rule!r} for {key!r} is not "
                    f"one of: {', '.join(ARG_RULES)}"
                )
        return rules

    def check(self, case: Any) -> None:
        super().check(case)
        rules = self.field_error(case, "metadata.tool_arg_rules", self._case_rules, case)
        expected, field = self._expected_field(case)
        if expected is None:
            return
        for call in self._want(expected):
            for key, value in call.arguments.items():
                if self._rule(call.name, key, rules) == "regex":
                    self.field_error(case, field, _regex_rule, value)

    def score(self, output: str, expected: Any, case: Any, record: Any) -> Score:
        try:
            return self._score(case, record)
        except TimeoutError:
            return Score.error(
                f"{self.name}: a regex rule gave up after {regex_timeout():g} s on this "
                "call's arguments (catastrophic backtracking?)"
            )

    def _score(self, case: Any, record: Any) -> Score:
        calls = self._calls(case, record)
        if isinstance(calls, Score):
            return calls
        want, got = calls
        case_rules = self._case_rules(case)
        unused = list(got)
        total = matched = 0
        notes: list[str] = []
        for exp in want:
            act = next((c for c in unused if c.name == exp.name), None)
            if act is not None:
                unused.remove(act)
            args = [
                (k, v)
                for k, v in exp.arguments.items()
                if self._rule(exp.name, k, case_rules) != "ignore"
            ]
            total += len(args)
            if act is None or act.error:
                if args:
                    notes.append(f"{exp.name}: {act.error if act else 'not called'}")
                continue
            for key, value in args:
                rule = self._rule(exp.name, key, case_rules)
                if key not in act.arguments:
                    notes.append(f"{exp.name}.{key}: missing")
                elif _matches(rule, act.arguments[key], value, self.fuzzy_threshold or 0.0):
                    matched += 1
                else:
                    got_v = clip(_as_str(act.arguments[key]), 40)
                    notes.append(f"{exp.name}.{key}: {got_v} ≠ {clip(_as_str(value), 40)} ({rule})")
        if total == 0:
            return Score.skipped("no expected arguments to check")
        more = f"; +{len(notes) - 5} more" if len(notes) > 5 else ""
        detail = ("; " + "; ".join(notes[:5]) + more) if notes else ""
        return Score(
            matched / total,
            "pass" if matched == total else "fail",
            f"{matched}/{total} arguments match{detail}",
        )


register_scorer("tool_selection", ToolSelection)
register_scorer("tool_args", ToolArgs)
