"""Moved to doctor.report.plot (charts are the reporters' business); this path is kept for one release."""

from doctor.report.plot import svg_chart, terminal_chart

__all__ = ["svg_chart", "terminal_chart"]
