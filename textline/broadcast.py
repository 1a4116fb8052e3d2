"""Who hears what happened: every Socket.IO event the server sends leaves from here.

Each function is named for what happened; it decides the rooms and builds the data through
textline/payloads.py. The event names are the constants below, mirrored in static/js/events.js, which
every page script uses. Flask-SocketIO has Redis as its message queue, so a broadcast from any process
(a webhook on web process B, a Celery worker) reaches consoles connected to any web process.

    broadcast.message_added(msg)          # the texter or a volunteer wrote
    broadcast.conversation_changed(conv)  # its room and the adults
    broadcast.queue_changed(rows)         # every volunteer on shift and the adults
"""
from __future__ import annotations

import uuid

from flask import current_app, request
from flask_socketio import join_room, leave_room

from textline import payloads
from textline.accounts import presence
from textline.extensions import db, socketio
from textline.models import Conversation, ConversationNote, Escalation, Message, Page, User, utcnow
from textline.redis_store import MessageQueue
from textline.texting import returning

# ---- what the server sends (static/js/events.js mirrors these) ------------------------------------
HELLO = "hello"                          # to a console that just connected: who it is, its conversations
QUEUE = "queue"                          # the whole queue, in order, and its SEQ (after a repair)
QUEUE_DELTA = "queue_delta"              # one change to the queue, numbered: a row put in place, or gone
QUEUE_ITEM = "queue_item"                # one waiting conversation whose place did not change
CONVERSATION = "conversation"
MESSAGE = "message"
MESSAGE_STATUS = "message_status"
NOTE = "note"                            # a whisper or a handover note: never an SMS
ALERT = "alert"                          # an escalation, on the adults' dashboards
ESCALATION = "escalation"                # the same, as the volunteer in the conversation sees it
NOTICE = "notice"                        # something the adults should know now
SPOOL = "spool"                          # texts waiting for the database (the adults' banner)
TRANSFERRED_AWAY = "transferred_away"
TRANSFERRED_IN = "transferred_in"
TAKEN_OVER = "taken_over"
WELLBEING = "wellbeing"                  # a volunteer's own pause and shift limits, to them alone
VOLUNTEER_BOARD = "volunteer_board"      # the adults' volunteers panel: loads, pauses, debriefs
SIM_MESSAGE = "sim_message"              # the texter simulator's phone
SIM_STATUS = "sim_status"
WORK = "work"                            # the adults' work list changed: dashboards ask for it again
REPORT_REMINDER = "report_reminder"      # a report decision is still owed after REPORT_REMINDER_MINUTES
RISK_LABELS = "risk_labels"              # an adult labelled a conversation or a text: the other dashboards
SENT = frozenset({HELLO, QUEUE, QUEUE_DELTA, QUEUE_ITEM, CONVERSATION, MESSAGE, MESSAGE_STATUS, NOTE, ALERT, ESCALATION,
                  NOTICE, SPOOL, TRANSFERRED_AWAY, TRANSFERRED_IN, TAKEN_OVER, WELLBEING, VOLUNTEER_BOARD, SIM_MESSAGE,
                  SIM_STATUS, WORK, REPORT_REMINDER, RISK_LABELS})

# ---- rooms --------------------------------------------------------------------------------------
VOLUNTEERS = "volunteers"    # on-shift volunteers: queue changes
SUPERVISORS = "supervisors"  # adults: everything
SIMULATOR = "/simulator"     # the simulator's namespace


def conversation_room(conversation_id: int) -> str:
    return f"conv:{conversation_id}"


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def phone_room(number: str) -> str:
    return f"sim:{number}"


def client_manager(url: str):
    """The Redis message queue that joins web processes and workers; an unreachable or hung Redis must
    not hold up the webhook that emits (the emit is dropped and logged instead: redis_store.MessageQueue)."""
    if not url or not url.startswith(("redis://", "rediss://")):
        return None
    return MessageQueue(url, channel="flask-socketio")


def _emit(event: str, data, to: str | list[str], namespace: str = "/", here: bool = False) -> None:
    """here=True: `to` is a socket connected to this process, and nobody else needs the event. It then
    skips the message queue, which would encode it once more and make every web process decode it."""
    try:
        socketio.emit(event, data, to=to, namespace=namespace, ignore_queue=here)
    except Exception:  # a console update must never fail a webhook or a send
        current_app.logger.exception("realtime emit failed: %s", event)


# ---- consoles joining rooms ---------------------------------------------------------------------

