"""Operations in the app: /healthz, /readyz, /metrics, security headers, `flask textline` commands."""
from __future__ import annotations

from flask import Flask

from textline.ops import cli, health, metrics, security


def init_app(app: Flask) -> None:
    app.register_blueprint(health.bp)
    app.register_blueprint(metrics.bp)
    security.init_app(app)
    cli.init_app(app)
