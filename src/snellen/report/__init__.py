"""Reports: one self-contained HTML file per check-up run (``snellen report RUN``), and one
page per directory of ``snellen eval`` runs (``snellen report DIR``), and check-up runs
side by side with intervals (``snellen compare``)."""

from __future__ import annotations

from snellen.report.compare import write_compare
from snellen.report.data import ReportData, load_report_data
from snellen.report.evaluation import render_eval_page, write_eval_report
from snellen.report.html import render_html, write_report

__all__ = [
    "ReportData",
    "load_report_data",
    "render_eval_page",
    "render_html",
    "write_compare",
    "write_eval_report",
    "write_report",
]
