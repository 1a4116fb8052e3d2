"""The model in shadow against the live one, on the texts it scored: how often each flagged (review or
high) and alerted (high), and, on the texts an adult labelled, each one's recall and false alarms. The
live side is what the live scorer decided when the text came in (messages.risk)."""
from __future__ import annotations

from sqlalchemy import select

from textline.extensions import db
from textline.models import FALSE_ALARM, NEEDED, Message, RiskLabel, ShadowScore

FLAGGED, ALERT = ("medium", "high"), ("high",)


def _share(levels: list[str], wanted) -> float | None:
    return round(sum(lv in wanted for lv in levels) / len(levels), 4) if levels else None


def compare(model_id: int) -> dict:
    rows = db.session.execute(
        select(ShadowScore.level, Message.risk, RiskLabel.verdict)
        .join(Message, Message.id == ShadowScore.message_id)
        .outerjoin(RiskLabel, RiskLabel.message_id == Message.id)
        .where(ShadowScore.model_id == model_id)).all()
    shadow = [s for s, _, _ in rows]
    live = [(r or {}).get("level", "none") for _, r, _ in rows]
    out = {"texts": len(rows),
           "flagged": {"live": _share(live, FLAGGED), "shadow": _share(shadow, FLAGGED)},
           "alerted": {"live": _share(live, ALERT), "shadow": _share(shadow, ALERT)},
           "disagree": sum((a in FLAGGED) != (b in FLAGGED) for a, b in zip(live, shadow))}
    for verdict, name in ((NEEDED, "needed"), (FALSE_ALARM, "false_alarm")):
        picked = [(lv, sh) for (sh, _, v), lv in zip(rows, live) if v == verdict]
        out[name] = {"texts": len(picked),
                     "live_flagged": _share([lv for lv, _ in picked], FLAGGED),
                     "shadow_flagged": _share([sh for _, sh in picked], FLAGGED),
                     "live_alerted": _share([lv for lv, _ in picked], ALERT),
                     "shadow_alerted": _share([sh for _, sh in picked], ALERT)}
    return out
