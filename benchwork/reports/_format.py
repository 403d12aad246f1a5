"""Numbers as a reader wants them: units, intervals, no 15-digit floats."""

from __future__ import annotations

import polars as pl

__all__ = ["markdown_table", "readable_leaderboard", "readable_speed", "table"]


def _pct(m: float | None, lo: float | None, hi: float | None) -> str:
    if m is None:
        return "—"
    band = f" [{lo * 100:.0f}, {hi * 100:.0f}]" if lo is not None and hi is not None else ""
    return f"{m * 100:.0f}%{band}"


def _ms(m: float | None, lo: float | None = None, hi: float | None = None) -> str:
    if m is None:
        return "—"
    band = f" [{lo * 1000:.0f}, {hi * 1000:.0f}]" if lo is not None and hi is not None else ""
    return f"{m * 1000:.0f} ms{band}"


def _rate(m: float | None, lo: float | None = None, hi: float | None = None) -> str:
    if m is None:
        return "—"
    band = f" [{lo:.1f}, {hi:.1f}]" if lo is not None and hi is not None else ""
    return f"{m:.1f}{band}"


def _usd(x: float | None, unknown: bool = False) -> str:
    if x is None:
        return "unknown" if unknown else "—"
    return f"${x:,.6f}" if x < 1 else f"${x:,.2f}"


def _scores(lb: pl.DataFrame) -> list[str]:
    return [
        c[: -len("_mean")] for c in lb.columns if c.startswith("score_") and c.endswith("_mean")
    ]


def readable_leaderboard(lb: pl.DataFrame) -> pl.DataFrame:
    """An ``analysis.leaderboard`` frame as text columns: scores "69% [58, 78] (n 40)",
    TTFT/latency "180 ms [170, 190]", tok/s, cost, errors; ranks with ties ("1–2")."""
    rows = []
    for r in lb.iter_rows(named=True):
        row: dict[str, str] = {
            "rank": str(r["rank"])
            if r["rank_best"] == r["rank_worst"]
            else f"{r['rank_best']}–{r['rank_worst']}",
            "target": r["target"],
        }
        for s in _scores(lb):
            text = _pct(r[f"{s}_mean"], r.get(f"{s}_lo"), r.get(f"{s}_hi"))
            unscored = r.get(f"{s}_unscored") or 0
            row[s.removeprefix("score_")] = text + (f" ({unscored} unscored)" if unscored else "")
        row["TTFT p50"] = _ms(r.get("ttft_p50_s"), r.get("ttft_p50_lo_s"), r.get("ttft_p50_hi_s"))
        row["latency p50"] = _ms(
            r.get("latency_p50_s"), r.get("latency_p50_lo_s"), r.get("latency_p50_hi_s")
        )
        row["tok/s p50"] = _rate(
            r.get("output_tps_p50"), r.get("output_tps_p50_lo"), r.get("output_tps_p50_hi")
        )
        row["cost"] = _usd(r.get("cost_usd"), bool(r.get("cost_unknown")))
        row["calls"] = f"{r['calls']} ({r['errors']} errors)"
        rows.append(row)
    return pl.DataFrame(rows)


def readable_speed(lb: pl.DataFrame) -> pl.DataFrame:
    """Speed per target: p50 and p95 with intervals, spread, outliers and the jitter light."""
    rows = []
    for r in lb.iter_rows(named=True):
        rows.append(
            {
                "target": r["target"],
                "TTFT p50": _ms(
                    r.get("ttft_p50_s"), r.get("ttft_p50_lo_s"), r.get("ttft_p50_hi_s")
                ),
                "TTFT p95": _ms(
                    r.get("ttft_p95_s"), r.get("ttft_p95_lo_s"), r.get("ttft_p95_hi_s")
                ),
                "latency p50": _ms(
                    r.get("latency_p50_s"), r.get("latency_p50_lo_s"), r.get("latency_p50_hi_s")
                ),
                "latency p95": _ms(
                    r.get("latency_p95_s"), r.get("latency_p95_lo_s"), r.get("latency_p95_hi_s")
                ),
                "tok/s p50": _rate(
                    r.get("output_tps_p50"), r.get("output_tps_p50_lo"), r.get("output_tps_p50_hi")
                ),
                "TTFT jitter": str(r.get("ttft_jitter") or "—"),
                "latency jitter": str(r.get("latency_jitter") or "—"),
                "outliers (TTFT/latency)": f"{r.get('ttft_outliers') or 0}/{r.get('latency_outliers') or 0}",
                "n": str(r.get("speed_n") or 0),
            }
        )
    return pl.DataFrame(rows)


def markdown_table(frame: pl.DataFrame) -> str:
    """A frame as a Markdown table (plain text cells, no dtype row, no quotes), for reports."""

    def cell(value: object) -> str:
        if value is None:
            return "—"
        if isinstance(value, float):
            value = f"{value:.4g}"
        return str(value).replace("|", "\\|").replace("\n", " ")

    head = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join([head, rule, *body])


def table(frame: pl.DataFrame) -> object:
    """Display *frame* as a Markdown table in a notebook (returns an IPython ``Markdown``)."""
    from IPython.core.display import Markdown

    return Markdown(markdown_table(frame))
