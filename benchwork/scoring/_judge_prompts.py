"""Default prompts of the LLM judges: templates with ``{{ name }}`` slots the user can override.

Every template delimits its parts with tags (``<input>``, ``<output>``, ``<expected>``,
``<output_a>``/``<output_b>``) and ends by naming the JSON it wants, so a judge (and the
simulated judge) can find what to grade and how to answer. Slots:

- rubric (``judge``): ``input``, ``output``, ``expected``, ``rubric``, ``scale_min``, ``scale_max``;
- reference (``judge_reference``): ``input``, ``output``, ``expected``;
- pairwise (``benchwork.compare``): ``input``, ``output_a``, ``output_b``, ``expected``,
  ``criteria``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from benchwork.errors import BenchworkError
from benchwork.scoring._score import case_field
from benchwork.suite import render_template

__all__ = [
    "DEFAULT_CRITERIA",
    "DEFAULT_RUBRIC",
    "JUDGE_SYSTEM",
    "NO_REFERENCE",
    "PAIRWISE_TEMPLATE",
    "REFERENCE_TEMPLATE",
    "RUBRIC_TEMPLATE",
    "case_input_text",
    "check_template",
    "correction",
    "expected_text",
    "render_prompt",
    "same_model",
]

JUDGE_SYSTEM = (
    "You are a careful, impartial grader of AI model outputs. Judge only what is asked, "
    "and reply with a single JSON object and nothing else."
)

DEFAULT_RUBRIC = (
    "The output answers the input correctly and completely (agreeing with the expected "
    "answer when one is given), without errors or irrelevant content."
)

DEFAULT_CRITERIA = "Which output answers the input better: more correct, complete and relevant."

#: What ``{{ expected }}`` becomes when the case has no expected answer.
NO_REFERENCE = "(no reference answer)"

RUBRIC_TEMPLATE = """\
Grade the output of an AI model against the rubric.

<input>
{{ input }}
</input>

<output>
{{ output }}
</output>

<expected>
{{ expected }}
</expected>

<rubric>
{{ rubric }}
</rubric>

Give a score from {{ scale_min }} to {{ scale_max }}, where {{ scale_max }} means the output \
fully meets the rubric and {{ scale_min }} means it does not meet it at all.
Reply with only this JSON object: {"reasoning": "<one or two sentences>", "score": <number>}"""

REFERENCE_TEMPLATE = """\
Decide whether the output of an AI model is correct, given the reference answer.

<input>
{{ input }}
</input>

<output>
{{ output }}
</output>

<expected>
{{ expected }}
</expected>

"correct": the output gives the expected answer (wording may differ); "partial": it gives \
part of it, or it plus wrong or contradictory content; "incorrect": otherwise.
Reply with only this JSON object: \
{"reasoning": "<one or two sentences>", "verdict": "correct" | "partial" | "incorrect"}"""

PAIRWISE_TEMPLATE = """\
Compare two outputs of AI models for the same input.

<input>
{{ input }}
</input>

<expected>
{{ expected }}
</expected>

<output_a>
{{ output_a }}
</output_a>

<output_b>
{{ output_b }}
</output_b>

Criteria: {{ criteria }}
Do not let the order of the outputs or their length sway you.
Reply with only this JSON object: \
{"reasoning": "<one or two sentences>", "winner": "A" | "B" | "tie"}"""

_SHAPES = {
    "verdict": '{"reasoning": "...", "verdict": "correct" | "partial" | "incorrect"}',
    "winner": '{"reasoning": "...", "winner": "A" | "B" | "tie"}',
}


def correction(problem: str, key: str, scale: tuple[float, float] = (1, 5)) -> str:
    """The one re-ask sent after an unusable reply: what was wrong and the JSON wanted."""
    shape = _SHAPES.get(key) or (
        f'{{"reasoning": "...", "{key}": <a number from {scale[0]:g} to {scale[1]:g}>}}'
    )
    return (
        f"Your reply could not be used: {problem}. Reply again with only the JSON object "
        f"{shape}, and no other text."
    )


def render_prompt(template: str, variables: Mapping[str, Any], *, what: str) -> str:
    """Fill a judge template; an unknown ``{{ name }}`` is a clear error naming the slots."""
    try:
        return render_template(template, variables)
    except BenchworkError as e:
        known = ", ".join(sorted(variables))
        raise BenchworkError(f"{what} template: {e}; available slots: {known}") from None


def check_template(template: str, slots: tuple[str, ...], *, what: str) -> str:
    """Validate a user template now (not on the first call): every slot must be known."""
    if not isinstance(template, str) or not template.strip():
        raise BenchworkError(f"{what}: template must be a non-empty string")
    render_prompt(template, dict.fromkeys(slots, ""), what=what)
    return template


def same_model(a: str | None, b: str | None) -> bool:
    """Whether two litellm ids name the same model (provider prefixes ignored)."""
    if not a or not b:
        return False
    return a.rsplit("/", 1)[-1].strip().lower() == b.rsplit("/", 1)[-1].strip().lower()


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            p if isinstance(p, str) else str(p.get("text", ""))
            for p in content
            if isinstance(p, str) or (isinstance(p, dict) and "text" in p)
        )
    return "" if content is None else str(content)


def case_input_text(case: Any) -> str:
    """The case's input as the judge sees it: the rendered prompt, or the chat as ``role: text``."""
    variables = case_field(case, "vars") or {}

    def render(text: str) -> str:
        try:
            return render_template(text, variables)
        except BenchworkError:
            return text

    value = case_field(case, "input")
    if isinstance(value, str):
        return render(value)
    if isinstance(value, list):
        messages = [m for m in value if isinstance(m, dict)]
        if len(messages) == 1:
            return render(_text(messages[0].get("content")))
        return "\n".join(f"{m.get('role')}: {render(_text(m.get('content')))}" for m in messages)
    return "" if value is None else str(value)


def expected_text(expected: Any) -> str:
    """Expected answer(s) for a judge prompt: text, JSON for a list, or NO_REFERENCE."""
    if expected is None or expected == []:
        return NO_REFERENCE
    if isinstance(expected, str):
        return expected
    return json.dumps(expected, ensure_ascii=False, default=str)
