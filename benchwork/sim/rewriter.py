"""A simulated meta-model for prompt tuners: it rewrites the prompt between <prompt> tags.

Each rewrite is the original plus one instruction from ``REWRITES``, chosen by a hash of the
request (so the same request always gets the same rewrite, and "variant 1", "variant 2", ...
get different ones). With ``SimModel(prompt_rules=...)`` some of these help and some do not:
enough to prove that a tuner finds a real improvement, or is caught overfitting.
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["REWRITES", "rewrite_reply"]

#: the instructions a rewrite adds (one each)
REWRITES = (
    "Give the answer first.",
    "Be precise.",
    "Think step by step.",
    "Answer in one word.",
    "Be brief.",
    "Double-check the arithmetic.",
)

_PROMPT = re.compile(r"<prompt>(.*?)</prompt>", re.DOTALL)


def rewrite_reply(request_text: str, seed: int) -> str:
    """The rewritten prompt: the text between ``<prompt>`` tags plus one instruction."""
    found = _PROMPT.search(request_text)
    original = found.group(1).strip() if found else ""
    digest = hashlib.sha256(f"{seed}\x00{request_text}".encode()).digest()
    extra = REWRITES[int.from_bytes(digest[:4], "big") % len(REWRITES)]
    return f"{original} {extra}".strip()
