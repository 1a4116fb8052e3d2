"""What follows from one new inbound text, decided inside the transaction that stores it (so a retried
webhook or a crash can neither lose nor repeat it): carrier keywords, the automatic texts, and the
immediate escalation when risk is high. The texts themselves go out after the commit (outgoing.send()).

- STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT (textline/texting/keywords.py): the texter is opted out, the
  conversation ends, and the one confirmation Twilio requires is the last text they get. The message is
  still stored and supervisors still see it.
- START, UNSTOP (and YES when opted out): opted back in, with a confirmation.
- HELP: who we are and crisis resources; the conversation still reaches a volunteer.
- Outside the opening hours: an automatic reply with crisis resources and when to text back (at most
  once every OFF_HOURS_REPEAT per conversation); the text is still stored and queued.
- High risk: the 988/911 text once per conversation, unless an adult has joined; and an escalation,
  announced to supervisors as soon as the transaction commits.
- Abuse or violence disclosed (a live lexicon hit): a report decision owed by an adult (textline/duty/).
- A blocked texter (textline/blocklist/): the escalation and STOP/START as above (safety and the carrier
  beat the block); otherwise at most one automatic reply a day, with crisis resources, and nothing else.
- A flood (over FLOOD_RATE): HELP is not answered again while it lasts.
- Spanish: the same keywords in Spanish (PARAR, COMENZAR, AYUDA...: keywords.py), and every automatic text in
  the texter's language (textline/texting/wording.py: the conversation's, else the keyword's, else English).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from textline.accounts import audit
from textline.blocklist import blocks
from textline.console import wrap_up
from textline.duty import owed
from textline.extensions import db
from textline.models import BLOCKED, CLOSED, Conversation, Message, Texter, utcnow
from textline.safety import auto_texts, escalation, opening_hours
from textline.texting import wording
from textline.texting.keywords import Keyword, match
from textline.texting.outgoing import system_text

# A texter who keeps writing while the line is closed is told again after this long, not every time.
OFF_HOURS_REPEAT = timedelta(hours=6)


def apply(result, texter: Texter, assessment: dict) -> None:
    """`result` is the inbound.Inbound being built; automatic texts go in result.outbound,
    escalations to announce in result.escalations."""
    conv, msg = result.conversation, result.message
    now = msg.created_at or utcnow()  # its arrival: a text replayed from the spool arrived earlier
    found = match(msg.body, opted_out=texter.opted_out)
    keyword = found.keyword if found else None
    if conv.language is None and found is not None and found.language != wording.ENGLISH:
        conv.language = found.language  # "AYUDA" is too short for the detector, but it is Spanish
    lang = wording.language_for(conv.language, found.language if found else None)
    high = assessment.get("level") == "high"

    # Whatever else happens (even STOP), adults hear about high risk. Once per conversation: if it was high
    # already, the text that made it so recorded the escalation in the same transaction (no INSERT to try).
    if high and result.level_before != "high":
        esc = escalation.for_high_risk(conv, now, paged=result.spool_page)
        if esc is not None:
            result.escalations.append(esc)
    # Abuse disclosed: an adult owes a decision whether to report it (textline/duty/owed.py).
    if owed.for_risk(conv, assessment, now) is not None:
        result.reports_owed = True

    if keyword is Keyword.OPT_OUT:
        if not texter.opted_out:
            result.outbound.append(system_text(conv, auto_texts.opt_out_confirmation(lang), "opt_out_confirmation"))
        result.closed_from = opt_out(texter, conv, now, "keyword")
        return
    if keyword is Keyword.OPT_IN and texter.opted_out:
        texter.opted_out, texter.opted_out_at = False, None
        result.outbound.append(system_text(conv, auto_texts.opt_in_confirmation(lang), "opt_in_confirmation"))
        audit.record("texter.opt_in", None, "texter", texter.id, commit=False, conversation_id=conv.id)
        return
    if texter.opted_out:
        return  # the carrier blocks anything else we would send; the text still reaches a volunteer

    if conv.status == BLOCKED:
        if high and _claim_crisis_text(db.session, conv, now):
            result.outbound.append(system_text(conv, auto_texts.crisis(lang), "crisis"))
        elif result.block is not None and blocks.claim_daily_reply(result.block, now):
            result.outbound.append(system_text(conv, auto_texts.blocked(lang), "blocked"))
        return
    if keyword is Keyword.HELP and not result.flooding:
        result.outbound.append(system_text(conv, auto_texts.help_text(lang), "help"))
    if not opening_hours.is_open(now):
        if not _told_off_hours_lately(db.session, conv, now):
            result.outbound.append(system_text(conv, auto_texts.off_hours(lang), "off_hours"))
            if high:  # that text carries 988 and 911: it is this conversation's crisis text
                _claim_crisis_text(db.session, conv, now)
        return
    if result.opened and keyword is not Keyword.HELP:
        result.outbound.append(system_text(conv, auto_texts.welcome(lang), "welcome"))
    if high and _claim_crisis_text(db.session, conv, now):
        result.outbound.append(system_text(conv, auto_texts.crisis(lang), "crisis"))


def opt_out(texter: Texter, conv: Conversation, now: datetime, how: str) -> str:
    """The texter is opted out and the conversation closed as opted out, in the caller's transaction:
    by STOP (`how` = "keyword") or by the carrier (delivery.py, Twilio error 21610). Returns the
    conversation's status before (conversations.after_close needs it after the commit)."""
    if not texter.opted_out:
        texter.opted_out, texter.opted_out_at = True, now
        audit.record("texter.opt_out", None, "texter", texter.id, commit=False, conversation_id=conv.id, how=how)
    closed_from = conv.status
    if conv.status != CLOSED:
        conv.status, conv.closed_at = CLOSED, now
        conv.disposition = conv.disposition or wrap_up.system("opted_out")
    return closed_from


def _told_off_hours_lately(session, conv: Conversation, now: datetime) -> bool:
    return session.scalar(select(Message.id).where(
        Message.conversation_id == conv.id, Message.kind == "off_hours",
        Message.created_at > now - OFF_HOURS_REPEAT).limit(1)) is not None


def _claim_crisis_text(session, conv: Conversation, now: datetime) -> bool:
    """Once per conversation, and not once an adult has joined: a conditional UPDATE, so two webhooks of
    the same conversation at the same moment send it once."""
    if conv.crisis_info_sent_at is not None or conv.adult_joined_at is not None:
        return False  # read in this transaction: already so, no UPDATE to try (they are never unset)
    won = session.execute(
        update(Conversation).where(Conversation.id == conv.id, Conversation.crisis_info_sent_at.is_(None),
                                   Conversation.adult_joined_at.is_(None))
        .values(crisis_info_sent_at=now).execution_options(synchronize_session=False)
    ).rowcount == 1
    if won:
        conv.crisis_info_sent_at = now
    return won
