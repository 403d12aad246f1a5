"""A panel of LLM judges: each grades, then a majority or mean vote, with their agreement.

Per call the Score holds the vote, ``meta["agreement"]`` (the fraction of judges that agree
with the most common verdict; also the ``score_<name>_agreement`` column) and every judge's
verdict in ``meta["votes"]``. Over a run, ``panel_agreement`` adds Fleiss' kappa.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchwork.errors import BenchworkError
from benchwork.scoring._judge import Judge, JudgeReference
from benchwork.scoring._judge_model import JudgeSpec
from benchwork.scoring._judge_prompts import DEFAULT_RUBRIC, JUDGE_SYSTEM
from benchwork.scoring._registry import register_scorer

if TYPE_CHECKING:
    from benchwork.cache import CachePolicy
from benchwork.scoring._score import AsyncBaseScorer, Score

__all__ = ["Panel", "fleiss_kappa", "panel_agreement"]

VOTES = ("majority", "mean")
KINDS = {"rubric": Judge, "reference": JudgeReference}


def fleiss_kappa(table: Sequence[Sequence[int]]) -> float | None:
    """Fleiss' kappa of a subjects × categories count table (each row sums to the raters, n ≥ 2).

    1 = perfect agreement, 0 = what chance gives, < 0 = worse than chance; None when undefined
    (no rows, fewer than 2 raters, rows of unequal size, or one category used throughout).
    """
    rows = [list(r) for r in table if sum(r) > 0]
    if not rows:
        return None
    n = sum(rows[0])
    if n < 2 or any(sum(r) != n for r in rows):
        return None
    subjects, width = len(rows), max(len(r) for r in rows)
    p = [sum(r[j] if j < len(r) else 0 for r in rows) / (subjects * n) for j in range(width)]
    p_bar = sum((sum(c * c for c in r) - n) / (n * (n - 1)) for r in rows) / subjects
    p_e = sum(x * x for x in p)
    if p_e >= 1.0:
        return None
    return (p_bar - p_e) / (1 - p_e)


def panel_agreement(records: Any, name: str = "panel") -> dict[str, Any]:
    """Agreement of a panel over a run (a Run or records): mean per-call agreement with the
    majority, and Fleiss' kappa over the calls every judge voted on (None with < 3 judges)."""
    records = getattr(records, "records", records)
    votes: list[dict[str, float]] = []
    agreements: list[float] = []
    for rec in records:
        scores = rec.get("scores") if isinstance(rec, dict) else getattr(rec, "scores", None)
        score = (scores or {}).get(name)
        meta = score.get("meta") if isinstance(score, dict) else None
        if not isinstance(meta, dict) or "votes" not in meta:
            continue
        if meta.get("agreement") is not None:
            agreements.append(float(meta["agreement"]))
        votes.append({k: v for k, v in meta["votes"].items() if v is not None})
    judges = sorted({j for v in votes for j in v})
    full = [v for v in votes if len(v) == len(judges)]
    categories = sorted({x for v in full for x in v.values()})
    table = [[Counter(v.values())[c] for c in categories] for v in full]
    return {
        "calls": len(votes),
        "judges": judges,
        "mean_agreement": sum(agreements) / len(agreements) if agreements else None,
        "fleiss_kappa": fleiss_kappa(table) if len(judges) >= 3 else None,
        "kappa_calls": len(full),
    }


