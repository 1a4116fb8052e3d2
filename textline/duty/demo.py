"""Duty-of-care examples for the demo (`flask textline seed-demo`): two ended conversations from made-up
numbers, one whose report decision is owed (and overdue, so the work list and the reminder show), one
reported to child protective services after an adult called 911. Added once; never on a real line
(seed-demo is a demo command)."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from textline.duty import decisions, emergencies, owed
from textline.extensions import db
from textline.models import CLOSED, INBOUND, Conversation, Message, ReportDecision, Texter, TexterPhone, User, utcnow
from textline.riskmodels import live as risk_models
from textline.texting.privacy import alias_for, phone_hash

EXAMPLES = (("+15550100901", "my stepdad hits me when he drinks and i dont want to go home", 3),
            ("+15550100902", "he hit me again last night and i can't stop shaking, he says he'll do worse", 26))


def _ended_conversation(volunteer: User | None, number: str, body: str, hours_ago: int) -> Conversation:
    now = utcnow()
    at = now - timedelta(hours=hours_ago)
    hashed = phone_hash(number, current_app.config["PHONE_HASH_KEY"])
    texter = Texter(phone_hash=hashed, alias=alias_for(hashed), first_seen_at=at, last_seen_at=at)
    texter.phone = TexterPhone(number=number)
    risk = risk_models.score(body).to_dict()
    # Answered in a minute by the demo volunteer, then handed to an adult who ended it.
    conv = Conversation(texter=texter, status=CLOSED, opened_at=at, queued_at=at, last_inbound_at=at,
                        volunteer_id=volunteer.id if volunteer else None,
                        claimed_at=at + timedelta(minutes=1) if volunteer else None,
                        first_reply_at=at + timedelta(minutes=2) if volunteer else None,
                        closed_at=at + timedelta(minutes=40), priority=risk["score"], risk_level=risk["level"],
                        risk_reasons=risk["reasons"], disposition={"outcome": "escalated", "by": "adult"})
    conv.messages.append(Message(direction=INBOUND, author_kind="texter", body=body, status="received", risk=risk,
                                 created_at=at))
    db.session.add(conv)
    db.session.flush()
    owed.for_risk(conv, risk, at + timedelta(minutes=1))
    db.session.commit()
    return conv


def seed_examples(adult: User, volunteer: User | None) -> int:
    """Add the examples unless any duty record exists. Returns how many conversations were added."""
    if db.session.scalar(select(func.count()).select_from(ReportDecision)):
        return 0
    _ended_conversation(volunteer, *EXAMPLES[0])
    reported = _ended_conversation(volunteer, *EXAMPLES[1])
    during = reported.opened_at + timedelta(minutes=20)  # the adult acted while the conversation went on
    emergencies.record(reported, adult, {"service": "911", "outcome": "Police did a welfare check; texter safe."},
                       now=during)
    decisions.decide(owed.for_conversation(reported.id), adult, {
        "decision": "reported", "reported_to": "child_protective_services", "reference": "CPS-DEMO-0001"},
        now=during + timedelta(minutes=15))
    return len(EXAMPLES)
