"""Reading a case generator's reply: JSON variations checked one by one, and deduplication.

A generator's reply is untrusted text. ``parse_variations`` takes the JSON array out of it
(bare, fenced, or inside prose) and turns each item into a ``Case`` only when it has what the
seed case has (a text input; an expected answer when the seed has one); everything else is
reported as a problem, never kept. ``case_key`` is the normalised text duplicates are found by.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

from benchwork.errors import BenchworkError
from benchwork.suite import Case, Suite

__all__ = ["Variations", "case_key", "normalize_text", "parse_variations"]

_FENCE = re.compile(r"```[a-zA-Z]*\s*(.*?)```", re.DOTALL)
_NON_WORD = re.compile(r"[\W_]+")


def normalize_text(text: str) -> str:
    """``text`` compared loosely: NFKC, case-folded, punctuation and runs of space as one space."""
    return _NON_WORD.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def case_key(case: Case) -> str:
    """What makes two cases duplicates: their normalised input (and vars), not their answers."""
    text = case.input if isinstance(case.input, str) else json.dumps(case.input, sort_keys=True)
    key = normalize_text(text)
    if case.vars:
        shown = {k: normalize_text(str(v)) for k, v in sorted(case.vars.items())}
        key += "\x00" + json.dumps(shown, sort_keys=True)
    return key


def _json_array(text: str) -> tuple[list[Any] | None, str]:
    """The JSON array in ``text`` (or the one list inside a JSON object), else a reason."""
    candidates = [text.strip()]
    start, end = text.find("["), text.rfind("]")
    if 0 <= start < end:
        candidates.append(text[start : end + 1])
    candidates += [m.strip() for m in _FENCE.findall(text)]
    for candidate in candidates:
        try:
            data = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(data, dict):
            lists = [v for v in data.values() if isinstance(v, list)]
            data = lists[0] if len(lists) == 1 else data
        if isinstance(data, list):
            return data, ""
    shown = " ".join(text.split())[:60]
    return None, f"no JSON array in the reply ({shown!r})"


def parse_variations(text: str | None, seed: Case) -> tuple[list[dict[str, Any]], list[str], int]:
    """The usable items of a reply as case fields, the problems found, and how many items
    were unusable (a reply with no JSON array counts as one)."""
    if not text or not text.strip():
        return [], ["an empty reply"], 1
    data, reason = _json_array(text)
    if data is None:
        return [], [reason], 1
    items: list[dict[str, Any]] = []
    problems: list[str] = []
    for i, item in enumerate(data, 1):
        problem = _item_problem(item, seed)
        if problem:
            problems.append(f"item {i}: {problem}")
            continue
        fields = {"input": item["input"].strip()}
        if seed.expected is not None:
            fields["expected"] = item["expected"]
        if isinstance(item.get("vars"), dict):
            fields["vars"] = item["vars"]
        items.append(fields)
    return items, problems, len(problems)


def _item_problem(item: Any, seed: Case) -> str:
    if not isinstance(item, dict):
        return f"not an object but {type(item).__name__}"
    given = item.get("input")
    if not isinstance(given, str) or not given.strip():
        keys = ", ".join(map(str, item)) or "none"
        return f"no text 'input' (keys: {keys})"
    if seed.expected is not None and item.get("expected") in (None, ""):
        return "no 'expected' answer (the example has one)"
    if "vars" in item and not isinstance(item["vars"], dict):
        return "'vars' is not a mapping"
    return ""


class Variations(list[Case]):
    """Synthetic cases (a list of ``Case``) with what happened while making them.

    ``duplicates``: variations dropped as repeats of a seed case or of each other;
    ``unusable``: replies or items that could not be read (``problems`` says why);
    ``failed_calls``: generator calls that ended in an error; ``calls`` / ``cached``: the
    generator calls made and how many came from the cache; ``runs``: their run ids.
    """

    def __init__(self, cases: list[Case], seeds: Suite, **report: Any) -> None:
        super().__init__(cases)
        self.seeds = seeds
        self.duplicates: int = report.get("duplicates", 0)
        self.unusable: int = report.get("unusable", 0)
        self.failed_calls: int = report.get("failed_calls", 0)
        self.problems: list[str] = report.get("problems", [])
        self.calls: int = report.get("calls", 0)
        self.cached: int = report.get("cached", 0)
        self.runs: list[str] = report.get("runs", [])
        self.wanted: int = report.get("wanted", 0)

    @property
    def report(self) -> dict[str, Any]:
        """The counts as a mapping (kept, wanted, duplicates, unusable, failed_calls, calls, cached)."""
        return {
            "kept": len(self),
            "wanted": self.wanted,
            "duplicates": self.duplicates,
            "unusable": self.unusable,
            "failed_calls": self.failed_calls,
            "calls": self.calls,
            "cached": self.cached,
        }

    def to_suite(self, name: str | None = None) -> Suite:
        """These cases as a suite with the seed suite's prompt settings and scorers."""
        if not self:
            raise BenchworkError(
                "no synthetic cases to make a suite of; see .problems for why the generator's "
                "replies were unusable"
            )
        s = self.seeds
        return Suite(name=name or f"{s.name}-synthetic", cases=list(self), system=s.system,
                     template=s.template, scorers=list(s.scorers))  # fmt: skip

    def __repr__(self) -> str:
        r = self.report
        return (
            f"Variations({r['kept']} of {r['wanted']} cases, {r['duplicates']} duplicates and "
            f"{r['unusable']} unusable dropped, {r['calls']} calls, {r['cached']} cached)"
        )
