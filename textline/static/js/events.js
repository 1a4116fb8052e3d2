// Socket.IO event names, the browser's copy of the server's: every page script names events through
// these, never as bare strings. EVENTS are what the server sends (the constants in textline/broadcast.py);
// ACTIONS are what a page asks the server to do (the handlers in textline/console/sockets.py,
// textline/safety/sockets.py, textline/console/transfer_events.py, textline/wellbeing/sockets.py and textline/texting/simulator.py).
// tests/unit/test_events.py checks that both sides agree.
(function () {
  "use strict";

  const EVENTS = Object.freeze({
    HELLO: "hello",
    QUEUE: "queue",
    QUEUE_DELTA: "queue_delta",
    QUEUE_ITEM: "queue_item",
    CONVERSATION: "conversation",
    MESSAGE: "message",
    MESSAGE_STATUS: "message_status",
    NOTE: "note",
    ALERT: "alert",
    ESCALATION: "escalation",
    NOTICE: "notice",
    SPOOL: "spool",
    TRANSFERRED_AWAY: "transferred_away",
    TRANSFERRED_IN: "transferred_in",
    TAKEN_OVER: "taken_over",
    WELLBEING: "wellbeing",
    VOLUNTEER_BOARD: "volunteer_board",
    SIM_MESSAGE: "sim_message",
    SIM_STATUS: "sim_status",
    WORK: "work",
    REPORT_REMINDER: "report_reminder",
    RISK_LABELS: "risk_labels",
  });

  const ACTIONS = Object.freeze({
    HEARTBEAT: "heartbeat",
    SHIFT: "shift",
    QUEUE_SYNC: "queue_sync",
    CLAIM: "claim",
    OPEN: "open",
    REPLY: "reply",
    END: "end",
    ASK_ADULT: "ask_adult",
    TRANSFER_TARGETS: "transfer_targets",
    TRANSFER: "transfer",
    SUPERVISE_SNAPSHOT: "supervise_snapshot",
    WATCH: "watch",
    ACKNOWLEDGE: "acknowledge",
    WHISPER: "whisper",
    ADULT_JOIN: "adult_join",
    TAKE_OVER: "take_over",
    WELLBEING: "wellbeing",
    READY_TO_GO_ON: "ready_to_go_on",
    NEED_MOMENT: "need_moment",
    CHECK_OUT: "check_out",
    VOLUNTEER_BOARD: "volunteer_board",
    DEBRIEF_TAKE: "debrief_take",
    DEBRIEF_DONE: "debrief_done",
    HAND_BACK: "hand_back",
    WORK_LIST: "work_list",
    BLOCK_TEXTER: "block_texter",
    RISK_LABEL: "risk_label",
    SET_LANGUAGE: "set_language",
  });

  window.TextlineEvents = Object.freeze({EVENTS, ACTIONS});
})();
