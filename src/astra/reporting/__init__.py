"""Figures, tables and the HTML report; the dashboard draws with the same figures."""

from astra.reporting.report import SECTIONS, render_report, write_report

__all__ = ["SECTIONS", "render_report", "write_report"]