class Panel(AsyncBaseScorer):
    """Several judge models grade each call; ``vote="majority"`` (most common verdict; a tie
    gives the mean of the tied verdicts) or ``"mean"``. ``kind`` is ``"rubric"`` (the
    ``judge`` scorer) or ``"reference"`` (``judge_reference``)."""

    default_name = "panel"
    needs_expected = False

    def __init__(
        self,
        judges: Iterable[JudgeSpec] = (),
        *,
        vote: str = "majority",
        kind: str = "rubric",
        rubric: str = DEFAULT_RUBRIC,
        scale: Sequence[float] = (1, 5),
        api_base: str | None = None,
        template: str | None = None,
        system: str | None = JUDGE_SYSTEM,
        cache_dir: str | Path | None = None,
        cache: str = "use",
        name: str | None = None,
        expected: Any = None,
    ) -> None:
        super().__init__(name=name, expected=expected)
        if vote not in VOTES:
            raise BenchworkError(f"panel vote must be one of {', '.join(VOTES)}, not {vote!r}")
        if kind not in KINDS:
            raise BenchworkError(f"panel kind must be one of {', '.join(KINDS)}, not {kind!r}")
        judges = list(judges)
        if len(judges) < 2:
            raise BenchworkError("a panel needs at least 2 judges (3 or more for Fleiss' kappa)")
        self.vote, self.kind = vote, kind
        self.needs_expected = kind == "reference"  # pyright: ignore[reportAttributeAccessIssue]
        common: dict[str, Any] = dict(
            api_base=api_base, template=template, system=system, cache_dir=cache_dir, cache=cache
        )
        if kind == "rubric":
            common.update(rubric=rubric, scale=scale)
        self.members: list[Any] = []
        seen: set[str] = set()
        for spec in judges:
            member = KINDS[kind](spec, **common)
            label = member.judge.name
            while label in seen:  # the same model twice: still two distinct votes
                label += "'"
            seen.add(label)
            member.name = label
            self.members.append(member)

    def config_options(self) -> dict[str, Any]:
        """Stored with each judge's resolved target (``api_base`` folded in), never a key."""
        options = super().config_options()
        options.pop("api_base", None)
        options["judges"] = [m.judge.target.to_dict() for m in self.members]
        return options

    def bind_run(self, policy: CachePolicy) -> None:
        """Called by the runner: every judge shares the run's cache and cache mode."""
        for m in self.members:
            m.bind_run(policy)

    async def score(self, output: str, expected: Any, case: Any, record: Any) -> Score:  # type: ignore[override]
        scores: list[Score] = await asyncio.gather(*(m(case, record) for m in self.members))
        return self.combine([m.name for m in self.members], scores)

    def combine(self, names: list[str], scores: list[Score]) -> Score:
        """The panel's Score from its judges' Scores."""
        votes = {n: s.value for n, s in zip(names, scores, strict=True)}
        labels = {n: s.label for n, s in zip(names, scores, strict=True)}
        valid = {n: v for n, v in votes.items() if v is not None}
        costs = [s.cost_usd for s in scores]
        extras: dict[str, Any] = {
            "cost_usd": None if any(c is None for c in costs) else sum(costs),  # type: ignore[arg-type]
            "input_tokens": _total(s.input_tokens for s in scores),
            "output_tokens": _total(s.output_tokens for s in scores),
            "judge": ", ".join(s.judge or "?" for s in scores),
        }
        lines = [f"{n}: {s.explanation}" for n, s in zip(names, scores, strict=True)]
        if not valid:
            meta = {"votes": votes, "labels": labels, "agreement": None, "vote": self.vote}
            return Score(
                None,
                "error",
                "no judge gave a usable verdict; " + "; ".join(lines),
                meta=meta,
                **extras,
            )
        counts = Counter(valid.values())
        top = max(counts.values())
        modes = sorted(v for v, c in counts.items() if c == top)
        agreement = top / len(valid)
        if self.vote == "mean":
            value = sum(valid.values()) / len(valid)
            label = f"mean of {len(valid)}"
        else:
            value = sum(modes) / len(modes)
            label = (
                next(labels[n] for n, v in valid.items() if v == modes[0])
                if len(modes) == 1
                else "tie"
            )
        head = (
            f"{self.vote} {label}: {top}/{len(valid)} judges agree with the most common verdict "
            f"(agreement {agreement:.2f})"
        )
        if len(valid) < len(votes):
            head += f"; {len(votes) - len(valid)} judge(s) failed"
        meta = {"votes": votes, "labels": labels, "agreement": agreement, "vote": self.vote}
        return Score(value, label, head + "; " + "; ".join(lines), meta=meta, **extras)

    def __repr__(self) -> str:
        judges = ", ".join(m.judge.model for m in self.members)
        return (
            f"Panel(name={self.name!r}, vote={self.vote!r}, kind={self.kind!r}, judges=[{judges}])"
        )


def _total(values: Iterable[int | None]) -> int | None:
    values = list(values)
    return None if any(v is None for v in values) else sum(values)  # type: ignore[arg-type]


register_scorer("panel", Panel)
