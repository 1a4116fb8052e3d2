"""Saved replies ("canned responses"): admins write them (textline/console/canned_views.py), volunteers insert
them into a reply from the console's "/" picker and edit before sending. Validation lives here, once,
for the admin pages and the seeding alike."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy import func, select

from textline.accounts import audit
from textline.extensions import db
from textline.models import CannedResponse, User, utcnow
from textline.texting.outgoing import MAX_BODY

STARTERS = Path(__file__).resolve().parents[1] / "data" / "saved_replies.yaml"
MAX_TITLE, MAX_CATEGORY = 80, 40


class CannedError(ValueError):
    """Refused input, with one message per field, fit to show the admin next to that field."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass
class Fields:
    title: str
    body: str
    category: str | None


def clean(title, body, category, editing: CannedResponse | None = None) -> Fields:
    """Trimmed, checked fields. A reply must fit in one outbound message (Twilio's limit), since the
    volunteer sends it as their reply; titles are unique without regard to case, so "/greet" finds one."""
    title = " ".join(str(title or "").split())
    body = str(body or "").strip().replace("\r\n", "\n")
    category = " ".join(str(category or "").split()) or None
    errors = {}
    if not title:
        errors["title"] = "Give it a short title volunteers can search for."
    elif len(title) > MAX_TITLE:
        errors["title"] = f"The title is too long ({len(title)} characters, {MAX_TITLE} at most)."
    else:
        clash = db.session.scalar(select(CannedResponse).where(func.lower(CannedResponse.title) == title.lower()))
        if clash is not None and clash is not editing:
            errors["title"] = f"Another saved reply is already called “{clash.title}”."
    if not body:
        errors["body"] = "Write the text of the reply."
    elif len(body) > MAX_BODY:
        errors["body"] = f"The text is too long ({len(body)} characters, {MAX_BODY} at most: one message)."
    if category and len(category) > MAX_CATEGORY:
        errors["category"] = f"The category is too long ({len(category)} characters, {MAX_CATEGORY} at most)."
    if errors:
        raise CannedError(errors)
    return Fields(title, body, category)


def create(user: User, title, body, category=None) -> CannedResponse:
    fields = clean(title, body, category)
    reply = CannedResponse(title=fields.title, body=fields.body, category=fields.category, active=True,
                           updated_by_id=user.id, updated_at=utcnow())
    db.session.add(reply)
    db.session.flush()
    audit.record("canned.create", user, "canned_response", reply.id, commit=False, title=reply.title)
    db.session.commit()
    return reply


def update(reply: CannedResponse, user: User, title, body, category, active: bool) -> list[str]:
    """Save an admin's edit. Returns the names of the fields that changed (nothing changed: no audit)."""
    fields = clean(title, body, category, editing=reply)
    changed = [name for name, value in (("title", fields.title), ("body", fields.body),
                                        ("category", fields.category), ("active", bool(active)))
               if getattr(reply, name) != value]
    if not changed:
        return []
    reply.title, reply.body, reply.category, reply.active = fields.title, fields.body, fields.category, bool(active)
    reply.updated_by_id, reply.updated_at = user.id, utcnow()
    action = {True: "canned.activate", False: "canned.deactivate"}[bool(active)] if changed == ["active"] \
        else "canned.update"
    audit.record(action, user, "canned_response", reply.id, commit=False, title=reply.title, changed=changed)
    db.session.commit()
    return changed


def set_active(reply: CannedResponse, user: User, active: bool) -> bool:
    """Deactivate (out of the picker, kept for the record) or bring back. Returns whether it changed."""
    return bool(update(reply, user, reply.title, reply.body, reply.category, active))


def for_admin() -> list[CannedResponse]:
    return list(db.session.scalars(select(CannedResponse).order_by(
        CannedResponse.active.desc(), func.coalesce(CannedResponse.category, ""), CannedResponse.title)))


def for_console() -> list[CannedResponse]:
    """What the picker offers: active replies, grouped by category, then by title."""
    return list(db.session.scalars(select(CannedResponse).where(CannedResponse.active.is_(True)).order_by(
        func.coalesce(CannedResponse.category, ""), CannedResponse.title)))


def categories(replies: list[CannedResponse]) -> list[str]:
    """The categories in use, offered as suggestions so the same one is not spelled three ways."""
    return sorted({r.category for r in replies if r.category}, key=str.lower)


def load_starters(path: Path = STARTERS) -> list[Fields]:
    """The starter set, checked like an admin's input (without touching the database)."""
    items = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    out, titles = [], set()
    for i, item in enumerate(items):
        if not isinstance(item, dict) or set(item) - {"title", "body", "category"}:
            raise ValueError(f"{path.name} item {i + 1}: expected title, body and an optional category")
        title, body = " ".join(str(item.get("title", "")).split()), str(item.get("body", "")).strip()
        if not title or not body or len(title) > MAX_TITLE or len(body) > MAX_BODY or title.lower() in titles:
            raise ValueError(f"{path.name} item {i + 1}: a unique title and a body of at most {MAX_BODY} characters")
        titles.add(title.lower())
        out.append(Fields(title, body, item.get("category") or None))
    return out


def seed_starters(path: Path = STARTERS) -> int:
    """Give a new installation the starter set, once: nothing happens if any saved reply exists (an admin
    who deleted or rewrote them is not overruled). Returns how many were added."""
    if db.session.scalar(select(func.count()).select_from(CannedResponse)):
        return 0
    starters = load_starters(path)
    now = utcnow()
    db.session.add_all(CannedResponse(title=s.title, body=s.body, category=s.category, active=True,
                                      created_at=now, updated_at=now) for s in starters)
    audit.record("canned.seed", None, "canned_response", None, commit=False, count=len(starters))
    db.session.commit()
    return len(starters)
