"""Insights in the app: the statistics page and its CSV export."""
from __future__ import annotations

from flask import Flask

from textline.insights import views


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
