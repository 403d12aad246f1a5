"""The Explorer's frame logic, apart from the widget: case flags, filters, search, pages, diffs.

Pure Python and Polars (no anywidget), so the filters and paging are unit-tested without a
browser, and the widget only ever sends one page of cases and one case's detail to it.

Filters (a case is one ``case_id``; warm-up rows are left out):

* ``failed``: some call of the case has ``status != "ok"``.
* ``disagree``: the case's scorers disagree for some target: on one call (one target, one
  repeat), two ``score_*`` columns give different pass/fail verdicts (pass = value ≥ 0.5;
  unscored values are left out). Needs two or more scorers.
* ``split``: a judge panel is split on some call: a ``score_<name>_agreement`` below 1.
* ``regressed``: against the baseline run, some target's score on the case went down (per
  target and case, mean over repeats; every score both runs have), as ``analysis.flips`` says.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from benchwork.analysis import as_frame, flips, measured, score_columns
from benchwork.errors import BenchworkError
from benchwork.scoring.judging import case_input_text

__all__ = [
    "FILTERS",
    "PASS_AT",
    "ExploreData",
    "Page",
    "apply_diff",
    "diff_html",
    "text_diff",
]

#: filter name -> what it keeps (shown as the button's tooltip)
FILTERS: dict[str, str] = {
    "all": "every case",
    "failed": "a call failed (status is not ok)",
    "disagree": "two scorers give different pass/fail on the same call",
    "split": "a judge panel did not agree (agreement < 1)",
    "regressed": "a target's score went down against the baseline run",
}

#: a score value at or above this passes (score values are in 0..1)
PASS_AT = 0.5

# a diff token: a run of whitespace, a word, or one other character (covers every character)
_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")
# above this many token pairs the diff is one replacement (SequenceMatcher is quadratic)
_MAX_DIFF_WORK = 4_000_000
# a case's texts are cut to this many characters before they go to the browser
MAX_TEXT = 20_000

DiffOp = tuple[str, str]


def text_diff(expected: str, output: str) -> list[DiffOp]:
    """Word-level diff of ``output`` against ``expected``: ``("=" | "-" | "+", text)`` pieces.

    ``"-"`` is text only in ``expected`` (rendered as ``<del>``), ``"+"`` text only in
    ``output`` (``<ins>``). Joining the ``=`` and ``-`` pieces gives ``expected`` back and the
    ``=`` and ``+`` pieces give ``output`` (see :func:`apply_diff`); neighbours never share an op.
    """
    a, b = _TOKEN.findall(expected), _TOKEN.findall(output)
    ops: list[DiffOp] = []
    if len(a) * len(b) > _MAX_DIFF_WORK:
        ops = [("-", expected), ("+", output)]
    else:
        matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                ops.append(("=", "".join(a[i1:i2])))
                continue
            if i2 > i1:
                ops.append(("-", "".join(a[i1:i2])))
            if j2 > j1:
                ops.append(("+", "".join(b[j1:j2])))
    merged: list[DiffOp] = []
    for op, text in ops:
        if not text:
            continue
        if merged and merged[-1][0] == op:
            merged[-1] = (op, merged[-1][1] + text)
        else:
            merged.append((op, text))
    return merged


def apply_diff(ops: Sequence[Sequence[str]]) -> tuple[str, str]:
    """``(expected, output)`` rebuilt from :func:`text_diff` pieces."""
    expected = "".join(text for op, text in ops if op in ("=", "-"))
    output = "".join(text for op, text in ops if op in ("=", "+"))
    return expected, output


def diff_html(ops: Sequence[Sequence[str]]) -> str:
    """The diff as HTML: ``<del>`` for expected-only text, ``<ins>`` for output-only, escaped."""
    from html import escape

    tags = {"-": "del", "+": "ins"}
    parts = []
    for op, text in ops:
        tag = tags.get(op)
        parts.append(f"<{tag}>{escape(text)}</{tag}>" if tag else escape(text))
    return "".join(parts)


def _expected_options(expected: Any) -> list[str]:
    if expected is None:
        return []
    items = list(expected) if isinstance(expected, list | tuple) else [expected]
    out = []
    for item in items:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, bool):
            out.append(str(item).lower())
        else:
            out.append(json.dumps(item, ensure_ascii=False, default=str))
    return out


def _closest(options: list[str], output: str) -> str:
    """The acceptable answer nearest to ``output`` (a case may list several)."""
    if len(options) == 1:
        return options[0]
    return max(
        options, key=lambda o: difflib.SequenceMatcher(None, o, output, autojunk=False).ratio()
    )


def _cut(text: str | None) -> str | None:
    if text is None or len(text) <= MAX_TEXT:
        return text
    return text[:MAX_TEXT] + f"… [{len(text) - MAX_TEXT} more characters]"


def _number(value: Any) -> float | None:
    if value is None or not isinstance(value, int | float) or math.isnan(value):
        return None
    return float(value)


def _target_order(run: Any, frame: pl.DataFrame) -> list[str]:
    """The targets in the order the run was given them (its manifest), then any others."""
    present: list[str] = [str(t) for t in frame["target"].unique(maintain_order=True).to_list()]
    manifest = getattr(run, "manifest", None)
    listed = manifest.get("targets") if isinstance(manifest, dict) else None
    names = [str(t.get("name")) for t in listed or [] if isinstance(t, dict)]
    ordered = [n for n in dict.fromkeys(names) if n in set(present)]
    return ordered + [t for t in present if t not in ordered]


@dataclass(frozen=True)
class Page:
    """One page of the filtered case list."""

    ids: list[str]  # the case ids on this page
    page: int  # 0-based, clamped to the pages there are
    pages: int  # how many pages the filtered list has (at least 1)
    matches: int  # how many cases pass the filter and search


class ExploreData:
    """A run's results arranged per case, with its flags; answers the widget's questions.

    ``run``: a Run or a results frame. ``cases``: case id -> case (a ``Case`` or a dict with
    ``input``/``expected``), for the input and expected texts (none: both unknown).
    ``baseline``: a Run or results frame to compare against (the ``regressed`` filter).
    """

    def __init__(
        self,
        run: Any,
        cases: Mapping[str, Any] | None = None,
        baseline: Any = None,
    ) -> None:
        frame = measured(as_frame(run))
        for col in ("case_id", "target"):
            if col not in frame.columns:
                raise BenchworkError(f"Explorer: the results have no {col!r} column")
        if frame.is_empty():
            raise BenchworkError("Explorer: the run has no rows (warm-ups aside) to explore")
        self.frame = frame.with_row_index("__row")
        self.cases: dict[str, Any] = dict(cases or {})
        self.targets: list[str] = _target_order(run, frame)
        self.score_cols: list[str] = score_columns(frame)
        seen = frame["case_id"].unique(maintain_order=True).to_list()
        present = set(seen)
        # suite order first (the order the author wrote), then any id the suite does not know
        ordered = [c for c in self.cases if c in present]
        ordered += [c for c in seen if c not in self.cases]
        self.case_ids: list[str] = ordered
        self._position = {c: i for i, c in enumerate(ordered)}
        self.has_baseline = baseline is not None
        self.regressions = self._regressions(run, baseline) if baseline is not None else None
        self.flags = self._flags()
        self._haystack = self._search_text()

    # -- flags ------------------------------------------------------------------------------
    def _regressions(self, run: Any, baseline: Any) -> pl.DataFrame:
        base = measured(as_frame(baseline))
        shared = [c for c in self.score_cols if c in score_columns(base)]
        if not shared:
            raise BenchworkError(
                "Explorer: the run and its baseline share no score column "
                f"(run: {self.score_cols}, baseline: {score_columns(base)}); "
                "rescore one of them so both have the same scorer"
            )
        parts = []
        for col in shared:
            f = flips(baseline, run, col).filter(pl.col("change") == "regression")
            parts.append(f.select("target", "case_id", "baseline", "candidate", score=pl.lit(col)))
        return pl.concat(parts, how="vertical_relaxed")

    def _flags(self) -> pl.DataFrame:
        f = self.frame
        status = pl.col("status") if "status" in f.columns else pl.lit("ok")
        row_exprs: list[pl.Expr] = [(status.fill_null("ok") != "ok").alias("failed")]
        if len(self.score_cols) >= 2:
            passes = [(pl.col(c) >= PASS_AT) for c in self.score_cols]
            fails = [(pl.col(c) < PASS_AT) for c in self.score_cols]
            row_exprs.append(
                (
                    pl.any_horizontal(passes).fill_null(False)
                    & pl.any_horizontal(fails).fill_null(False)
                ).alias("disagree")
            )
        else:
            row_exprs.append(pl.lit(False).alias("disagree"))
        agree = [f"{c}_agreement" for c in self.score_cols if f"{c}_agreement" in f.columns]
        if agree:
            split = pl.any_horizontal([pl.col(c) < 1.0 for c in agree]).fill_null(False)
            row_exprs.append(split.alias("split"))
        else:
            row_exprs.append(pl.lit(False).alias("split"))
        flags = f.select("case_id", *row_exprs).group_by("case_id").agg(pl.all().any())
        if self.regressions is not None:
            down = self.regressions["case_id"].unique()
            flags = flags.with_columns(pl.col("case_id").is_in(down.implode()).alias("regressed"))
        else:
            flags = flags.with_columns(pl.lit(False).alias("regressed"))
        order = pl.DataFrame(
            {"case_id": self.case_ids, "__pos": list(range(len(self.case_ids)))},
            schema={"case_id": pl.String, "__pos": pl.Int64},
        )
        return order.join(flags, on="case_id", how="left").sort("__pos")

    def _search_text(self) -> pl.Series:
        """Per case (in ``case_ids`` order): its id, input, expected and outputs, lower-cased."""
        text = pl.col("output_text") if "output_text" in self.frame.columns else pl.lit("")
        outputs = self.frame.group_by("case_id").agg(
            text.cast(pl.String).fill_null("").str.join("\n").alias("__out")
        )
        extra = pl.DataFrame(
            {
                "case_id": self.case_ids,
                "__case": [self._case_text(c) for c in self.case_ids],
            },
            schema={"case_id": pl.String, "__case": pl.String},
        )
        joined = extra.join(outputs, on="case_id", how="left", maintain_order="left")
        return joined.select(
            pl.concat_str(
                [pl.col("case_id"), pl.col("__case"), pl.col("__out").fill_null("")],
                separator="\n",
            ).str.to_lowercase()
        ).to_series()

    def _case_text(self, case_id: str) -> str:
        case = self.cases.get(case_id)
        if case is None:
            return ""
        return "\n".join([self.input_text(case_id) or "", *_expected_options(self._expected(case))])

    # -- questions ------------------------------------------------------------------------------
    def has_case(self, case_id: str) -> bool:
        """Whether the run has a (measured) row for ``case_id``."""
        return case_id in self._position

    def flag_names(self, case_id: str) -> list[str]:
        """The filters (other than ``all``) that keep ``case_id``."""
        row = self.flags.row(self._position[case_id], named=True)
        return [name for name in FILTERS if name != "all" and row.get(name)]

    def _mask(self, filter_name: str, search: str) -> pl.Series:
        if filter_name not in FILTERS:
            raise BenchworkError(
                f"Explorer: unknown filter {filter_name!r}; one of {', '.join(FILTERS)}"
            )
        mask = (
            pl.Series([True] * len(self.case_ids))
            if filter_name == "all"
            else self.flags[filter_name].fill_null(False)
        )
        query = search.strip().lower()
        if query:
            mask = mask & self._haystack.str.contains(query, literal=True)
        return mask

    def select(self, filter_name: str = "all", search: str = "") -> list[str]:
        """The case ids that pass the filter and contain ``search`` (case-insensitive), in order.

        The search looks at each case's id, input, expected value and every output text.
        """
        mask = self._mask(filter_name, search)
        return pl.Series(self.case_ids, dtype=pl.String).filter(mask).to_list()

    def counts(self, search: str = "") -> dict[str, int]:
        """How many cases each filter keeps, among the cases that match ``search``."""
        return {name: int(self._mask(name, search).sum()) for name in FILTERS}

    def page(self, ids: Sequence[str], page: int, size: int) -> Page:
        """Page ``page`` (0-based, clamped) of ``ids``, ``size`` cases a page."""
        if size < 1:
            raise BenchworkError(f"Explorer: page_size must be at least 1, got {size}")
        pages = max(1, math.ceil(len(ids) / size))
        page = min(max(page, 0), pages - 1)
        return Page(list(ids[page * size : (page + 1) * size]), page, pages, len(ids))

    def grid(self, ids: Sequence[str], score: str | None) -> list[dict[str, Any]]:
        """One entry per case in ``ids``: id, short input, flags, and per target the mean
        ``score`` (None: no score) and whether every call failed (the heatmap's cells)."""
        if not ids:
            return []
        f = self.frame.filter(pl.col("case_id").is_in(list(ids)))
        status = pl.col("status") if "status" in f.columns else pl.lit("ok")
        value = pl.col(score).mean() if score else pl.lit(None, pl.Float64)
        cells = f.group_by("case_id", "target").agg(
            value.alias("v"), (status.fill_null("ok") != "ok").all().alias("err")
        )
        by = {(r["case_id"], r["target"]): r for r in cells.iter_rows(named=True)}
        out = []
        for cid in ids:
            row: list[Any] = []
            for t in self.targets:
                cell = by.get((cid, t))
                if cell is None:
                    row.append({"v": None, "err": False, "none": True})
                else:
                    v = _number(cell["v"])
                    row.append({"v": None if v is None else round(v, 3), "err": cell["err"]})
            text = self.input_text(cid) or ""
            short = " ".join(text.split())
            short = short if len(short) <= 80 else short[:79] + "…"
            out.append({"id": cid, "input": short, "flags": self.flag_names(cid), "cells": row})
        return out

    def input_text(self, case_id: str) -> str | None:
        case = self.cases.get(case_id)
        return None if case is None else case_input_text(case)

    @staticmethod
    def _expected(case: Any) -> Any:
        return (
            case.get("expected") if isinstance(case, Mapping) else getattr(case, "expected", None)
        )

    def detail(self, case_id: str) -> dict[str, Any]:
        """One case: input, expected, and per call (target × repeat) the output, its diff
        against the expected value, the status and error, and every score with its explanation
        (the judge's reasoning) and panel agreement; regressions against the baseline."""
        if not self.has_case(case_id):
            raise BenchworkError(f"Explorer: no case {case_id!r} in this run")
        case = self.cases.get(case_id)
        options = _expected_options(self._expected(case)) if case is not None else []
        rows = self.frame.filter(pl.col("case_id") == case_id).sort("__row")
        order = {t: i for i, t in enumerate(self.targets)}
        records = sorted(
            rows.iter_rows(named=True),
            key=lambda r: (order.get(r["target"], 0), r.get("repeat") or 0, r["__row"]),
        )
        down: dict[tuple[str, str], dict[str, Any]] = {}
        if self.regressions is not None:
            for r in self.regressions.filter(pl.col("case_id") == case_id).iter_rows(named=True):
                down[(r["target"], r["score"])] = r
        calls = []
        for r in records:
            output = r.get("output_text")
            expected = _closest(options, output or "") if options else None
            diff = None
            if expected is not None and output is not None:
                diff = [list(op) for op in text_diff(_cut(expected) or "", _cut(output) or "")]
            scores = []
            for col in self.score_cols:
                v = _number(r.get(col))
                entry: dict[str, Any] = {
                    "name": col.removeprefix("score_"),
                    "value": None if v is None else round(v, 4),
                    "pass": None if v is None else v >= PASS_AT,
                    "explanation": _cut(r.get(f"{col}_explanation")),
                    "agreement": _number(r.get(f"{col}_agreement")),
                }
                flip = down.get((r["target"], col))
                if flip is not None:
                    entry["baseline"] = _number(flip["baseline"])
                scores.append(entry)
            calls.append(
                {
                    "target": r["target"],
                    "repeat": r.get("repeat") or 0,
                    "status": r.get("status") or "ok",
                    "error": " ".join(
                        str(x) for x in (r.get("error_type"), r.get("error_message")) if x
                    ),
                    "output": _cut(output),
                    "expected": expected,
                    "diff": diff,
                    "latency_s": _number(r.get("latency_s")),
                    "scores": scores,
                }
            )
        return {
            "id": case_id,
            "input": _cut(self.input_text(case_id)),
            "expected": [_cut(o) for o in options],
            "flags": self.flag_names(case_id),
            "calls": calls,
        }