def console_connected(user: User, mine: list[dict]) -> None:
    """The connecting console joins its rooms: first, so nothing that happens from now on is missed."""
    join_room(user_room(user.id))
    if user.is_supervisor:
        join_room(SUPERVISORS)
    elif user.on_shift:
        join_room(VOLUNTEERS)
    for conv in mine:
        join_room(conversation_room(conv["id"]))


def hello(user: User, mine: list[dict], queue: dict, heartbeat_seconds: int) -> None:
    """To the console that just connected (to this process): who it is, what it holds, the queue."""
    _emit(HELLO, payloads.hello(user, mine, queue, heartbeat_seconds), to=request.sid, here=True)


def following(conversation_id: int) -> None:
    """The asking console now follows a conversation (claimed, opened, watched, joined)."""
    join_room(conversation_room(conversation_id))


def holder_changed(conversation_id: int, previous_id: int | None) -> None:
    """The one rule for a conversation changing hands (taken over, handed back, transferred): every
    console of the previous holder leaves its room, on whichever web process it lives, so it hears
    nothing more of it. An adult who held it stays: adults may watch every conversation."""
    if previous_id is None:
        return
    previous = db.session.get(User, previous_id)
    if previous is not None and previous.is_supervisor:
        return
    room = conversation_room(conversation_id)
    presence.for_each_socket(previous_id, lambda sid: leave_room(room, sid=sid, namespace="/"))


def shift_changed(user: User) -> None:
    """Every console of a volunteer, on any web process, starts or stops hearing about the queue."""
    if user.is_supervisor:
        return  # adults always hear it
    move = join_room if user.on_shift else leave_room
    presence.for_each_socket(user.id, lambda sid: move(VOLUNTEERS, sid=sid, namespace="/"))


def phone_watched(number: str) -> None:
    """The simulator's page follows one texter's phone."""
    join_room(phone_room(number), namespace=SIMULATOR)


def disconnect_user(user_id: int) -> None:
    """Close every console socket of a user, on whichever web process holds it (deactivation,
    sign-out everywhere)."""
    presence.for_each_socket(user_id, lambda sid: socketio.server.disconnect(sid, namespace="/"))


def disconnect_sockets(sids) -> None:
    """Close these console sockets, on whichever web process holds them (one session's sign-out)."""
    for sid in sids:
        socketio.server.disconnect(sid, namespace="/")


# ---- conversations ------------------------------------------------------------------------------

def message_added(msg: Message) -> None:
    _emit(MESSAGE, payloads.message(msg), to=[conversation_room(msg.conversation_id), SUPERVISORS])


def message_status_changed(msg: Message) -> None:
    _emit(MESSAGE_STATUS, payloads.message_status(msg), to=[conversation_room(msg.conversation_id), SUPERVISORS])


def conversation_changed(conv: Conversation, *users: int) -> None:
    """Its room and the adults; `users` too (a volunteer who claimed it, or lost it, hears it in every tab)."""
    _emit(CONVERSATION, payloads.conversation(conv),
          to=[conversation_room(conv.id), SUPERVISORS, *(user_room(u) for u in users)])


def queue_changed(state: dict) -> None:
    """The whole queue ({"seq", "rows"} from texting.queue_sync.queue_state), after a repair."""
    _emit(QUEUE, state, to=[VOLUNTEERS, SUPERVISORS])


def queue_put(seq: int, row: dict) -> None:
    """A waiting conversation joined the queue or moved in it: its row, with its `order`."""
    _emit(QUEUE_DELTA, {"seq": seq, "put": row}, to=[VOLUNTEERS, SUPERVISORS])


def queue_gone(seq: int, conversation_id: int) -> None:
    """A conversation left the queue (claimed, closed, blocked)."""
    _emit(QUEUE_DELTA, {"seq": seq, "gone": conversation_id}, to=[VOLUNTEERS, SUPERVISORS])


def queue_item_changed(conv: Conversation, inbound_count: int) -> None:
    """One waiting conversation that kept its place: consoles swap its row in."""
    _emit(QUEUE_ITEM, payloads.queue_row(conv, inbound_count), to=[VOLUNTEERS, SUPERVISORS])


def whisper_added(note: ConversationNote, conv: Conversation) -> None:
    """An adult's private note to the volunteer: never an SMS."""
    rooms = [conversation_room(conv.id), SUPERVISORS]
    if conv.volunteer_id:
        rooms.append(user_room(conv.volunteer_id))
    _emit(NOTE, payloads.note(note), to=rooms)


