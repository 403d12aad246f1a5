"""What a report needs to be cited: where every number came from, and a hash to check a copy.

The provenance table is long and narrow (one ``field``/``value`` row per fact), so it reads in
JupyterLab and in exported HTML without wrapping (the old wide table was 200 characters).
"""

from __future__ import annotations

import hashlib
import platform
from collections.abc import Sequence
from datetime import date
from typing import Any

import polars as pl

from benchwork._util.canonical import canonical_json

__all__ = ["citation", "content_hash", "health", "provenance"]


def provenance(runs: Sequence[Any]) -> pl.DataFrame:
    """``field``/``value`` rows: versions, price table, suite and hash, runs, targets, dates."""
    rows: list[tuple[str, str]] = []
    for run in runs:
        m = run.manifest
        versions = m.get("versions") or {}
        prefix = f"run {run.id}" if len(runs) > 1 else "run"
        rows += [
            (prefix, f"{run.id} ({m.get('status')})"),
            (f"{prefix}: suite", f"{m.get('suite')} {m.get('suite_hash')}"),
            (f"{prefix}: dates", f"{m.get('started_at')} to {m.get('finished_at')}"),
            (f"{prefix}: cache mode", str((m.get("config") or {}).get("cache_mode", "use"))),
            (
                f"{prefix}: calls",
                f"{m.get('calls')} ({m.get('errors')} errors, {m.get('cached_calls')} cached)",
            ),
        ]
        for t in m.get("targets") or []:
            name = t.get("name") or t.get("model")
            reported = _reported(run, name, "response_model")
            fingerprints = _reported(run, name, "system_fingerprint")
            detail = str(t.get("model", "?"))
            if reported:
                detail += f" (provider reported model {reported})"
            if fingerprints:
                detail += f", system_fingerprint {fingerprints}"
            rows.append((f"{prefix}: target {t.get('name')}", detail))
        rows += [
            (f"{prefix}: versions", ", ".join(f"{k} {v}" for k, v in versions.items())),
            (f"{prefix}: price table", str(m.get("price_table"))),
        ]
    rows.append(
        (
            "rendered on",
            f"{platform.system()} {platform.machine()}, Python {platform.python_version()}",
        )
    )
    return pl.DataFrame(rows, schema={"field": pl.String, "value": pl.String}, orient="row")


def _reported(run: Any, target: str | None, column: str) -> str:
    """What the provider reported for *target*'s calls (distinct values), if anything."""
    if column not in run.results.columns:
        return ""
    values = run.results.filter(pl.col("target") == target)[column].drop_nulls().unique()
    return ", ".join(sorted(values.to_list()))


def content_hash(*frames: pl.DataFrame) -> str:
    """``sha256:<hex>`` over the reported numbers (the frames' rows as canonical JSON).

    Floats are rounded to 12 significant digits first, so the hash names the numbers a
    reader sees, not the last bit of a platform's floating point.
    """
    digest = hashlib.sha256()
    for frame in frames:
        rounded = frame.with_columns(
            [pl.col(c).round_sig_figs(12) for c, t in frame.schema.items() if t.is_float()]
        )
        digest.update(canonical_json({"columns": rounded.columns, "rows": rounded.rows()}).encode())
    return "sha256:" + digest.hexdigest()


def citation(runs: Sequence[Any], *frames: pl.DataFrame, title: str = "benchwork report") -> str:
    """Markdown: how to cite the report (BibTeX) and the content hash of its numbers."""
    digest = content_hash(*frames)
    ids = ", ".join(run.id for run in runs)
    key = "benchwork-" + digest[7:19]
    suites = ", ".join(sorted({str(run.manifest.get("suite")) for run in runs}))
    year = date.today().year
    bibtex = (
        f"@misc{{{key},\n"
        f"  title = {{{title}}},\n"
        f"  note = {{benchwork report on suite {suites}; runs {ids}; numbers {digest}}},\n"
        f"  year = {{{year}}},\n"
        f"  howpublished = {{benchwork, https://pypi.org/project/benchwork/}}\n"
        "}"
    )
    return (
        f"**Content hash of the reported numbers:** `{digest}`. Re-execute this report "
        "(cache mode `replay`: no network) and compare the hash to check a copy.\n\n"
        f"```bibtex\n{bibtex}\n```"
    )


def health(runs: Sequence[Any]) -> pl.DataFrame:
    """Measurement health per run and target: calls timed live, how many ran while the event
    loop lagged past ``LAG_FLAG_MS`` (their speed figures may be distorted), the worst lag,
    and the run's loop-lag p99 and client CPU time."""
    from benchwork.runner import LAG_FLAG_MS

    rows = []
    for run in runs:
        h = run.manifest.get("health") or {}
        df = run.results.filter(~pl.col("warmup") & ~pl.col("cached") & (pl.col("status") == "ok"))
        lag = pl.col("loop_lag_ms") if "loop_lag_ms" in df.columns else pl.lit(None, pl.Float64)
        per = df.group_by("target", maintain_order=True).agg(
            pl.len().alias("live calls"),
            (lag > LAG_FLAG_MS).sum().alias(f"lag > {LAG_FLAG_MS:g} ms"),
            lag.max().alias("worst lag (ms)"),
        )
        for r in per.iter_rows(named=True):
            rows.append(
                {
                    "run": run.id,
                    **r,
                    "run loop lag p99 (ms)": h.get("loop_lag_p99_ms"),
                    "client CPU (s)": h.get("client_cpu_s"),
                }
            )
    return pl.DataFrame(rows) if rows else pl.DataFrame({"run": []})
