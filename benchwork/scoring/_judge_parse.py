"""Reading a judge's reply: find the JSON object (bare, fenced, or inside prose) and validate it.

Each ``read_*`` function returns ``(value, reasoning, problem)``: ``value`` is None exactly
when the reply is unusable, and ``problem`` then says why in a few words (it is sent back to
the judge in the one re-ask, and ends up in the error score's explanation).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

__all__ = ["VERDICTS", "find_json", "read_score", "read_verdict", "read_winner"]

#: Reference-grading verdicts and their score values.
VERDICTS: dict[str, float] = {"correct": 1.0, "partial": 0.5, "incorrect": 0.0}
_VERDICT_ALIASES = {
    "right": "correct",
    "true": "correct",
    "yes": "correct",
    "partially correct": "partial",
    "partially_correct": "partial",
    "partly correct": "partial",
    "wrong": "incorrect",
    "false": "incorrect",
    "no": "incorrect",
    "not correct": "incorrect",
}
_WINNERS = {
    "a": "A",
    "output a": "A",
    "output_a": "A",
    "b": "B",
    "output b": "B",
    "output_b": "B",
    "tie": "tie",
    "draw": "tie",
    "equal": "tie",
    "none": "tie",
}
_FENCE = re.compile(r"```[a-zA-Z]*\s*\n?(.*?)```", re.DOTALL)
_DECODER = json.JSONDecoder()


def _objects(text: str) -> list[dict[str, Any]]:
    """JSON objects in ``text``: the whole text, fenced blocks, then every ``{`` that parses."""
    found: list[dict[str, Any]] = []
    for chunk in (text.strip(), *(m.strip() for m in _FENCE.findall(text))):
        try:
            obj = json.loads(chunk)
        except ValueError:
            continue
        if isinstance(obj, dict):
            found.append(obj)
    if found:
        return found
    for m in re.finditer(r"\{", text):
        try:
            obj, _ = _DECODER.raw_decode(text, m.start())
        except ValueError:
            continue
        if isinstance(obj, dict):
            found.append(obj)
    return found


def find_json(text: str | None, key: str) -> tuple[dict[str, Any] | None, str | None]:
    """The first JSON object in ``text`` that has ``key`` (else None and the problem)."""
    if text is None or not text.strip():
        return None, "the reply was empty"
    objects = _objects(text)
    if not objects:
        return None, "no JSON object found in the reply"
    for obj in objects:
        if key in obj:
            return obj, None
    return None, f"the JSON object has no {key!r} field"


def _reasoning(obj: dict[str, Any]) -> str | None:
    why = obj.get("reasoning", obj.get("explanation"))
    if why is None:
        return None
    return why if isinstance(why, str) else json.dumps(why, ensure_ascii=False)


def read_score(
    text: str | None, scale: tuple[float, float]
) -> tuple[float | None, str | None, str | None]:
    """``{"reasoning", "score"}`` with a number in ``scale`` (a numeric string is accepted)."""
    obj, problem = find_json(text, "score")
    if obj is None:
        return None, None, problem
    raw = obj["score"]
    if isinstance(raw, str):
        try:
            raw = float(raw.strip().split("/")[0])
        except ValueError:
            return None, None, f"score {obj['score']!r} is not a number"
    if isinstance(raw, bool) or not isinstance(raw, int | float) or math.isnan(raw):
        return None, None, f"score {obj['score']!r} is not a number"
    lo, hi = scale
    if not lo <= raw <= hi:
        return None, None, f"score {raw:g} is outside {lo:g} to {hi:g}"
    return float(raw), _reasoning(obj), None


def read_verdict(text: str | None) -> tuple[str | None, str | None, str | None]:
    """``{"reasoning", "verdict"}`` with verdict correct / partial / incorrect."""
    obj, problem = find_json(text, "verdict")
    if obj is None:
        return None, None, problem
    raw = obj["verdict"]
    word = " ".join(str(raw).strip().lower().split()) if isinstance(raw, str | bool) else ""
    verdict = word if word in VERDICTS else _VERDICT_ALIASES.get(word)
    if verdict is None:
        return None, None, f"verdict {raw!r} is not one of correct, partial, incorrect"
    return verdict, _reasoning(obj), None


def read_winner(text: str | None) -> tuple[str | None, str | None, str | None]:
    """``{"reasoning", "winner"}`` with winner A / B / tie."""
    obj, problem = find_json(text, "winner")
    if obj is None:
        return None, None, problem
    raw = obj["winner"]
    winner = _WINNERS.get(" ".join(str(raw).strip().lower().split())) if raw is not None else "tie"
    if winner is None:
        return None, None, f"winner {raw!r} is not one of A, B, tie"
    return winner, _reasoning(obj), None
