"""Numbers read from a request (query string, form, path, socket event). A bad one is the asker's mistake:
400 with a message naming the parameter, never a 500 from int() or the database. The one place for the rule."""
from __future__ import annotations

import re

from flask import abort

from textline.extensions import db

# PostgreSQL's integer column: no row has a larger id, and SQLite overflows past 2**63 with a 500.
MAX_ID = 2**31 - 1
# ASCII digits only: str.isdigit() also accepts "²", which int() then refuses.
_DIGITS = re.compile(r"[0-9]{1,18}")


def whole_number(raw, low: int = 1, high: int = MAX_ID) -> int | None:
    """raw (an int, or a string of ASCII digits) as an int within [low, high]; None for anything else."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif isinstance(raw, str) and _DIGITS.fullmatch(raw):
        value = int(raw)
    else:
        return None
    return value if low <= value <= high else None


def int_arg(values, name: str, default: int | None = None, low: int = 1, high: int = MAX_ID) -> int | None:
    """The whole number `name` in request.args or request.form; `default` when absent or empty; else 400."""
    raw = values.get(name, "")
    if raw == "":
        return default
    value = whole_number(raw, low, high)
    if value is None:
        abort(400, f"{name} must be a whole number from {low} to {high}.")
    return value


def get_or_404(model, ident):
    """The row of `model` with id `ident` (from the path), or 404. An id larger than any row can have is
    not found too, instead of overflowing the database driver (a 500)."""
    row = db.session.get(model, ident) if whole_number(ident) is not None else None
    if row is None:
        abort(404)
    return row
