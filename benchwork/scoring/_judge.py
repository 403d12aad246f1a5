"""LLM-as-judge scorers: ``judge`` (rubric score) and ``judge_reference`` (correct/partial/incorrect).

Both render a prompt template (overridable; see ``_judge_prompts``), ask the judge model for
JSON, re-ask once on an unusable reply, and otherwise give ``Score(None, "error", ...)``
rather than a guess. The Score carries the judge's model, cost and tokens apart from the
candidate's (``score_<name>_cost_usd`` in the results frame).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from benchwork.errors import BenchworkError
from benchwork.scoring._judge_model import JudgeModel, JudgeReply, JudgeSpec, judge_target
from benchwork.scoring._judge_parse import VERDICTS, read_score, read_verdict
from benchwork.scoring._judge_prompts import (
    DEFAULT_RUBRIC,
    JUDGE_SYSTEM,
    REFERENCE_TEMPLATE,
    RUBRIC_TEMPLATE,
    case_input_text,
    check_template,
    correction,
    expected_text,
    render_prompt,
    same_model,
)
from benchwork.scoring._registry import register_scorer
from benchwork.scoring._score import AsyncBaseScorer, Score

if TYPE_CHECKING:
    from benchwork.cache import CachePolicy

__all__ = [
    "MAX_JUDGED_CHARS",
    "Judge",
    "JudgeReference",
    "SelfGradingWarning",
]

#: Candidate outputs longer than this are cut before they reach the judge (noted in the score).
MAX_JUDGED_CHARS = 20_000
_REASONING_CHARS = 600


class SelfGradingWarning(UserWarning):
    """A judge is grading outputs of its own model."""


class _JudgeScorer(AsyncBaseScorer):
    """Shared machinery: target, template, self-grading check, output cut, Score assembly."""

    key: ClassVar[str] = "score"
    slots: ClassVar[tuple[str, ...]] = ("input", "output", "expected")
    default_template: ClassVar[str] = RUBRIC_TEMPLATE

    def __init__(
        self,
        judge: JudgeSpec = None,
        *,
        model: str | None = None,
        api_base: str | None = None,
        api_key_env: str | None = None,
        template: str | None = None,
        system: str | None = JUDGE_SYSTEM,
        cache_dir: str | Path | None = None,
        cache: str = "use",
        max_output_chars: int = MAX_JUDGED_CHARS,
        name: str | None = None,
        expected: Any = None,
    ) -> None:
        super().__init__(name=name, expected=expected)
        if isinstance(judge, JudgeModel):
            self.judge = judge
        else:
            target = judge_target(judge, model=model, api_base=api_base, api_key_env=api_key_env)
            self.judge = JudgeModel(target, cache_dir=cache_dir, cache=cache)
        self.template = check_template(
            template or self.default_template, self.slots, what=f"scorer {self.name!r}"
        )
        self.system = system
        if not isinstance(max_output_chars, int) or max_output_chars < 1:
            raise BenchworkError(
                f"max_output_chars must be an integer >= 1, not {max_output_chars!r}"
            )
        self.max_output_chars = max_output_chars

    def config_options(self) -> dict[str, Any]:
        """Stored with the judge target it resolved to (so the environment at resume time
        cannot change the judge), never a key."""
        options = super().config_options()
        for key in ("model", "api_base", "api_key_env"):
            options.pop(key, None)
        given = options.get("judge")
        if isinstance(given, JudgeModel) and given._cache_dir is not None:
            options.setdefault("cache_dir", str(given._cache_dir))
        options["judge"] = self.judge.target.to_dict()
        return options

    def bind_run(self, policy: CachePolicy) -> None:
        """Called by the runner: judge calls share the run's cache and cache mode."""
        self.judge.bind_run(policy)

    # -- per kind ---------------------------------------------------------------------------
    def variables(self, output: str, expected: Any, case: Any) -> dict[str, Any]:
        return {
            "input": case_input_text(case),
            "output": output,
            "expected": expected_text(expected),
        }

    def read(self, text: str | None) -> tuple[Any, str | None, str | None]:
        raise NotImplementedError

    def correction(self, problem: str) -> str:
        return correction(problem, self.key)

    def verdict(self, value: Any) -> tuple[float, str]:
        """(score value in 0..1, label) for a valid reply value."""
        raise NotImplementedError

    # -- shared -----------------------------------------------------------------------------
    def messages(self, output: str, expected: Any, case: Any) -> list[dict[str, Any]]:
        """The judge's chat: the system prompt, then the rendered template."""
        prompt = render_prompt(
            self.template, self.variables(output, expected, case), what=f"scorer {self.name!r}"
        )
        head = [{"role": "system", "content": self.system}] if self.system else []
        return [*head, {"role": "user", "content": prompt}]

    async def score(self, output: str, expected: Any, case: Any, record: Any) -> Score:  # type: ignore[override]
        notes: list[str] = []
        if len(output) > self.max_output_chars:
            cut = len(output) - self.max_output_chars
            output = output[: self.max_output_chars] + f"\n[… {cut} more characters cut]"
            notes.append(f"output cut to {self.max_output_chars} characters for the judge")
        if same_model(self.judge.model, getattr(record, "model", None)):
            warnings.warn(
                f"scorer {self.name!r}: judge {self.judge.model!r} is grading its own model's "
                "outputs; prefer a judge from another model family",
                SelfGradingWarning,
                stacklevel=2,
            )
            notes.append("warning: the judge grades its own model")
        reply = await self.judge.ask(
            self.messages(output, expected, case),
            self.read,
            self.correction,
            case_id=str(getattr(record, "case_id", "")),
        )
        return self.to_score(reply, notes)

    def to_score(self, reply: JudgeReply, notes: list[str]) -> Score:
        """The Score for a judge reply, with the judge's model, cost and tokens."""
        extras: dict[str, Any] = {
            "cost_usd": reply.cost_usd,
            "input_tokens": reply.input_tokens,
            "output_tokens": reply.output_tokens,
            "judge": self.judge.model,
            "meta": {"judge_calls": reply.asks, "cached": reply.requests == 0},
        }
        if reply.value is None:
            text = reply.error or "judge gave no verdict"
            if reply.raw is not None and "unparseable" in text:
                snippet = reply.raw if len(reply.raw) <= 200 else reply.raw[:200] + "…"
                text += f" (after one re-ask; last reply {snippet!r})"
            return Score(None, "error", _join(text, notes), **extras)
        if reply.asks > 1:
            notes.append("re-asked once after an unusable reply")
        value, label = self.verdict(reply.value)
        why = (reply.reasoning or "").strip()
        if len(why) > _REASONING_CHARS:
            why = why[:_REASONING_CHARS] + "…"
        text = f"{label} by {self.judge.name}" + (f": {why}" if why else "")
        return Score(value, label, _join(text, notes), **extras)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, judge={self.judge!r})"


