// Volunteer console: the waiting queue, my conversations, one open transcript, replies.
// All live data arrives over Socket.IO; actions go back as events with acknowledgements.
(function () {
  "use strict";
  const {ACTIONS, EVENTS} = window.TextlineEvents;  // events.js

  const $ = (id) => document.getElementById(id);
  const state = {me: null, queue: [], mine: new Map(), openId: null, messages: new Map(), notes: new Map(),
    unread: new Map(), counted: new Set(), queueSeen: null, history: new Map(), told: new Map()};
  const myId = Number($("console").dataset.me);
  const socket = io({transports: ["websocket", "polling"]});

  // ---- small helpers ---------------------------------------------------------------------------
  const {el, elapsed: waited, riskBadge, languageBadge, uuid, RISK_LABELS, plainReasons, plainMatches} = window.TextlineUI;  // ui.js
  const {offerOrder} = window.TextlineRouting;  // routing.js

  function trainingBadge(c) {  // simulator practice: never a real young person
    return c.training ? el("span", {class: "badge training", dataset: {testid: "training-badge"}}, "Training") : "";
  }

  function channelBadge(c) {  // SMS is the usual channel: only WhatsApp is marked
    return c.channel === "whatsapp" ? el("span", {class: "badge channel", dataset: {testid: "channel-badge"}}, "WhatsApp") : "";
  }

  // ---- attention: unread counts, the page title, sounds and desktop alerts (attention.js) --------
  const baseTitle = document.title;
  const attention = window.TextlineAttention || {signal() {}};

  function totalUnread() {
    let n = 0;
    for (const [id, count] of state.unread) if (state.mine.has(id) && state.mine.get(id).status !== "closed") n += count;
    return n;
  }

  function renderTitle() {  // seen from another browser tab: "(3) Console · Textline"
    const n = totalUnread();
    document.title = n ? `(${n}) ${baseTitle}` : baseTitle;
  }

  function markRead(id) {
    if (!state.unread.get(id)) return;
    state.unread.delete(id);
    renderMine();
    renderTitle();
  }

  // A texter's message counts as unread unless its conversation is the one open in a visible window.
  function countUnread(m) {
    if (m.direction !== "in" || !state.mine.has(m.conversation_id) || state.counted.has(m.id)) return;
    state.counted.add(m.id);
    if (m.conversation_id === state.openId && !document.hidden) return;
    state.unread.set(m.conversation_id, (state.unread.get(m.conversation_id) || 0) + 1);
    renderMine();
    renderTitle();
    const conv = state.mine.get(m.conversation_id);
    attention.signal("message", "New message on Textline", `${conv.alias} wrote.`,
      {tag: `conversation-${conv.id}`, onOpen: () => show(conv.id)});
  }

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && state.openId != null) markRead(state.openId);
  });

  // Someone new entered the queue (not the queue as it was when this console started watching it).
  function noticeQueue(queue) {
    const ids = new Set(queue.map((c) => c.id));
    // Pausing after a hard conversation: nobody new is offered, so nothing chimes (console-wellbeing.js).
    const watching = !!state.me && state.me.on_shift && !$("console").dataset.paused;
    const fresh = state.queueSeen && watching ? queue.filter((c) => !state.queueSeen.has(c.id)) : [];
    state.queueSeen = ids;
    if (fresh.length) {
      attention.signal("queue", "Someone is waiting on Textline",
        `${queue.length} waiting${fresh.some((c) => c.risk_level === "high") ? ", one at high risk" : ""}.`,
        {tag: "queue"});
    }
  }

  // ---- queue -----------------------------------------------------------------------------------
  function renderQueue() {
    const list = $("queue");
    const offered = offerOrder(state.queue, state.me && state.me.languages);
    list.replaceChildren(...offered.map((c) => el("li", {class: `queue-item risk-${c.risk_level}`,
      dataset: {id: c.id, testid: "queue-item"}},
      el("div", {class: "queue-main"},
        el("strong", {}, c.alias), " ", riskBadge(c.risk_level), " ", languageBadge(c), " ", trainingBadge(c), " ",
        channelBadge(c),
        el("div", {class: "muted small"}, "waiting ", el("span", {class: "clock", dataset: {since: c.queued_at}},
          waited(c.queued_at)), ` · ${c.inbound_count} message${c.inbound_count === 1 ? "" : "s"}`),
        plainReasons(c.risk_reasons).length ? el("div", {class: "reasons small", title: plainReasons(c.risk_reasons).join("; ")},
          plainReasons(c.risk_reasons).slice(0, 3).join("; ")) : null),
      el("button", {type: "button", class: "primary small", onclick: () => claim(c.id),
        "aria-label": `Claim ${c.alias}`}, "Claim"))));
    $("queue-count").textContent = state.queue.length;
    const watching = !!state.me && (state.me.role !== "volunteer" || state.me.on_shift);
    $("queue-empty").hidden = state.queue.length > 0 || !watching;
    $("queue-off").hidden = watching;
    $("queue-count").hidden = !watching;  // off shift the list is not sent: "0" would be untrue
    document.dispatchEvent(new CustomEvent("textline:queue"));  // console-wellbeing.js marks pauses and limits
  }

  // ---- shift -----------------------------------------------------------------------------------
  function renderShift() {
    const on = !!(state.me && state.me.on_shift);
    $("shift-state").textContent = on ? "On shift" : "Off shift";
    $("shift-toggle").textContent = on ? "Go off shift" : "Go on shift";
    $("shift-toggle").setAttribute("aria-pressed", String(on));
    $("shift-toggle").className = on ? "secondary small" : "primary small";  // off shift, it is the next step
  }

  function shiftChanged(res) {
    state.me = res.me;
    state.queueSeen = null;  // what is there on coming on shift is not news
    queueView.reset(res.queue_seq, res.queue || []);
    renderShift();
    document.dispatchEvent(new CustomEvent("textline:shift", {detail: state.me}));
  }

  $("shift-toggle").addEventListener("click", () => {
    const on = !!(state.me && state.me.on_shift);
    // A volunteer going off shift is asked how they are first (console-wellbeing.js).
    if (on && state.me.role === "volunteer" && window.TextlineConsole.checkOut) return window.TextlineConsole.checkOut();
    socket.emit(ACTIONS.SHIFT, {on: !on}, (res) => {
      if (!res.ok) return alert(res.error);
      shiftChanged(res);
    });
  });

  function claim(id) {
    socket.emit(ACTIONS.CLAIM, {conversation_id: id}, (res) => {
      if (!res.ok) return alert(res.error);
      state.mine.set(res.conversation.id, res.conversation);
      state.messages.set(res.conversation.id, res.messages);
      state.notes.set(res.conversation.id, res.notes || []);
      state.history.set(res.conversation.id, res.history);
      renderMine();
      show(res.conversation.id);
    });
  }

  // ---- my conversations: a tab strip ---------------------------------------------------------
  // The tab's name says what it shows, in the same order (its visible words must be part of its name):
  // "Texter 4F2A, High risk, 2 unread".

  function tabLabel(c, unread) {
    return [c.alias, RISK_LABELS[c.risk_level] || c.risk_level, c.training ? "Training" : null,
      c.channel === "whatsapp" ? "WhatsApp" : null,
      c.status === "closed" ? "Ended" : null, unread ? `${unread} unread` : null].filter(Boolean).join(", ");
  }

  function renderMine() {
    // A conversation the texter ended with STOP stays until the volunteer has written its wrap-up.
    const items = [...state.mine.values()].filter((c) => c.status !== "closed" || c.wrap_up_pending);
    const focusedId = document.activeElement && document.activeElement.closest("#mine")
      ? document.activeElement.dataset.id : null;
    const selected = items.some((c) => c.id === state.openId) ? state.openId : (items[0] && items[0].id);
    $("mine").replaceChildren(...items.map((c) => {
      const unread = state.unread.get(c.id) || 0;
      return el("button", {type: "button", role: "tab", id: `tab-${c.id}`, class: `tab ${c.id === state.openId ? "current" : ""}`,
        "aria-selected": String(c.id === state.openId), "aria-controls": "chat", "aria-label": tabLabel(c, unread),
        tabindex: c.id === selected ? "0" : "-1", dataset: {id: c.id, testid: "mine-item", unread: unread},
        onclick: () => show(c.id)},
        // No language badge here: a tab's name is its label (tabLabel), and the chat header shows it.
        c.alias, " ", riskBadge(c.risk_level), " ", trainingBadge(c), " ", channelBadge(c),
        c.status === "closed" ? el("span", {class: "badge ended"}, "Ended") : null,
        unread ? el("span", {class: "unread", dataset: {testid: "unread"}}, String(unread)) : null);
    }));
    $("mine-empty").hidden = items.length > 0;
    if (focusedId != null && $(`tab-${focusedId}`)) $(`tab-${focusedId}`).focus();
    if (state.openId != null) $("chat").setAttribute("aria-labelledby", `tab-${state.openId}`);
  }

  // Arrow keys move between tabs, Home/End to the ends; Enter or Space opens one (manual activation:
  // opening moves the cursor to the reply box, which arrowing past a tab should not do).
  $("mine").addEventListener("keydown", (event) => {
    const tabs = [...$("mine").querySelectorAll("[role=tab]")];
    const at = tabs.indexOf(document.activeElement);
    if (at < 0) return;
    const to = {ArrowDown: at + 1, ArrowRight: at + 1, ArrowUp: at - 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1}[event.key];
    if (to == null) return;
    event.preventDefault();
    const next = tabs[(to + tabs.length) % tabs.length];
    for (const t of tabs) t.tabIndex = t === next ? 0 : -1;
    next.focus();
  });

  function show(id) {
    state.openId = id;
    if (!document.hidden) state.unread.delete(id);
    renderTitle();
    const render = () => { renderChat(); renderMine(); $("reply-body").focus(); };
    if (state.messages.has(id)) return render();
    socket.emit(ACTIONS.OPEN, {conversation_id: id}, (res) => {
      if (!res.ok) return alert(res.error);
      state.mine.set(id, res.conversation);
      state.messages.set(id, res.messages);
      state.notes.set(id, res.notes || []);
      state.history.set(id, res.history);
      render();
    });
  }

  // ---- transcript ------------------------------------------------------------------------------
  const TICKS = {pending: "○ saving", submitting: "○ sending", unconfirmed: "○ retrying", accepted: "✓ sent to carrier",
    queued: "✓ sent to carrier", sending: "✓ sent to carrier", sent: "✓✓ sent", delivered: "✓✓ delivered",
    read: "✓✓ read", failed: "⚠ failed", undelivered: "⚠ not delivered", refused: "⚠ not sent (opted out)"};
  // Why the sender refused a text (delivery.py), where it is not an opt-out.
  const REFUSED = {"whatsapp-24h": "⚠ not sent: WhatsApp allows replies only within 24 hours of the texter's last message",
    "no-sender": "⚠ not sent: this channel is switched off", "no-number": "⚠ not sent (number erased)"};

  function messageItem(m) {
    const mine = m.direction === "out";
    const who = {texter: "Texter", volunteer: "Volunteer", supervisor: "Adult advisor", system: "Automatic"}[m.author];
    const matches = plainMatches(m.risk && m.risk.matches);
    const reasons = plainReasons(m.risk && m.risk.reasons);
    const body = m.body == null ? el("em", {}, "(erased)")
      : matches.length ? TextlineHighlight.render(document, m.body, matches) : m.body;  // risk spans marked
    return el("li", {class: `msg ${mine ? "out" : "in"} author-${m.author}`, dataset: {id: m.id, testid: "message"}},
      el("div", {class: "bubble"}, body, ...TextlineMedia.render(m, !!state.me && state.me.role !== "volunteer")),
      el("div", {class: "meta small muted"}, who, " · ", new Date(m.created_at).toLocaleTimeString(),
        mine ? el("span", {class: `tick status-${m.status}`, dataset: {testid: "status"}}, " ",
          (m.status === "refused" && REFUSED[m.error_code]) || TICKS[m.status] || m.status) : null,
        m.replaced_chars ? el("span", {class: "replaced", dataset: {testid: "replaced"}},
          ` · ${m.replaced_chars} character${m.replaced_chars === 1 ? "" : "s"} could not be stored, shown as \ufffd`) : null,
        reasons.length ? el("span", {class: "reasons"}, " ⚑ ", reasons.join("; ")) : null));
  }

  // A private note, never sent to the texter: a supervisor's "whisper", or a colleague's handover note
  // when they transferred the conversation to me.
  function noteItem(n) {
    const from = n.kind === "transfer"
      ? `Handover note from ${n.author} (${n.author_is_adult ? "adult advisor" : "volunteer"}), not sent to the texter · `
      : `Private note from ${n.author} (adult advisor), only you can see it · `;
    return el("li", {class: `msg note note-${n.kind || "whisper"}`, dataset: {id: `n${n.id}`, testid: "note"}},
      el("div", {class: "bubble"}, n.body == null ? el("em", {}, "(erased)") : n.body),
      el("div", {class: "meta small muted"}, from, new Date(n.created_at).toLocaleTimeString()));
  }

  function renderChat() {
    const conv = state.mine.get(state.openId);
    $("chat-empty").hidden = !!conv;
    $("chat").hidden = !conv;
    if (!conv) return;
    const takenBy = conv.taken_by || (conv.volunteer_id != null && conv.volunteer_id !== myId ? conv.volunteer_name : null);
    const takenOver = conv.status !== "closed" && !!takenBy;
    $("chat-alias").textContent = conv.alias + (conv.status === "closed" ? " (ended)" : "");
    const why = plainReasons(conv.risk_reasons).join("; ");
    $("chat-risk").replaceChildren(riskBadge(conv.risk_level), " ", languageBadge(conv), " ", trainingBadge(conv), " ",
      channelBadge(conv),
      ...(why ? [el("span", {class: "why", title: why}, why)] : []));
    $("notice-adult").hidden = !conv.adult_name;
    $("notice-adult").textContent = conv.adult_name ? `${conv.adult_name} (adult advisor) has joined this conversation.` : "";
    $("notice-taken").hidden = !takenOver;
    $("notice-taken").textContent = takenOver ? `${takenBy} (adult advisor) took over this conversation.` : "";
    const items = [...(state.messages.get(conv.id) || []).map((m) => ({at: m.created_at, node: messageItem(m)})),
      ...(state.notes.get(conv.id) || []).map((n) => ({at: n.created_at, node: noteItem(n)}))]
      .sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    const list = $("transcript");
    list.replaceChildren(...items.map((x) => x.node));
    list.scrollTop = list.scrollHeight;
    $("reply-form").hidden = conv.status === "closed" || takenOver;
    $("ask-adult").hidden = conv.status === "closed" || takenOver;
    $("end-open").hidden = $("resources").hidden = takenOver;
    $("end-open").textContent = conv.status === "closed" ? "Wrap up…" : "End conversation…";
    $("notice-ended").hidden = !conv.wrap_up_pending;
    $("notice-texter").hidden = !state.told.has(conv.id);
    $("notice-texter").textContent = state.told.get(conv.id) || "";
    TextlineHistory.show($("history"), state.history.get(conv.id));  // history.js: earlier wrap-ups
    document.dispatchEvent(new CustomEvent("textline:chat", {detail: conv}));
  }

  $("reply-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const box = $("reply-body");
    const body = box.value.trim();
    if (!body || state.openId == null) return;
    $("reply-send").disabled = true;
    socket.emit(ACTIONS.REPLY, {conversation_id: state.openId, body, client_id: uuid()}, (res) => {
      $("reply-send").disabled = false;
      $("reply-error").textContent = res.ok ? "" : res.error;
      if (res.ok) { box.value = ""; addMessage(res.message); }
    });
  });

  $("reply-body").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      $("reply-form").requestSubmit();
    }
  });

  function addMessage(m) {
    countUnread(m);
    const list = state.messages.get(m.conversation_id);
    if (!list) return;
    const at = list.findIndex((x) => x.id === m.id);
    if (at >= 0) list[at] = m; else list.push(m);
    if (m.conversation_id === state.openId) renderChat();
  }

  // ---- ending ----------------------------------------------------------------------------------
  $("end-open").addEventListener("click", () => $("end-dialog").showModal());
  $("end-cancel").addEventListener("click", () => $("end-dialog").close());
  // The wrap-up: the server decides what is complete (textline/console/wrap_up.py); its refusal names the
  // field, which is marked and focused, and the conversation stays open.
  const FIELDS = {outcome: "end-outcome", risk: "end-risk", follow_up: "end-follow-up", topics: "end-topics",
    resources: "end-resources"};

  function wrapUp() {
    const ticked = (name) => [...$("end-form").querySelectorAll(`input[name=${name}]:checked`)].map((i) => i.value);
    return {outcome: $("end-outcome").value, risk: $("end-risk").value, follow_up: $("end-follow-up").value,
      topics: ticked("topics"), resources: ticked("resources")};
  }

  function markField(field) {
    for (const [name, id] of Object.entries(FIELDS)) {
      if (name === field) $(id).setAttribute("aria-invalid", "true"); else $(id).removeAttribute("aria-invalid");
    }
    const target = field && $(FIELDS[field]);
    if (!target) return;
    (target.tagName === "FIELDSET" ? target.querySelector("input") : target).focus();
  }

  function resetWrapUp() {
    $("end-form").reset();
    $("end-error").textContent = "";
    markField(null);
  }

  $("end-dialog").addEventListener("close", resetWrapUp);
  $("end-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const id = state.openId;
    $("end-confirm").disabled = true;
    socket.emit(ACTIONS.END, {conversation_id: id, disposition: wrapUp(), note: $("end-note").value}, (res) => {
      $("end-confirm").disabled = false;
      if (!res.ok) {
        $("end-error").textContent = res.error;
        return markField(res.field);
      }
      $("end-dialog").close();
      state.mine.delete(res.conversation.id);
      state.messages.delete(res.conversation.id);
      state.unread.delete(res.conversation.id);
      state.openId = null;
      renderMine();
      renderChat();
      renderTitle();
      $("chat-empty").hidden = false;
      $("chat").hidden = true;
      const next = $("mine").querySelector("[role=tab]");
      if (next) next.focus();  // keyboard users land on the next conversation, not the top of the page
    });
  });

  // ---- live events -----------------------------------------------------------------------------
  // The queue, kept from numbered one-row changes (queue-view.js); noticeQueue knows who is new.
  const queueView = window.TextlineQueue.watch(socket, (queue) => {
    if (state.queueSeen == null) state.queueSeen = new Set(queue.map((c) => c.id));
    else noticeQueue(queue);
    state.queue = queue;
    renderQueue();
  });
  socket.on("connect", () => { $("connection").textContent = "Live"; $("connection").className = "connection live"; });
  socket.on("disconnect", (reason) => {
    // The server ended this sign-in (signed out, timed out, deactivated): the page shows the sign-in form.
    if (reason === "io server disconnect") { window.location.assign("/console"); return; }
    $("connection").textContent = "Reconnecting…"; $("connection").className = "connection down";
  });
  socket.on(EVENTS.HELLO, (data) => {
    state.me = data.me;
    renderShift();
    queueView.reset(data.queue_seq, data.queue);
    // Passed on or handed back while away: not ours now (one the texter ended still waits for its wrap-up).
    const held = new Set(data.mine.map((c) => c.id));
    for (const [id, c] of [...state.mine]) if (!held.has(id) && !c.wrap_up_pending) state.mine.delete(id);
    if (!state.mine.has(state.openId)) state.openId = null;
    for (const c of data.mine) state.mine.set(c.id, c);
    state.messages.clear();  // re-fetch transcripts: messages may have arrived while we were away
    renderQueue();
    renderMine();
    if (state.openId != null) show(state.openId); else renderChat();
  });
  socket.on(EVENTS.MESSAGE, addMessage);
  socket.on(EVENTS.MESSAGE_STATUS, (s) => {
    const list = state.messages.get(s.conversation_id) || [];
    const m = list.find((x) => x.id === s.id);
    if (m) { m.status = s.status; m.error_code = s.error_code; if (s.conversation_id === state.openId) renderChat(); }
  });
  socket.on(EVENTS.CONVERSATION, (c) => {
    if (!state.mine.has(c.id)) return;
    if (c.status === "waiting") return drop(c.id);  // an adult sent it back to the queue
    // Closed under the volunteer by the texter's STOP: the server says the wrap-up is still theirs to write.
    state.mine.set(c.id, c);
    renderMine();
    renderTitle();
    if (c.id === state.openId) renderChat();
  });
  socket.on(EVENTS.NOTE, (n) => {
    const list = state.notes.get(n.conversation_id);
    if (!list || list.some((x) => x.id === n.id)) return;
    list.push(n);
    if (n.conversation_id === state.openId) renderChat();
  });
  // About the texter of a conversation I hold (textline/safety/notices.py): writing faster than the
  // line's flood rate, or blocked by an adult. Shown above its transcript.
  socket.on(EVENTS.NOTICE, (n) => {
    if (!["flood", "blocked"].includes(n.kind) || !state.mine.has(n.conversation_id)) return;
    state.told.set(n.conversation_id, n.text);
    if (n.conversation_id === state.openId) renderChat();
  });
  socket.on(EVENTS.TAKEN_OVER, (t) => {
    const c = state.mine.get(t.conversation_id);
    if (c) state.mine.set(c.id, {...c, taken_by: t.by});
    if (t.conversation_id === state.openId) renderChat();
  });

  // A conversation a colleague passed to me (console-transfer.js): into "My conversations", opened if
  // nothing else is. And one passed on to a colleague: gone from here.
  function adopt(t) {
    state.mine.set(t.conversation.id, t.conversation);
    state.messages.set(t.conversation.id, t.messages);
    state.notes.set(t.conversation.id, t.notes || []);
    state.history.set(t.conversation.id, t.history);
    if (state.openId == null) show(t.conversation.id); else renderMine();
  }

  function drop(id) {
    const wasOpen = state.openId === id;
    state.mine.delete(id);
    state.messages.delete(id);
    state.notes.delete(id);
    state.unread.delete(id);
    if (wasOpen) state.openId = null;
    renderMine();
    renderChat();
    renderTitle();
    const next = wasOpen && $("mine").querySelector("[role=tab]");
    if (next) next.focus();  // keyboard users land on the next conversation, as after ending one
  }

  // For console-safety.js, console-canned.js and console-transfer.js: the socket, which conversation is
  // open, and adding or dropping a conversation.
  window.TextlineConsole = {socket, openId: () => state.openId, adopt, drop, shiftChanged,
    me: () => state.me};

  // Presence: the server forgets a console that stops beating (its conversations go back to the queue).
  let beat = null;
  socket.on(EVENTS.HELLO, (data) => {
    clearInterval(beat);
    beat = setInterval(() => { if (socket.connected) socket.emit(ACTIONS.HEARTBEAT); }, data.heartbeat_seconds * 1000);
  });
})();
