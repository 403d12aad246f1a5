"""What a simulated model says: the right answer, a plausible wrong one, or filler.

Everything here is deterministic: the same model, prompt and request seed give the same reply,
so reruns of a benchmark agree and caches can be tested.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

__all__ = [
    "count_words",
    "is_correct",
    "is_tool_results",
    "last_user_text",
    "message_text",
    "pieces",
    "reply_text",
]

_FILLER = (
    "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut "
    "labore et dolore magna aliqua"
).split()

_PIECE = re.compile(r"\s*\S+\s*$|\s*\S+")

_WRONG = (
    "I am not sure.",
    "I don't know.",
    "It is hard to say.",
    "That cannot be determined.",
    "Perhaps something else?",
    "No idea, sorry.",
    "?",
    "0",
    "-",
)


def pieces(text: str) -> list[str]:
    """``text`` cut into one piece per word, each with the whitespace before it.

    Joined, the pieces give back ``text`` exactly, and their number is the word count.
    """
    return _PIECE.findall(text)


def message_text(content: Any) -> str:
    """The text of a message ``content``: a string, or the text parts of a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
            elif isinstance(part, dict) and part.get("type") == "tool_result":
                parts.append(message_text(part.get("content")))  # Anthropic's tool results
        return "\n".join(parts)
    return ""


def count_words(content: Any) -> int:
    """Whitespace-separated words in a message ``content`` (the simulator's token count)."""
    if isinstance(content, str):
        return len(content.split())
    return len(message_text(content).split())


def is_tool_results(content: Any) -> bool:
    """Whether a message ``content`` is nothing but Anthropic ``tool_result`` blocks."""
    return (
        isinstance(content, list)
        and bool(content)
        and all(isinstance(p, dict) and p.get("type") == "tool_result" for p in content)
    )


def last_user_text(messages: list[Any]) -> str | None:
    """The text of the last ``user`` message that is not just tool results, or None."""
    for message in reversed(messages):
        if (
            isinstance(message, dict)
            and message.get("role") == "user"
            and not is_tool_results(message.get("content"))
        ):
            return message_text(message.get("content"))
    return None


def _unit(*parts: object) -> float:
    """A number in [0, 1) fixed by ``parts`` (sha256), the same on every run and machine."""
    digest = hashlib.sha256("\x00".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def is_correct(model: str, prompt: str, seed: int, accuracy: float) -> bool:
    """Whether ``model`` answers ``prompt`` right for this request ``seed``."""
    if accuracy >= 1.0:
        return True
    if accuracy <= 0.0:
        return False
    return _unit("correct", model, prompt, seed) < accuracy


def _wrong_answer(model: str, prompt: str, seed: int, expected: str) -> str:
    """A plausible wrong answer that does not contain ``expected`` (ignoring case)."""
    needle = expected.strip().lower()
    candidates: list[str] = []
    try:  # a number is wrong in a believable way: a nearby number
        number = int(needle)
        offset = 1 + int(_unit("offset", model, prompt, seed) * 9)
        candidates += [str(number + offset), str(number - offset)]
    except ValueError:
        pass
    start = int(_unit("wrong", model, prompt, seed) * len(_WRONG))
    candidates += [_WRONG[(start + i) % len(_WRONG)] for i in range(len(_WRONG))]
    for text in candidates:
        if not needle or needle not in text.lower():
            return text
    return "..."  # only reached when every candidate contains the expected text


def reply_text(
    model: str,
    prompt: str | None,
    seed: int,
    accuracy: float,
    filler_tokens: int,
    answers: dict[str, str],
) -> tuple[list[str], bool | None]:
    """The reply's tokens (see ``pieces``) and whether it is right (None when the prompt has no known answer)."""
    expected = None
    if prompt is not None:
        expected = answers.get(prompt)
        if expected is None:
            expected = answers.get(prompt.strip())
    if expected is None:
        words = [_FILLER[i % len(_FILLER)] for i in range(filler_tokens)]
        return [w if i == 0 else " " + w for i, w in enumerate(words)], None
    if is_correct(model, prompt or "", seed, accuracy):
        return pieces(expected), True
    return pieces(_wrong_answer(model, prompt or "", seed, expected)), False