def taken_over(conv: Conversation, by: User, previous_id: int) -> None:
    """The volunteer who held it is told an adult has it now."""
    _emit(TAKEN_OVER, payloads.taken_over(conv, by), to=user_room(previous_id))


def conversation_transferred(conv: Conversation, note: ConversationNote, by: User, previous_id: int | None) -> None:
    """The old volunteer first (so their console drops it before any update arrives), then the rooms,
    the new volunteer, and the adults."""
    room = conversation_room(conv.id)
    if previous_id is not None:
        _emit(TRANSFERRED_AWAY, payloads.transferred_away(conv, by), to=user_room(previous_id))
        holder_changed(conv.id, previous_id)
    presence.for_each_socket(conv.volunteer_id, lambda sid: join_room(room, sid=sid, namespace="/"))
    _emit(TRANSFERRED_IN, {**payloads.transferred_in(conv, by), "history": returning.history(conv)},
          to=user_room(conv.volunteer_id))
    _emit(CONVERSATION, payloads.conversation(conv), to=[room, SUPERVISORS])
    _emit(NOTE, payloads.note(note), to=SUPERVISORS)


# ---- safety -------------------------------------------------------------------------------------

def alert_changed(esc: Escalation) -> None:
    """An escalation was raised, acknowledged, paged or resolved: the alert on every adult's dashboard,
    and a notice in the conversation for its volunteer."""
    _emit(ALERT, payloads.alert(esc), to=SUPERVISORS)
    _emit(ESCALATION, payloads.escalation_notice(esc), to=conversation_room(esc.conversation_id))


def page_changed(page: Page) -> None:
    """A page's delivery status: the alert it belongs to shows it."""
    _emit(ALERT, payloads.alert(page.escalation), to=SUPERVISORS)


def notice_raised(kind: str, level: str, text: str, conv: Conversation | None = None, **details) -> dict:
    """Tell every adult now; returns what they were sent."""
    data = payloads.notice(uuid.uuid4().hex, kind, level, text, utcnow(), conv, **details)
    _emit(NOTICE, data, to=SUPERVISORS)
    return data


def notice_to_user(user_id: int, kind: str, level: str, text: str, conv: Conversation | None = None,
                   **details) -> dict:
    """Tell one person (every console of theirs): a volunteer about their own conversation."""
    data = payloads.notice(uuid.uuid4().hex, kind, level, text, utcnow(), conv, **details)
    _emit(NOTICE, data, to=user_room(user_id))
    return data


def spool_changed(count: int, oldest_seconds: float) -> None:
    """How many texts wait in the spool for the database (textline/texting/spool_drain.py)."""
    _emit(SPOOL, payloads.spool(count, oldest_seconds), to=SUPERVISORS)


# ---- volunteer wellbeing --------------------------------------------------------------------------

def wellbeing_changed(user_id: int, data: dict) -> None:
    """A volunteer's pause or limits changed: their own consoles, nobody else's."""
    _emit(WELLBEING, data, to=user_room(user_id))


def volunteer_board_changed(board: dict) -> None:
    """The volunteers panel: the adults only (it names who is struggling)."""
    _emit(VOLUNTEER_BOARD, board, to=SUPERVISORS)


def moment_noted(note: ConversationNote) -> None:
    """A volunteer's "I need a moment" note on a conversation they handed to the adults."""
    _emit(NOTE, payloads.note(note), to=SUPERVISORS)


# ---- the texter simulator -----------------------------------------------------------------------

def phone_message(number: str, entry: dict) -> None:
    """A text shown on the simulated phone (fake Twilio's thread entry)."""
    _emit(SIM_MESSAGE, entry, to=phone_room(number), namespace=SIMULATOR)


def phone_status(number: str, sid: str, status: str) -> None:
    _emit(SIM_STATUS, payloads.phone_status(sid, status), to=phone_room(number), namespace=SIMULATOR)


# ---- duty of care (textline/duty/) --------------------------------------------------------------

def work_changed() -> None:
    """Something an adult owes came or went (a report decision owed or made): adults only."""
    _emit(WORK, {}, to=SUPERVISORS)


def report_reminder(report: dict) -> None:
    """A report decision still owed: adults only (volunteers never see duty records)."""
    _emit(REPORT_REMINDER, report, to=SUPERVISORS)


# ---- triage -------------------------------------------------------------------------------------

def risk_labels_changed(summary: dict) -> None:
    """A conversation's labels (textline/triage/labels.py summary()), to the adults only."""
    _emit(RISK_LABELS, summary, to=SUPERVISORS)
