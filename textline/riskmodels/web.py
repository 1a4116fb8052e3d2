"""Risk model versions in the app: the admin page. Training is a command (textline/ops/cli.py)."""
from __future__ import annotations

from flask import Flask

from textline.riskmodels import views


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
