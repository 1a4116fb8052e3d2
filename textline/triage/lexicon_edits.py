"""Admins' edits of the risk lexicon: an entry added, or a packaged entry replaced (same category and label,
the lexicon's own rule: textline/safety/risk/lexicon.py), kept in SQL (lexicon_edits) and live in every web
process without a restart.

How a process learns of an edit: saving bumps a version number in Redis; before scoring a text
(textline/texting/inbound.py) each process compares that number with the one it loaded, at most once a
CHECK_SECONDS, and when it changed reads the edits from SQL and compiles the lexicon again in the
background (off_loop.py: compiling takes 2-8 s on this machine, and must not hold the process's webhooks);
texts are scored with the lexicon it had until the new one is ready, then with the new one. So an edit
scores texts in every process from the first text after CHECK_SECONDS plus one compile. The saving process
and a process that starts (textline/wsgi.py) compile at once and wait for it. With Redis down nothing
changes: a process keeps the lexicon it has until it can read the version again; a save then applies in
the saving process and the page says the others will follow when Redis answers.
"""
from __future__ import annotations

import logging
import threading

from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from textline.accounts import audit
from textline.extensions import db
from textline.models import LexiconEdit, User, utcnow
from textline.ops.followed_version import UNREAD, UNSET, FollowedVersion
from textline.redis_store import get_redis, key
from textline.safety.risk import CATEGORIES, Lexicon, LexiconError, load_lexicon
from textline.safety.risk.scorer import packaged_lexicon, use_lexicon
from textline.triage import off_loop

log = logging.getLogger(__name__)
VERSION_KEY = key("lexicon", "version")
CHECK_SECONDS = 1.0
LISTS = ("phrases", "patterns", "unless", "requires")
# What this process scores with: the version it installed (_followed.seen), the one being compiled, and the
# latest compile started (an older compile that finishes later is not installed over a newer one).
_followed = FollowedVersion(VERSION_KEY, CHECK_SECONDS)
_seen = {"compiling": UNSET, "generation": 0}
_lock = threading.Lock()


def key_of(entry: dict) -> str:
    return f"{entry['category']}:{entry['label'].strip().lower()}"


def from_form(form) -> dict:
    """An entry mapping from the page's form: one phrase, pattern, unless or requires per line."""
    entry: dict = {"label": (form.get("label") or "").strip(), "category": form.get("category") or ""}
    if entry["category"] not in CATEGORIES:
        raise LexiconError(f"Choose a category: one of {', '.join(CATEGORIES)}.")
    if not entry["label"]:
        raise LexiconError("Give the entry a label: the short reason volunteers read.")
    try:
        weight = float(form.get("weight") or "")
    except ValueError:
        raise LexiconError("The weight must be a number from 0 to 100.") from None
    entry["weight"] = int(weight) if weight.is_integer() else weight
    for name in LISTS:
        lines = [line.strip() for line in (form.get(name) or "").splitlines() if line.strip()]
        if lines:
            entry[name] = lines
    for name in ("kind", "sign"):
        if (form.get(name) or "").strip():
            entry[name] = form.get(name).strip()
    if form.get("idiom") in ("on", "true", "1"):
        entry["idiom"] = True
    return entry


def as_form(entry) -> dict:
    """A lexicon Entry (or an entry mapping) as the form shows it."""
    get = (lambda name: entry.get(name)) if isinstance(entry, dict) else (lambda name: getattr(entry, name))
    return {"label": get("label"), "category": get("category"), "weight": get("weight"),
            **{name: "\n".join(get(name) or ()) for name in LISTS},
            "kind": get("kind") or "", "sign": get("sign") or "", "idiom": bool(get("idiom"))}


def find_entry(category: str, label: str):
    """The live lexicon's entry of that category and label (packaged or edited), if any."""
    wanted = f"{category}:{(label or '').strip().lower()}"
    return next((e for e in packaged_lexicon().entries if f"{e.category}:{e.label.lower()}" == wanted), None)


def edits() -> list[LexiconEdit]:
    return db.session.scalars(select(LexiconEdit).order_by(LexiconEdit.id)).all()


def lexicon_with(entries: list[dict]) -> Lexicon:
    """The packaged lexicon with these edits (LexiconError names what is wrong). Compiled away from the
    event loop; kept while the edits are the same (load_lexicon's cache)."""
    return off_loop.run(_compile, tuple(entries))


