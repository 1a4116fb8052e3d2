"""Security headers on every response: only our own scripts run, nothing sensitive is cached."""
from __future__ import annotations

from flask import Flask, request

# No inline scripts or styles anywhere: templates pass data through data- attributes.
# blob: images: a texter's picture, fetched by POST when someone chooses to see it (static/js/media.js).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "media-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# Pages and data that carry transcripts, accounts or audit entries: never stored by browsers or proxies.
PRIVATE_PREFIXES = ("/console", "/supervise", "/admin", "/insights", "/login", "/set-password", "/socket.io",
                    "/media")


def init_app(app: Flask) -> None:
    https = app.config["PUBLIC_BASE_URL"].startswith("https://")

    @app.after_request
    def headers(response):
        h = response.headers
        h.setdefault("Content-Security-Policy", CSP)
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Referrer-Policy", "no-referrer")
        h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if https:
            h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.path.startswith(PRIVATE_PREFIXES) or response.mimetype == "application/json":
            h["Cache-Control"] = "no-store"
            h["Pragma"] = "no-cache"
        return response
