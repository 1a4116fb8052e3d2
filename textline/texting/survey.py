"""The post-conversation survey: after a conversation ends the texter gets one optional text
("How helpful was this? Reply 1-5"), and a score sent back within the window is stored against that
closed conversation instead of opening a new one.

What counts as an answer is deliberately narrow, so that a young person who texts again to talk is
never mistaken for a survey reply: the whole message must be one score, 1 to 5, as a digit or a word,
optionally "out of 5" ("4", "4!", " four ", "4/5", "4 out of 5"), or the same in Spanish ("cuatro",
"4 de 5"). Anything else opens a new conversation as usual. Only the first answer counts; a later "5"
starts a conversation. The survey and its thank-you are in the conversation's language (wording.py).
"""
from __future__ import annotations

import re
from datetime import timedelta

from flask import current_app
from sqlalchemy import exists, select

from textline.extensions import db
from textline.models import (
    CLOSED, FINAL_FAILURES, INBOUND, Conversation, Message, SurveyResponse, Texter, utcnow,
)
from textline.texting import wording
from textline.texting.keywords import _normalise
from textline.texting.outgoing import system_text

SURVEY, ANSWER, THANKS = "survey", "survey_answer", "survey_thanks"
WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5}
_SCORE = re.compile(r"([1-5]|one|two|three|four|five|uno|dos|tres|cuatro|cinco)"
                    r"(?:\s*(?:/|out of|de)\s*(?:5|five|cinco))?")


def parse_score(body: str | None) -> int | None:
    """The score a whole message gives, or None when it is anything but a score."""
    match = _SCORE.fullmatch(_normalise(body or ""))
    if match is None:
        return None
    word = match.group(1)
    return WORDS.get(word) or int(word)


def offer(conv: Conversation, ended_by) -> Message | None:
    """The survey text for a conversation that is closing, stored in the caller's transaction, or None.

    Only when a person (volunteer or adult) ended a real conversation (someone replied): never when the
    system closed it (STOP, an erasure request), never to an opted-out texter or one whose number is
    gone, and once per conversation."""
    texter = conv.texter
    if not current_app.config["SURVEY_ENABLED"] or ended_by is None or conv.first_reply_at is None:
        return None
    if texter.opted_out or texter.phone is None:
        return None
    if db.session.scalar(select(exists().where(Message.conversation_id == conv.id, Message.kind == SURVEY))):
        return None
    return system_text(conv, wording.text_for(SURVEY, wording.language_for(conv.language)), kind=SURVEY)


def _awaiting_answer(texter: Texter) -> Message | None:
    """The survey this texter was sent within the window and has not answered, if any."""
    since = utcnow() - timedelta(hours=current_app.config["SURVEY_WINDOW_HOURS"])
    answered = exists().where(SurveyResponse.conversation_id == Conversation.id)
    return db.session.scalar(
        select(Message).join(Conversation, Message.conversation_id == Conversation.id).where(
            Message.kind == SURVEY, Message.created_at >= since, Message.status.not_in(FINAL_FAILURES),
            Conversation.texter_id == texter.id, Conversation.status == CLOSED, ~answered,
        ).order_by(Message.created_at.desc()).limit(1))


def take_answer(texter: Texter, body: str, message_sid: str, risk: dict, mid_conversation: bool):
    """If this text answers a survey, store it (message, score, thank-you text) in the caller's
    transaction and return (the answer, the thank-you text to send); otherwise None and nothing is written.
    `mid_conversation`: the texter has an open conversation (the caller has looked it up)."""
    score = parse_score(body)
    if score is None or mid_conversation:  # mid-conversation, a "3" is part of the conversation
        return None
    survey = _awaiting_answer(texter)
    if survey is None:
        return None
    conv = survey.conversation
    now = utcnow()
    msg = Message(conversation=conv, direction=INBOUND, author_kind="texter", kind=ANSWER, body=body,
                  twilio_sid=message_sid, status="received", risk=risk, created_at=now)
    db.session.add(msg)
    # The unique conversation_id makes a concurrent second answer fail; the caller's retry then
    # finds the survey answered and opens a conversation with it.
    db.session.add(SurveyResponse(conversation=conv, message=msg, score=score, answered_at=now))
    thanks = system_text(conv, wording.text_for(THANKS, wording.language_for(conv.language)), kind=THANKS)
    return msg, thanks