def _compile(entries: tuple) -> Lexicon:
    return load_lexicon(extra_entries=entries) if entries else load_lexicon()


def with_edit(entry: dict) -> list[dict]:
    """The stored edits with `entry` added, or in place of the stored edit it replaces."""
    stored = [e.entry for e in edits() if e.key != key_of(entry)]
    return [*stored, entry]


def save(entry: dict, user: User) -> tuple[LexiconEdit, bool]:
    """Store an edit (validated by compiling the lexicon with it), audited; this process scores with it at
    once, the others from their next look (CHECK_SECONDS) plus a compile. Returns (the row, whether the
    other processes were told)."""
    lexicon_with(with_edit(entry))  # raises LexiconError before anything is stored
    row = db.session.scalar(select(LexiconEdit).where(LexiconEdit.key == key_of(entry)))
    previous = row.entry if row else None
    replaces_packaged = previous is None and find_entry(entry["category"], entry["label"]) is not None
    if row is None:
        row = LexiconEdit(key=key_of(entry), entry=entry, by_id=user.id, at=utcnow())
        db.session.add(row)
    else:
        row.entry, row.by_id, row.at = entry, user.id, utcnow()
    db.session.flush()
    audit.record("lexicon.edit", user, "lexicon_edit", row.id, commit=False, entry=entry, previous=previous,
                 replaces_packaged=replaces_packaged)
    db.session.commit()
    return row, _announce()


def remove(edit_id: int, user: User) -> tuple[dict | None, bool]:
    """Remove an edit (the packaged entry, if any, applies again). Returns (its entry, whether the other
    processes were told)."""
    row = db.session.get(LexiconEdit, edit_id)
    if row is None:
        return None, False
    entry = row.entry
    audit.record("lexicon.edit_remove", user, "lexicon_edit", row.id, commit=False, entry=entry)
    db.session.delete(row)
    db.session.commit()
    return entry, _announce()


def _announce() -> bool:
    """Tell every process (the version in Redis), and apply here at once."""
    told = True
    try:
        get_redis().incr(VERSION_KEY)
    except RedisError:
        told = False
        log.warning("lexicon edit saved but Redis did not answer: other web processes follow when it does")
    refresh(force=True)
    return told


def refresh(force: bool = False) -> bool:
    """Score with the stored edits if the version changed since this process last looked (at most once a
    CHECK_SECONDS). Not forced, the new lexicon is compiled in the background and this returns at once;
    forced, it is compiled now (and waited for). Returns True if the edits were read again."""
    if not force and not _followed.due():
        return False
    with _lock:
        version = _followed.look()
        if version is UNREAD:
            if not force:
                return False  # keep what we have; look again later
            version = UNSET
        if not force and (not _followed.moved(version) or version == _seen["compiling"]):
            return False
        try:
            with db.engine.connect() as conn:  # not the request's session: its transaction is left alone
                stored = tuple(row.entry for row in conn.execute(select(LexiconEdit.entry).order_by(LexiconEdit.id)))
        except SQLAlchemyError:
            log.warning("could not read the lexicon edits; scoring with the lexicon this process has")
            return False
        _seen["compiling"] = version
        _seen["generation"] += 1
        generation = _seen["generation"]
    if force:
        off_loop.run(_install, stored, version, generation)
    else:
        off_loop.start(_install, stored, version, generation)
    return True


def _install(stored: tuple, version, generation: int) -> None:
    """Compile the packaged lexicon with the stored edits and score with it (any thread)."""
    try:
        lexicon = _compile(stored)
    except LexiconError:  # stored edits no longer fit the packaged lexicon: never stop scoring
        log.exception("the stored lexicon edits do not compile; scoring without them")
        lexicon = load_lexicon()
    except Exception:
        log.exception("could not compile the lexicon with its edits; scoring with the one this process has")
        if generation == _seen["generation"]:
            _seen["compiling"] = UNSET  # try again at the next look
        return
    # No lock here: under gevent this runs on a native thread, where the (patched) lock is not for it;
    # each step is one atomic assignment.
    if generation != _seen["generation"]:
        return  # a newer compile started meanwhile: it installs
    use_lexicon(lexicon)
    _followed.seen, _seen["compiling"] = version, UNSET
