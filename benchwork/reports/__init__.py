"""Reports: papermill runs a template notebook into a report people can cite.

``report(template, out, **params)`` (and ``benchwork report``) executes a template from
``templates/`` with checked parameters, then exports code-free HTML and PDF. Every template
shows a provenance and citation block (``citation``) whose content hash lets a reader check
a copy, and sentences generated from the statistics (``narrative``), never a claim they do
not support.
"""

from benchwork.reports._format import markdown_table, readable_leaderboard, readable_speed, table
from benchwork.reports._narrative import narrative
from benchwork.reports._params import as_run_ids, check_params
from benchwork.reports._provenance import citation, content_hash, health, provenance
from benchwork.reports._render import export_html, export_pdf, report
from benchwork.reports._schedule import (
    Schedule,
    cron_line,
    describe,
    load_schedules,
    remove_schedule,
    save_schedule,
    systemd_units,
)
from benchwork.reports._templates import TEMPLATES, template_parameters, template_path

__all__ = [
    "TEMPLATES",
    "Schedule",
    "as_run_ids",
    "check_params",
    "citation",
    "content_hash",
    "cron_line",
    "describe",
    "export_html",
    "export_pdf",
    "health",
    "load_schedules",
    "markdown_table",
    "narrative",
    "provenance",
    "readable_leaderboard",
    "readable_speed",
    "remove_schedule",
    "report",
    "save_schedule",
    "systemd_units",
    "table",
    "template_parameters",
    "template_path",
]
