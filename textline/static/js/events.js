// Socket.IO event names, the browser's copy of the server's: every page script names events through
// these, never as bare strings. EVENTS are what the server sends (the constants in textline/broadcast.py);
// ACTIONS are what a page asks the server to do (the handlers in textline/console/sockets.py,
// textline/safety/sockets.py, textline/console/transfer_events.py and textline/texting/simulator.py).
// tests/unit/test_events.py checks that both sides agree.
(function () {
  "use strict";

  const EVENTS = Object.freeze({
    HELLO: "hello",
    QUEUE: "queue",
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
    SIM_MESSAGE: "sim_message",
    SIM_STATUS: "sim_status",
  });

  const ACTIONS = Object.freeze({
    HEARTBEAT: "heartbeat",
    SHIFT: "shift",
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
    BLOCK_TEXTER: "block_texter",
  });

  window.TextlineEvents = Object.freeze({EVENTS, ACTIONS});
})();
