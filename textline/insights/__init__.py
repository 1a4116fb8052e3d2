"""Insights: the statistics for supervisors, their page and CSV export, and SVG bar charts."""
