"""The check-out when a volunteer ends a shift: "how are you feeling" (1-5) and "would you like an adult
to talk with you". Stored for the adults; a low answer or a yes raises a (non-urgent) debrief task."""
from __future__ import annotations

from textline.accounts import audit, shifts
from textline.extensions import db
from textline.models import DebriefTask, ShiftCheckout, User
from textline.ops.request_args import whole_number
from textline.safety import notices
from textline.texting.conversations import ConversationError
from textline.wellbeing import board

LOW = 2  # 1 or 2 of 5: an adult should check in


def debrief_reason(feeling: int, wants_adult: bool) -> str | None:
    low = feeling <= LOW
    return "both" if low and wants_adult else "low_feeling" if low else "asked_to_talk" if wants_adult else None


def check_out(user: User, feeling, wants_adult) -> tuple[ShiftCheckout, DebriefTask | None]:
    """End the shift with the volunteer's answers. Refused (nothing changes) when feeling is not 1-5."""
    feeling = whole_number(feeling)
    if feeling is None or not 1 <= feeling <= 5:
        raise ConversationError("Choose how you are feeling, from 1 to 5.", "checkout", "feeling")
    wants_adult = wants_adult is True
    started = user.shift_started_at
    shifts.set_on_shift(user, False)
    row = ShiftCheckout(user_id=user.id, feeling=feeling, wants_adult=wants_adult, shift_started_at=started)
    db.session.add(row)
    db.session.flush()
    reason = debrief_reason(feeling, wants_adult)
    task = DebriefTask(volunteer_id=user.id, checkout_id=row.id, reason=reason) if reason else None
    if task is not None:
        db.session.add(task)
    audit.record("wellbeing.checkout", user, "user", user.id, commit=False, debrief=reason)
    db.session.commit()
    if task is not None:
        text = (f"{user.display_name} would like an adult to talk with them after their shift." if wants_adult
                else f"{user.display_name} ended their shift feeling low ({feeling} of 5).")
        notices.notify_supervisors("debrief", text + " A debrief is on the volunteers panel.", level="info",
                                   volunteer_id=user.id, debrief_id=task.id)
    board.publish()
    return row, task
