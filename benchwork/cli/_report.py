"""CLI ``report``: render a report template with papermill (``-p NAME VALUE``), HTML and PDF."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add ``report`` to the ``benchwork`` parser's subcommands."""
    p = sub.add_parser(
        "report",
        help="render a report (leaderboard, comparison, speed, or a .ipynb) from runs",
        description="Execute a report template with papermill. Example: benchwork report "
        "leaderboard -p run_ids A,B --html --pdf",
    )
    p.add_argument("template", help="leaderboard, comparison, speed, or a path to a .ipynb")
    p.add_argument(
        "-p", "--param", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
        help="a template parameter (repeatable), e.g. -p run_ids A,B -p alpha 0.01",
    )  # fmt: skip
    p.add_argument("-o", "--out", help="executed notebook path (default: <template>-report.ipynb)")
    p.add_argument("--html", action="store_true", help="also write code-free, self-contained HTML")
    p.add_argument("--pdf", action="store_true", help="also write a PDF (headless Chromium)")
    p.add_argument("--list-params", action="store_true", help="list the template's parameters")
    p.set_defaults(handler=_cmd_report)


def _cmd_report(args: argparse.Namespace) -> int:
    from benchwork.reports import report, template_parameters

    if args.list_params:
        for name, info in template_parameters(args.template).items():
            print(f"{name} ({info['type']}, default {info['default']}): {info['help']}")
        return 0
    params = dict(args.param)
    out = report(args.template, args.out, html=args.html, pdf=args.pdf, **params)
    written = [out] + [
        out.with_suffix(s)
        for s in (".html", ".pdf")
        if out.with_suffix(s).exists() and getattr(args, s[1:])
    ]
    for path in written:
        print(Path(path))
    return 0
