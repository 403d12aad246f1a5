"""Synthetic cases: N variations of each example case, written by a generator model.

Every generator call goes through the runner, so it is cached on disk (asking again pays
nothing and gives the same cases) and stored as a run. Replies are read strictly
(``_variations.parse_variations``): unusable ones are skipped and counted, with a warning that
says why, and never kept. Variations that repeat a seed case or each other (compared by
normalised text) are dropped and counted. Each kept case records where it came from in
``case.metadata["synthetic"]`` (generator, model, seed case, round), so it can be reviewed
(accepted, edited or rejected) before it is used.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchwork.errors import BenchworkError, SuiteError
from benchwork.suite import Case, Suite
from benchwork.target import Target
from benchwork.tuning._variations import Variations, case_key, parse_variations

__all__ = ["SYNTH_SYSTEM", "SYNTH_TEMPLATE", "synthesize", "synthesize_sync"]

SYNTH_SYSTEM = "You write test cases for evaluating language models. Reply with JSON only."
SYNTH_TEMPLATE = (
    "Write {n} new test cases that vary this example: the same task and answer format, "
    "different content or wording, each with its own correct expected answer.{guidance} "
    "Reply with a JSON array of {n} objects with the keys {keys} only. Request {round}.\n"
    "<case>{case}</case>"
)

Seeds = Case | Suite | str | Path | Sequence[Case]


def _seed_suite(example_or_suite: Seeds) -> Suite:
    if isinstance(example_or_suite, Suite):
        return example_or_suite
    if isinstance(example_or_suite, Case):
        return Suite(name="example", cases=[example_or_suite])
    if isinstance(example_or_suite, str | Path):
        from benchwork.runner import coerce_suite

        return coerce_suite(example_or_suite)
    cases = list(example_or_suite)
    if not cases or not all(isinstance(c, Case) for c in cases):
        raise BenchworkError(
            "synthesize needs a Case, a list of Cases, a Suite or a suite file to vary"
        )
    return Suite(name="examples", cases=cases)


def _shown(case: Case) -> dict[str, Any]:
    out: dict[str, Any] = {"input": case.input}
    if case.vars:
        out["vars"] = case.vars
    if case.expected is not None:
        out["expected"] = case.expected
    return out


def _ask(seed: Case, need: int, round_no: int, guidance: str) -> str:
    keys = ['"input"', *(['"vars"'] if seed.vars else []),
            *(['"expected"'] if seed.expected is not None else [])]  # fmt: skip
    return SYNTH_TEMPLATE.format(
        n=need,
        guidance=f" {guidance.strip()}" if guidance.strip() else "",
        keys=" and ".join([", ".join(keys[:-1]), keys[-1]] if len(keys) > 1 else keys),
        round=round_no,
        case=json.dumps(_shown(seed), ensure_ascii=False, default=str),
    )


async def synthesize(
    example_or_suite: Seeds,
    n: int,
    generator: Target,
    *,
    rounds: int = 3,
    guidance: str = "",
    cache_dir: str | Path | None = None,
    home: str | Path | None = None,
) -> Variations:
    """``n`` new cases per seed case, written by *generator*, deduplicated, with provenance.

    ``example_or_suite``: one Case, a list of them, a Suite or a suite file; every case in it
    is a seed, and a variation that repeats any seed is dropped. When duplicates or unusable
    replies leave a seed short, up to ``rounds`` requests in all ask for the rest.
    ``guidance`` is added to every request (e.g. "Make them harder."). Returns a list of
    ``Case`` (``Variations``: ``.report``, ``.problems``, ``.to_suite()``).
    """
    from benchwork.runner import run

    seeds = _seed_suite(example_or_suite)
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise BenchworkError(f"n must be a whole number >= 1 (variations per seed case), got {n!r}")
    if not isinstance(rounds, int) or rounds < 1:
        raise BenchworkError(f"rounds must be a whole number >= 1, got {rounds!r}")
    chat = [c.id for c in seeds.cases if not isinstance(c.input, str)]
    if chat:
        raise BenchworkError(
            f"synthesize varies cases whose input is text; case(s) {chat[:5]} hold chat "
            "messages: pass the other cases (suite.filter) or write their variations by hand"
        )
    seen = {case_key(c) for c in seeds.cases}
    taken_ids = {c.id for c in seeds.cases}
    kept: dict[str, list[Case]] = {c.id: [] for c in seeds.cases}
    report: dict[str, Any] = {"duplicates": 0, "unusable": 0, "failed_calls": 0, "problems": [],
                              "calls": 0, "cached": 0, "runs": []}  # fmt: skip
    by_id = {c.id: c for c in seeds.cases}
    for round_no in range(1, rounds + 1):
        short = [c for c in seeds.cases if len(kept[c.id]) < n]
        if not short:
            break
        asks = Suite(name=f"{seeds.name}:synthesize", system=SYNTH_SYSTEM, cases=[
            Case(id=c.id, input=_ask(c, n - len(kept[c.id]), round_no, guidance)) for c in short
        ])  # fmt: skip
        result = await run(
            asks, generator, scorers=[], cache_dir=cache_dir, home=home, progress=False
        )
        report["runs"].append(result.id)
        counts = result.counts
        report["calls"] += counts["calls"]
        report["cached"] += counts["cached"]
        for row in result.results.filter(~result.results["warmup"]).iter_rows(named=True):
            seed = by_id[row["case_id"]]
            where = f"case {seed.id!r} round {round_no}"
            if row["status"] != "ok":
                report["failed_calls"] += 1
                report["problems"].append(f"{where}: the call failed: {row['error_message']}")
                continue
            items, problems, bad = parse_variations(row["output_text"], seed)
            report["unusable"] += bad
            report["problems"] += [f"{where}: {p}" for p in problems]
            for fields in items:
                if len(kept[seed.id]) >= n:
                    break
                case = _make_case(seed, fields, generator, round_no, taken_ids, report, where)
                if case is None:
                    continue
                key = case_key(case)
                if key in seen:
                    report["duplicates"] += 1
                    continue
                seen.add(key)
                taken_ids.add(case.id)
                kept[seed.id].append(case)
    cases = [case for c in seeds.cases for case in kept[c.id]]
    out = Variations(cases, seeds, wanted=n * len(seeds), **report)
    if out.unusable or out.failed_calls or len(out) < out.wanted:
        shown = "; ".join(out.problems[:3])
        warnings.warn(
            f"synthesize: kept {len(out)} of {out.wanted} cases after {rounds} round(s): "
            f"{out.unusable} unusable replies or items and {out.failed_calls} failed calls "
            f"skipped, {out.duplicates} duplicates dropped"
            + (f" (e.g. {shown})" if shown else "")
            + "; see .problems, or raise rounds",
            RuntimeWarning,
            stacklevel=2,
        )
    return out


def _make_case(
    seed: Case,
    fields: dict[str, Any],
    generator: Target,
    round_no: int,
    taken_ids: set[str],
    report: dict[str, Any],
    where: str,
) -> Case | None:
    j = 1
    while f"{seed.id}-syn{j}" in taken_ids:
        j += 1
    provenance = {"generator": generator.name, "model": generator.model,
                  "seed_case": seed.id, "round": round_no}  # fmt: skip
    try:
        return Case(
            id=f"{seed.id}-syn{j}",
            input=fields["input"],
            vars=fields.get("vars", dict(seed.vars)),
            expected=fields.get("expected"),
            tags=[*seed.tags, *([] if "synthetic" in seed.tags else ["synthetic"])],
            metadata={"synthetic": provenance},
        )
    except SuiteError as e:
        report["unusable"] += 1
        report["problems"].append(f"{where}: an item is not a valid case: {e}")
        return None


def synthesize_sync(
    example_or_suite: Seeds,
    n: int,
    generator: Target,
    *,
    rounds: int = 3,
    guidance: str = "",
    cache_dir: str | Path | None = None,
    home: str | Path | None = None,
) -> Variations:
    """Blocking ``synthesize`` (scripts, or inside a running event loop such as a notebook)."""
    from benchwork._util.sync import run_blocking

    return run_blocking(
        lambda: synthesize(
            example_or_suite,
            n,
            generator,
            rounds=rounds,
            guidance=guidance,
            cache_dir=cache_dir,
            home=home,
        )
    )
