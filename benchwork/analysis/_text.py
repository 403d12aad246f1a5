"""Plain-text leaderboard for terminals: the summary frame as an aligned table.

A score reads ``69.0% [59.4, 77.2]`` (mean and interval) and gains ``(5 unscored)`` when some
rows have no score, so a mean over fewer rows than the calls is always visible. Speed p50s
read ``83 ms [81, 85]`` when the summary carries their bounds.
"""

from __future__ import annotations

import polars as pl

__all__ = ["leaderboard_text"]


def _fmt(value: object, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "ms":
        return f"{float(value) * 1000:,.0f} ms"  # type: ignore[arg-type]
    if kind == "pct":
        return f"{float(value) * 100:.0f}%"  # type: ignore[arg-type]
    if kind == "tps":
        return f"{float(value):,.1f}"  # type: ignore[arg-type]
    if kind == "usd":
        return f"${float(value):.6f}"  # type: ignore[arg-type]
    return str(value)


def _with_bounds(row: dict[str, object], col: str, kind: str) -> str:
    """``83 ms [81, 85]`` when the summary has the value's bounds (``<stem>_lo<u>``)."""
    text = _fmt(row.get(col), kind)
    if kind not in ("ms", "tps") or row.get(col) is None:
        return text
    u = "_s" if col.endswith("_s") else ""
    lo, hi = row.get(f"{col.removesuffix(u)}_lo{u}"), row.get(f"{col.removesuffix(u)}_hi{u}")
    if lo is None or hi is None:
        return text
    if kind == "ms":
        return f"{text} [{float(lo) * 1000:,.0f}, {float(hi) * 1000:,.0f}]"  # type: ignore[arg-type]
    return f"{text} [{float(lo):,.1f}, {float(hi):,.1f}]"  # type: ignore[arg-type]


def _score(row: dict[str, object], col: str) -> str:
    """``69.0% [59.4, 77.2] (5 unscored)`` from ``score_<name>_mean`` and its siblings."""
    stem = col.removesuffix("_mean")
    mean, lo, hi = row.get(col), row.get(f"{stem}_lo"), row.get(f"{stem}_hi")
    unscored = row.get(f"{stem}_unscored")
    if mean is None:
        text = "—"
    elif lo is None or hi is None:
        text = f"{float(mean) * 100:.1f}%"  # type: ignore[arg-type]
    else:
        text = f"{float(mean) * 100:.1f}% [{float(lo) * 100:.1f}, {float(hi) * 100:.1f}]"  # type: ignore[arg-type]
    if isinstance(unscored, int) and unscored > 0:
        text += f" ({unscored} unscored)"
    return text


def leaderboard_text(summary: pl.DataFrame) -> str:
    """Rank, target, score(s), TTFT/latency p50, tok/s, cost, errors, as aligned columns."""
    score_cols = [c for c in summary.columns if c.startswith("score_") and c.endswith("_mean")]
    judge_costs = [c for c in summary.columns if c.startswith("score_") and c.endswith("_cost_usd")]
    columns: list[tuple[str, str, str]] = [("target", "target", "str")]
    columns += [(c, c[len("score_") : -len("_mean")], "score") for c in score_cols]
    columns += [
        ("ttft_p50_s", "TTFT p50", "ms"),
        ("latency_p50_s", "latency p50", "ms"),
        ("output_tps_p50", "tok/s p50", "tps"),
        ("cost_usd", "cost", "usd"),
        *[(c, f"{c[len('score_') : -len('_cost_usd')]} cost", "usd") for c in judge_costs],
        ("calls", "calls", "str"),
        ("errors", "errors", "str"),
        ("cached", "cached", "str"),
    ]
    header = ["#"] + [title for _, title, _ in columns]
    rows = [
        [str(i + 1)]
        + [
            _score(row, col) if kind == "score" else _with_bounds(row, col, kind)
            for col, _, kind in columns
        ]
        for i, row in enumerate(summary.iter_rows(named=True))
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(
            h.ljust(w) if i < 2 else h.rjust(w)
            for i, (h, w) in enumerate(zip(header, widths, strict=True))
        )
    ]
    lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        lines.append(
            "  ".join(
                v.ljust(w) if i < 2 else v.rjust(w)
                for i, (v, w) in enumerate(zip(r, widths, strict=True))
            )
        )
    speed = summary["speed_from"].unique().to_list() if "speed_from" in summary.columns else []
    if "cached (original timings)" in speed:  # not "none": a target with no ok call at all
        lines.append(
            "note: speed figures for targets with no live calls come from cached calls' original timings"
        )
    if any(
        (summary[c] > 0).any()
        for c in summary.columns
        if c.startswith("score_") and c.endswith("_unscored")
    ):
        lines.append(
            "note: a score's mean and interval leave out its unscored rows (failed calls, or no "
            "score given); see score_<name>_n and _unscored in run.summary()"
        )
    return "\n".join(lines)