def _join(text: str, notes: list[str]) -> str:
    return text + "".join(f" [{n}]" for n in notes)


class Judge(_JudgeScorer):
    """Rubric scoring by an LLM judge: a score on ``scale`` (default 1..5) mapped to 0..1.

    ``rubric`` says what a good output is; ``template`` may use ``{{ input }}``,
    ``{{ output }}``, ``{{ expected }}``, ``{{ rubric }}``, ``{{ scale_min }}``, ``{{ scale_max }}``.
    """

    default_name = "judge"
    key = "score"
    slots = ("input", "output", "expected", "rubric", "scale_min", "scale_max")
    default_template = RUBRIC_TEMPLATE

    def __init__(
        self,
        judge: JudgeSpec = None,
        *,
        rubric: str = DEFAULT_RUBRIC,
        scale: Sequence[float] = (1, 5),
        model: str | None = None,
        api_base: str | None = None,
        api_key_env: str | None = None,
        template: str | None = None,
        system: str | None = JUDGE_SYSTEM,
        cache_dir: str | Path | None = None,
        cache: str = "use",
        max_output_chars: int = MAX_JUDGED_CHARS,
        name: str | None = None,
        expected: Any = None,
    ) -> None:
        super().__init__(
            judge,
            model=model,
            api_base=api_base,
            api_key_env=api_key_env,
            template=template,
            system=system,
            cache_dir=cache_dir,
            cache=cache,
            max_output_chars=max_output_chars,
            name=name,
            expected=expected,
        )
        try:
            lo, hi = (float(x) for x in scale)
        except (TypeError, ValueError):
            raise BenchworkError(f"scale must be two numbers (low, high), not {scale!r}") from None
        if not lo < hi:
            raise BenchworkError(f"scale must go from low to high, not {scale!r}")
        self.scale = (lo, hi)
        self.rubric = rubric

    def variables(self, output: str, expected: Any, case: Any) -> dict[str, Any]:
        lo, hi = self.scale
        return {
            **super().variables(output, expected, case),
            "rubric": self.rubric,
            "scale_min": f"{lo:g}",
            "scale_max": f"{hi:g}",
        }

    def read(self, text: str | None) -> tuple[Any, str | None, str | None]:
        return read_score(text, self.scale)

    def correction(self, problem: str) -> str:
        return correction(problem, "score", self.scale)

    def verdict(self, value: Any) -> tuple[float, str]:
        lo, hi = self.scale
        return (value - lo) / (hi - lo), f"{value:g}/{hi:g}"


class JudgeReference(_JudgeScorer):
    """Reference-based grading: input, expected and output → correct (1) / partial (0.5) /
    incorrect (0). Skipped when the case has no expected answer."""

    default_name = "judge_reference"
    needs_expected = True
    key = "verdict"
    default_template = REFERENCE_TEMPLATE

    def read(self, text: str | None) -> tuple[Any, str | None, str | None]:
        return read_verdict(text)

    def verdict(self, value: Any) -> tuple[float, str]:
        return VERDICTS[value], value


register_scorer("judge", Judge)
register_scorer("judge_reference", JudgeReference)
