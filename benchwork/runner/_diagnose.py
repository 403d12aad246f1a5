"""Why a target's calls failed: its dominant error and a hint at the usual cause.

A run where every call failed used to end 'finished', exit 0 and show a cost of $0.000000;
the cause was only in retry lines that ``--quiet`` hides. Now each target with failures gets
one line (``benchwork run``/``show`` print it, ``Run.failures()`` returns it), a run with no
successful call is 'failed', and the command line exits non-zero when any target's calls all
failed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["TargetFailure", "diagnose"]

_URL = re.compile(r"https?://[^\s:'\"]+(?::\d+)?[^\s'\"]*")

#: error_type -> hint (``{url}`` is the address the error names, when it names one)
_HINTS = {
    "bad_url": "fix the target's api_base (an http(s) URL such as http://127.0.0.1:8000/v1)",
    "unknown_host": "the host name in api_base does not exist: check it for typos",
    "auth": "the provider refused the key: check that api_key_env names a variable "
    "holding a valid key",
    "permission": "the key has no access to this model",
    "not_found": "the endpoint or model was not found: check the model id, and that api_base "
    "ends where the provider's API starts (often /v1)",
    "rate_limit": "rate limited: lower the target's concurrency or set rpm",
    "timeout": "no answer in time: raise timeout_s, or check that the server is not overloaded",
    "server_error": "the provider failed on its side: try again later",
    "bad_request": "the provider rejected the request: check the model id, provider prefix "
    "and params",
    "stream_cut": "the connection closed mid-answer: check the server's logs",
    "protocol": "the server's answer is not an OpenAI-compatible stream: check api_base",
    "cache_miss": "replay mode answers only from the cache: run once with cache 'use'",
}


@dataclass(frozen=True)
class TargetFailure:
    """One target's failed calls: how many, the most common error, and what to check."""

    target: str
    failed: int
    calls: int
    error_type: str
    message: str
    hint: str

    @property
    def all_failed(self) -> bool:
        return self.failed == self.calls

    def line(self) -> str:
        """One line for a terminal: ``target: 24/24 calls failed (transport): ... -> hint``."""
        share = f"all {self.calls}" if self.all_failed else f"{self.failed}/{self.calls}"
        return f"{self.target}: {share} calls failed ({self.error_type}): {self.message} -> {self.hint}"


def _hint(error_type: str, message: str) -> str:
    if error_type == "transport":
        url = _URL.search(message)
        where = f" at {url.group(0).rstrip(':.,;)')}" if url else ""
        if re.search(r"refused|errno 111|connect call failed", message, re.IGNORECASE):
            return f"connection refused{where}: is the server running?"
        return f"cannot reach the server{where}: check the address and the network"
    return _HINTS.get(error_type, "see error_message in run.results")


def diagnose(records: Iterable[Any]) -> list[TargetFailure]:
    """A ``TargetFailure`` per target with failed measured calls (warm-ups left out)."""
    calls: Counter[str] = Counter()
    errors: dict[str, list[Any]] = {}
    for r in records:
        if r.warmup:
            continue
        calls[r.target] += 1
        if r.status != "ok":
            errors.setdefault(r.target, []).append(r)
    out = []
    for target, failed in errors.items():
        kind, _ = Counter(r.error_type or "error" for r in failed).most_common(1)[0]
        example = next(r for r in failed if (r.error_type or "error") == kind)
        message = " ".join(str(example.error_message or "").split())[:200] or "(no message)"
        out.append(
            TargetFailure(target, len(failed), calls[target], kind, message, _hint(kind, message))
        )
    return out
