"""Structured logs for web processes and Celery workers: one JSON object per line, a request id on
every line written while handling a request, and a redaction filter as defence in depth.

Code should never log a message body or a phone number in the first place. The filter is the net
under that rule: it masks anything shaped like a phone number, and the exact values the current
request or task registered as sensitive with `sensitive()` (the texter's number, message bodies).
"""
from __future__ import annotations

import json
import logging
import os
import re
import time
import uuid
from datetime import datetime, timezone

from flask import Flask, g, has_app_context, has_request_context, request

REDACTED = "[redacted]"
_PHONE = [
    re.compile(r"\+\d[\d\s().-]{5,18}\d"),                               # +15550106543, +1 555 010 6543
    re.compile(r"(?<!\d)\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}(?!\d)"),       # (555) 010-6543, 555.010.6543
    re.compile(r"(?<![\w.])1?\d{10}(?![\w.])"),                          # 5550106543, 15550106543
]
MIN_SENSITIVE_LEN = 4  # shorter values ("hi", "ok") would mangle every log line that contains them
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# Attributes every LogRecord has; anything else on a record came through `extra=` and is logged too.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


def sensitive(*values) -> None:
    """Register values (a body, a number) that must never appear in a log line written while the current
    request or task runs."""
    if not has_app_context():
        return
    bag = g.setdefault("_tl_sensitive", set())
    for value in values:
        if isinstance(value, str) and len(value.strip()) >= MIN_SENSITIVE_LEN:
            bag.add(value.strip())


def redact(text: str) -> str:
    if not text:
        return text
    if has_app_context():
        for value in sorted(g.get("_tl_sensitive", ()), key=len, reverse=True):
            text = text.replace(value, REDACTED)
    for pattern in _PHONE:
        text = pattern.sub(REDACTED, text)
    return text


class RedactFilter(logging.Filter):
    """Rewrites each record in place (message, traceback, extras) before any formatter sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            record.msg = redact(record.getMessage())
        except Exception:  # a bad format string must not lose the line
            record.msg = redact(str(record.msg))
        record.args = None
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for name, value in list(vars(record).items()):
            if name not in _STANDARD and isinstance(value, str):
                setattr(record, name, redact(value))
        return True


def current_request_id() -> str | None:
    if has_request_context():
        return g.get("request_id")
    task = _current_task()
    if task is not None:
        return getattr(task.request, "textline_request_id", None)
    return None


def _current_task():
    try:
        from celery import current_task

        return current_task if current_task and current_task.request.id else None
    except Exception:
        return None


class JsonFormatter(logging.Formatter):
    def __init__(self, role: str):
        super().__init__()
        self.role = role

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "role": self.role,
            "pid": record.process,
        }
        request_id = current_request_id()
        if request_id:
            entry["request_id"] = request_id
        task = _current_task()
        if task is not None:
            entry["task"], entry["task_id"] = task.name, task.request.id
        for name, value in vars(record).items():
            if name not in _STANDARD and name not in entry:
                entry[name] = value if isinstance(value, (int, float, bool, type(None))) else str(value)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """For a developer's terminal (LOG_FORMAT=text): same redaction, same request id."""

    def format(self, record):
        rid = current_request_id()
        line = f"{self.formatTime(record)} {record.levelname:7} {record.name}: {record.getMessage()}"
        line = f"{line} [req {rid}]" if rid else line
        return line + (f"\n{record.exc_text}" if record.exc_text else "")


_configured: dict = {}


def configure(role: str, fmt: str = "json", level: str = "INFO") -> None:
    """Route every logger through one stderr handler with redaction. Idempotent per process."""
    key = (role, fmt, level, os.getpid())
    if _configured.get("key") == key:
        return
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_textline", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler()
    handler._textline = True
    handler.addFilter(RedactFilter())
    handler.setFormatter(JsonFormatter(role) if fmt == "json" else TextFormatter())
    root.addHandler(handler)
    root.setLevel(level.upper())
    # These libraries log request bodies (a texter's number, the text itself) at DEBUG/INFO.
    for noisy in ("twilio.http_client", "urllib3", "werkzeug"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    _configured["key"] = key


def new_request_id() -> str:
    return uuid.uuid4().hex


def init_app(app: Flask) -> None:
    cfg = app.config
    configure(cfg["PROCESS_ROLE"], cfg["LOG_FORMAT"], cfg["LOG_LEVEL"])
    log = logging.getLogger("textline.http")
    quiet = {"/healthz", "/readyz", "/metrics"}

    @app.before_request
    def _start():
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else new_request_id()
        g.request_started = time.monotonic()

    @app.after_request
    def _finish(response):
        rid = g.get("request_id")
        if rid:
            response.headers["X-Request-ID"] = rid
        if request.path not in quiet and not request.path.startswith("/static/"):
            elapsed = (time.monotonic() - g.get("request_started", time.monotonic())) * 1000
            # The path only: never the query string or the form.
            log.info("%s %s %s", request.method, request.path, response.status_code,
                     extra={"status": response.status_code, "duration_ms": round(elapsed, 1)})
        return response
