"""A simulated meta-model for prompt tuners and case synthesis (``SimModel(role="rewriter")``).

What it answers depends on what the request holds:

- one ``<prompt>`` block: a rewrite (or mutation), the original plus one instruction from
  ``REWRITES`` that it lacks, chosen by a hash of the request (so the same request always gets
  the same rewrite, and "variant 1", "variant 2", ... get different ones);
- two ``<prompt>`` blocks: a crossover, the first prompt's sentences followed by the
  second's, each sentence once;
- a ``<case>`` block (a JSON example case) and "Write N": a JSON array of N variations of the
  case (see ``synthesis_reply``), some of them repeats, and with ``malformed_rate`` some junk.

With ``SimModel(prompt_rules=...)`` some rewrites help and some do not: enough to prove that a
tuner finds a real improvement, or is caught overfitting. Everything is deterministic.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

__all__ = ["REWRITES", "crossover_reply", "rewrite_reply", "synthesis_reply"]

#: the instructions a rewrite adds (one each)
REWRITES = (
    "Give the answer first.",
    "Be precise.",
    "Think step by step.",
    "Answer in one word.",
    "Be brief.",
    "Double-check the arithmetic.",
)

#: how a reworded variation of a case may start
REWORDINGS = ("Quick question: ", "Please answer: ", "Tell me: ", "I wonder: ", "Question: ")

#: and how it may end
ENDINGS = ("", " Thanks.", " Be quick.", " (short answer)")

_PROMPT = re.compile(r"<prompt>(.*?)</prompt>", re.DOTALL)
_CASE = re.compile(r"<case>(.*?)</case>", re.DOTALL)
_COUNT = re.compile(r"\bWrite (\d+)\b")
_INT = re.compile(r"(?<![\d.])\d+(?![\d.])")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def _draw(*parts: object) -> int:
    digest = hashlib.sha256("\x00".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _unit(*parts: object) -> float:
    return _draw(*parts) / 2**64


def rewrite_reply(request_text: str, seed: int, malformed_rate: float = 0.0) -> str:
    """The meta-model's reply to ``request_text`` (see the module docstring for the cases)."""
    if _CASE.search(request_text):
        return synthesis_reply(request_text, seed, malformed_rate)
    prompts = [p.strip() for p in _PROMPT.findall(request_text)]
    if len(prompts) >= 2:
        return crossover_reply(prompts[0], prompts[1])
    original = prompts[0] if prompts else ""
    fresh = [r for r in REWRITES if r.casefold() not in original.casefold()] or list(REWRITES)
    digest = hashlib.sha256(f"{seed}\x00{request_text}".encode()).digest()
    extra = fresh[int.from_bytes(digest[:4], "big") % len(fresh)]
    return f"{original} {extra}".strip()


def crossover_reply(a: str, b: str) -> str:
    """A child of prompts ``a`` and ``b``: ``a``'s sentences, then ``b``'s, each once."""
    out: list[str] = []
    seen: set[str] = set()
    for s in [*_SENTENCE.split(a.strip()), *_SENTENCE.split(b.strip())]:
        if s and s.casefold() not in seen:
            out.append(s)
            seen.add(s.casefold())
    return " ".join(out)


def _renumber(text: str, expected: Any, draw: int) -> tuple[str, Any] | None:
    """``text`` with new numbers, and ``expected`` recomputed when it is their sum or product."""
    numbers = [int(m) for m in _INT.findall(text)]
    try:
        answer = int(str(expected).strip())
    except ValueError:
        return None
    if not numbers or answer not in (sum(numbers), _product(numbers)):
        return None
    fresh = [(draw >> (7 * i)) % 100 for i in range(len(numbers))]
    it = iter(fresh)
    new_text = _INT.sub(lambda _: str(next(it)), text)
    new_answer = sum(fresh) if answer == sum(numbers) else _product(fresh)
    return new_text, str(new_answer) if isinstance(expected, str) else new_answer


def _product(numbers: list[int]) -> int:
    out = 1
    for n in numbers:
        out *= n
    return out


def _variation(example: dict[str, Any], seed: int, request: str, j: int) -> dict[str, Any]:
    text = str(example.get("input", ""))
    expected = example.get("expected")
    kind = _draw(seed, request, j, "kind") % 5
    if kind == 0:  # a repeat of the example, differently spaced and cased (a real model's habit)
        return {**example, "input": "  " + text.upper() + " "}
    renumbered = _renumber(text, expected, _draw(seed, request, j, "numbers"))
    if renumbered is not None and kind in (1, 2, 3):
        return {**example, "input": renumbered[0], "expected": renumbered[1]}
    lead = REWORDINGS[_draw(seed, request, j, "lead") % len(REWORDINGS)]
    body = text[:1].lower() + text[1:] if text[:1].isupper() and not text[1:2].isupper() else text
    tail = ENDINGS[_draw(seed, request, j, "tail") % len(ENDINGS)]
    return {**example, "input": lead + body + tail}


def synthesis_reply(request_text: str, seed: int, malformed_rate: float = 0.0) -> str:
    """A JSON array of N variations of the ``<case>`` example ("Write N" in the request).

    A variation changes the numbers (and recomputes an expected sum or product) or rewords the
    input; one in five repeats the example itself (to be deduplicated). With ``malformed_rate``
    the whole reply is prose instead of JSON, or single items lack their ``input``.
    """
    found = _CASE.search(request_text)
    try:
        example = json.loads(found.group(1)) if found else None
    except ValueError:
        example = None
    if not isinstance(example, dict):
        return "I could not read the example case."
    count = _COUNT.search(request_text)
    n = min(int(count.group(1)), 50) if count else 3
    if _unit(seed, request_text, "junk") < malformed_rate:
        return "Sure! Here are some ideas: vary the numbers, vary the wording, and so on."
    items: list[dict[str, Any]] = []
    for j in range(n):
        item = _variation(example, seed, request_text, j)
        if _unit(seed, request_text, j, "bad item") < malformed_rate:
            item = {"question": item.get("input")}  # the wrong key: unusable
        items.append(item)
    return json.dumps(items, ensure_ascii=False)
