"""The blocklist in the app: the review page, and FLOOD_RATE checked at start (a bad one stops the app)."""
from __future__ import annotations

from flask import Flask

from textline.blocklist import floods, views


def init_app(app: Flask) -> None:
    if app.config["FLOOD_RATE"]:
        try:
            floods.rate(app.config["FLOOD_RATE"])
        except ValueError:
            raise ValueError(f"FLOOD_RATE must read like '10 per minute', got {app.config['FLOOD_RATE']!r}") from None
    app.register_blueprint(views.bp)
