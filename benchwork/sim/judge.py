"""The simulated judge: a ``SimModel`` with ``role="judge"`` that grades instead of answering.

It reads the judge prompt's delimited parts (``<input>``, ``<output>``, ``<expected>``, or
``<output_a>``/``<output_b>`` for a pairwise prompt), grades by normalized comparison with the
expected answer (from the prompt, else the sim's answer table by input), and replies in the
JSON the prompt asks for: ``"winner"`` (pairwise), ``"verdict"`` (reference grading) or
``"score"`` (rubric; the scale is read from "from X to Y" in the prompt, default 1 to 5).

Every choice is seeded (model name, model seed, request seed and the conversation): whether
the reply is malformed (``malformed_rate``), whether a pairwise verdict just picks the first
position (``position_bias``), whether the verdict is wrong (``1 - accuracy``), and the reply's
style (bare JSON, a fenced block, or JSON inside prose). A re-ask is a new conversation, so it
draws again.
"""

from __future__ import annotations

import hashlib
import json
import re
import string
from typing import Any

from benchwork.sim.models import SimModel
from benchwork.sim.replies import message_text

__all__ = ["DEMO_JUDGE", "grade", "judge_reply", "normalize"]

#: The demo's judge: fast, cheap, right 95% of the time, unparseable 5% of the time.
DEMO_JUDGE = SimModel(
    "judge",
    role="judge",
    ttft_s=0.05,
    itl_s=0.002,
    accuracy=0.95,
    malformed_rate=0.05,
    input_per_mtok=0.25,
    output_per_mtok=1.0,
    seed=7,
)

_PUNCT = str.maketrans("", "", string.punctuation)
_SCALE = re.compile(r"from\s+(-?\d+(?:\.\d+)?)\s+to\s+(-?\d+(?:\.\d+)?)", re.IGNORECASE)
_FLIP = {"correct": "incorrect", "incorrect": "correct", "partial": "partial"}
_NO_REFERENCE = ("", "(none)", "(no reference answer)", "none", "null")


def _unit(*parts: object) -> float:
    digest = hashlib.sha256("\x00".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def normalize(text: str) -> str:
    """Lowercase, punctuation dropped, whitespace collapsed."""
    return " ".join(text.lower().translate(_PUNCT).split())


def _tag(text: str, name: str) -> str | None:
    m = re.search(rf"<{name}>\n?(.*?)\n?</{name}>", text, re.DOTALL)
    return m.group(1) if m else None


def _expected_list(expected: str) -> list[str]:
    if expected.startswith("["):
        try:
            items = json.loads(expected)
            if isinstance(items, list):
                return [str(i) for i in items]
        except ValueError:
            pass
    return [expected]


def grade(output: str, expected: str | None) -> str | None:
    """``correct`` (normalized equal), ``partial`` (contains it), ``incorrect``; None: no reference."""
    if expected is None or expected.strip().lower() in _NO_REFERENCE:
        return None
    out = normalize(output)
    refs = [normalize(e) for e in _expected_list(expected)]
    if any(out == r for r in refs):
        return "correct"
    if any(r and f" {r} " in f" {out} " for r in refs):
        return "partial"
    return "incorrect"


def _malformed(kind: str, draw: float) -> str:
    key = {"rubric": "score", "reference": "verdict", "pairwise": "winner"}[kind]
    bad_value = {"rubric": "42", "reference": '"maybe"', "pairwise": '"C"'}[kind]
    forms = (
        "I think the answer is mostly fine, all things considered.",
        f'{{"reasoning": "The answer looks right", "{key}": ',
        '{"reasoning": "Looks right to me."}',
        f'{{"reasoning": "Hard to say.", "{key}": {bad_value}}}',
    )
    return forms[int(draw * len(forms))]


def _styled(payload: dict[str, Any], draw: float) -> str:
    text = json.dumps(payload, ensure_ascii=False)
    style = int(draw * 3)
    if style == 1:
        return f"```json\n{text}\n```"
    if style == 2:
        return f"Here is my assessment.\n{text}\nI hope this helps."
    return text


def _verdict(output: str, expected: str | None, wrong: bool) -> tuple[str | None, str]:
    verdict = grade(output, expected)
    if verdict is None:
        return None, "There is no reference answer to compare with."
    if wrong:
        verdict = _FLIP[verdict]
    why = {
        "correct": "The output matches the expected answer.",
        "partial": "The output contains the expected answer among other text.",
        "incorrect": "The output does not match the expected answer.",
    }[verdict]
    return verdict, why


def judge_reply(model: SimModel, messages: list[Any], seed: int, answers: dict[str, str]) -> str:
    """The judge's reply text to a grading conversation (see the module docstring)."""
    users = "\n".join(
        message_text(m.get("content"))
        for m in messages
        if isinstance(m, dict) and m.get("role") == "user"
    )
    convo = json.dumps(messages, sort_keys=True, ensure_ascii=False, default=str)
    draw = lambda what: _unit(what, model.name, model.seed, seed, convo)  # noqa: E731
    pairwise = "<output_a>" in users and "<output_b>" in users
    kind = "pairwise" if pairwise else "reference" if '"verdict"' in users else "rubric"
    if draw("malformed") < model.malformed_rate:
        return _malformed(kind, draw("form"))
    wrong = draw("accuracy") >= model.accuracy
    question = (_tag(users, "input") or "").strip()
    expected = _tag(users, "expected")
    if expected is None or expected.strip().lower() in _NO_REFERENCE:
        expected = answers.get(question)
    if pairwise:
        va = grade(_tag(users, "output_a") or "", expected)
        vb = grade(_tag(users, "output_b") or "", expected)
        rank = {"correct": 2, "partial": 1, "incorrect": 0, None: 0}
        winner = "A" if rank[va] > rank[vb] else "B" if rank[vb] > rank[va] else "tie"
        if wrong and winner != "tie":
            winner = "B" if winner == "A" else "A"
        why = f"Output A is {va or 'ungraded'}, output B is {vb or 'ungraded'}."
        if draw("bias") < model.position_bias:
            winner, why = "A", "The first output reads better."
        return _styled({"reasoning": why, "winner": winner}, draw("style"))
    verdict, why = _verdict(_tag(users, "output") or "", expected, wrong)
    if kind == "reference":
        return _styled({"reasoning": why, "verdict": verdict or "partial"}, draw("style"))
    m = _SCALE.search(users)
    lo, hi = (float(m.group(1)), float(m.group(2))) if m else (1.0, 5.0)
    mid = lo + (hi - lo) / 2
    if float(lo).is_integer() and float(hi).is_integer() and hi - lo > 1:
        mid = float(round(mid))
    value = {"correct": hi, "partial": mid, "incorrect": lo, None: mid}[verdict]
    score = int(value) if value.is_integer() else value
    return _styled({"reasoning": why, "score": score}, draw("style"))
