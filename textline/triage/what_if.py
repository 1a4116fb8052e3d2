"""What an edit of the lexicon would change, before it is saved: the labelled texts it would newly catch,
newly alert or flag on, or no longer catch.

Labelled texts: the texter's texts (words still kept) in every conversation with a label (training ones
left out, as on the Triage page); each text counts with its own adult label, else its conversation's adult
label, else the volunteer's wrap-up (labels.py); the most recent LIMIT of them. Each is scored twice, on its own, with the live lexicon and with the live
lexicon plus the edit, both with the packaged model, so only the edit makes a difference (the conversation-
level rule, which reads earlier texts, is left out of both).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from textline.extensions import db
from textline.models import FALSE_ALARM, INBOUND, NEEDED, Conversation, Message, RiskLabel, Texter
from textline.safety.risk import RiskScorer, load_model
from textline.safety.risk.scorer import packaged_lexicon
from textline.triage import lexicon_edits, off_loop
from textline.triage.labels import WRAP_UP_VERDICTS

LIMIT = 5000
ALERT, FLAG = ("high",), ("medium", "high")


@dataclass
class Text:
    message_id: int
    conversation_id: int
    alias: str
    body: str
    verdict: str
    before: str = "none"
    after: str = "none"


def labelled_texts(limit: int = LIMIT) -> list[Text]:
    conv_labels: dict[int, str] = {}
    text_labels: dict[int, str] = {}
    for conv_id, message_id, verdict in db.session.execute(
            select(RiskLabel.conversation_id, RiskLabel.message_id, RiskLabel.verdict)):
        if message_id is None:
            conv_labels[conv_id] = verdict
        else:
            text_labels[message_id] = verdict
    for conv_id, disposition in db.session.execute(
            select(Conversation.id, Conversation.disposition).where(
                Conversation.content_erased_at.is_(None), Conversation.disposition.is_not(None))):
        verdict = WRAP_UP_VERDICTS.get((disposition or {}).get("risk"))
        if verdict and conv_id not in conv_labels:
            conv_labels[conv_id] = verdict
    labelled_convs = set(conv_labels)
    if text_labels:
        labelled_convs |= set(db.session.scalars(select(Message.conversation_id).where(
            Message.id.in_(list(text_labels)))))
    if not labelled_convs:
        return []
    rows = db.session.execute(
        select(Message.id, Message.conversation_id, Texter.alias, Message.body)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .join(Texter, Texter.id == Conversation.texter_id)
        .where(Message.conversation_id.in_(labelled_convs), Message.direction == INBOUND, Message.body.is_not(None),
               Message.body != "", Conversation.training.is_(False))
        .order_by(Message.id.desc()).limit(limit)).all()
    out = []
    for msg_id, conv_id, alias, body in rows:
        verdict = text_labels.get(msg_id) or conv_labels.get(conv_id)
        if verdict:
            out.append(Text(msg_id, conv_id, alias, body, verdict))
    return out


def _score(texts: list[Text], live: RiskScorer, edited: RiskScorer) -> None:
    for t in texts:
        t.before, t.after = live.score(t.body).level, edited.score(t.body).level


@dataclass
class Preview:
    texts: int
    caught: list[Text]        # needed an adult: not alerting now, alerting with the edit
    lost: list[Text]          # needed an adult: alerting now, not with the edit
    new_alarms: list[Text]    # labelled no: not alerting now, alerting with the edit
    new_flags: list[Text]     # labelled no: not flagged now, flagged for review with the edit
    quieted: list[Text]       # labelled no: alerting now, not with the edit


def preview(entry: dict) -> Preview:
    """Raises LexiconError if the edit does not compile."""
    model = load_model()
    edited = RiskScorer(lexicon_edits.lexicon_with(lexicon_edits.with_edit(entry)), model)
    live = RiskScorer(packaged_lexicon(), model)
    texts = labelled_texts()
    off_loop.run(_score, texts, live, edited)
    needed = [t for t in texts if t.verdict == NEEDED]
    no = [t for t in texts if t.verdict == FALSE_ALARM]
    return Preview(
        texts=len(texts),
        caught=[t for t in needed if t.before not in ALERT and t.after in ALERT],
        lost=[t for t in needed if t.before in ALERT and t.after not in ALERT],
        new_alarms=[t for t in no if t.before not in ALERT and t.after in ALERT],
        new_flags=[t for t in no if t.before not in FLAG and t.after in FLAG and t.after not in ALERT],
        quieted=[t for t in no if t.before in ALERT and t.after not in ALERT])
