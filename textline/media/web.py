"""Media in the app: the routes that serve texters' pictures to the consoles."""
from __future__ import annotations

from flask import Flask

from textline.media import views


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
