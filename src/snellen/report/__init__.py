"""Reports: one self-contained HTML file per run (``snellen report RUN``)."""

from __future__ import annotations

from snellen.report.data import ReportData, load_report_data
from snellen.report.html import render_html, write_report

__all__ = ["ReportData", "load_report_data", "render_html", "write_report"]
