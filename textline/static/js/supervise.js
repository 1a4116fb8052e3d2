// Supervisor dashboard: every live conversation, open alerts (sound + banner), any transcript live,
// whisper to the volunteer, join as an adult, take over, end. All data arrives over Socket.IO; every
// action goes back as an event with an acknowledgement (textline/safety/sockets.py).
(function () {
  "use strict";
  const {ACTIONS, EVENTS} = window.TextlineEvents;  // events.js

  const $ = (id) => document.getElementById(id);
  const me = Number($("supervise").dataset.me);
  const state = {convs: new Map(), alerts: new Map(), openId: null, messages: new Map(), notes: new Map(),
    heard: new Set(), history: new Map(), blocks: new Map(), labels: new Map()};
  const socket = io({transports: ["websocket", "polling"]});
  const RISK_ORDER = {high: 3, medium: 2, low: 1, none: 0};
  const WHO = {texter: "Texter", volunteer: "Volunteer", supervisor: "Adult advisor", system: "Automatic"};

  const {el, keepSame, elapsed: since, riskBadge, languageBadge, uuid, adultReasons} = window.TextlineUI;  // ui.js
  const Labels = window.TextlineLabels;  // risk-labels.js

  function clock(iso) { return el("span", {class: "clock", dataset: {since: iso || ""}}, since(iso)); }

  // In order of danger: the server's severity (textline/safety/danger.py, lowest first), then the oldest.
  function openAlerts() {
    return [...state.alerts.values()].filter((a) => a.state === "open")
      .sort((a, b) => a.severity - b.severity || Date.parse(a.opened_at) - Date.parse(b.opened_at) || a.id - b.id);
  }
  function boardAlerts(convId) {
    return [...state.alerts.values()].filter((a) => a.conversation_id === convId && a.state !== "resolved");
  }

  // ---- sound, desktop alert and banner ---------------------------------------------------------
  // Sound and desktop alerts are the shared, opt-in attention.js (the switches above the alerts).
  function chime(a) {
    const open = openAlerts();
    const newest = a || open[0];
    if (!newest) return;
    window.TextlineAttention.signal("alert", "Textline: an adult is needed",
      `${open.length} open alert${open.length === 1 ? "" : "s"}: ${newest.reason_text}.`,
      {tag: "alerts", onOpen: () => show(newest.conversation_id)});
  }

  function renderBanner() {
    const open = openAlerts();
    $("alert-banner").hidden = open.length === 0;
    document.title = open.length ? `(${open.length}) Alert · Textline` : "Supervise · Textline";
    if (!open.length) return;
    const first = open[0];  // the most dangerous
    $("alert-banner-text").textContent = `${open.length} open alert${open.length === 1 ? "" : "s"}: ` +
      `${first.alias} — ${first.reason_text}`;
    $("alert-banner-open").onclick = () => show(first.conversation_id);
  }

  // Are the safety timers running (/healthz/timers)? The banner is drawn by the server at load, then
  // kept true by asking every few seconds; an unanswered ask changes nothing (the connection line says).
  const TIMERS_EVERY_MS = 5000;
  function checkTimers() {
    fetch("/healthz/timers", {cache: "no-store"})
      .then((r) => { $("timers-banner").hidden = r.ok; })
      .catch(() => {});
  }
  setInterval(checkTimers, TIMERS_EVERY_MS);

  // ---- alerts ----------------------------------------------------------------------------------
  function alertItem(a) {
    const pages = a.pages.map((p) => `${p.advisor} (${p.status})`).join(", ");
    return el("li", {class: `alert-item reason-${a.reason}`, dataset: {id: a.id, testid: "alert"}},
      el("div", {},
        el("strong", {}, a.alias), " ", riskBadge(a.risk_level), " ", languageBadge(a), " ",
        a.reason === "risk" ? null : el("span", {class: "reason"}, a.reason_text),  // the badge already says "High risk"
        el("div", {class: "muted small"}, "open ", clock(a.opened_at),
          a.volunteer_name ? ` · volunteer ${a.volunteer_name}` : " · unclaimed",
          a.opened_by ? ` · asked by ${a.opened_by}` : "",
          pages ? ` · paged ${pages}` : ""),
        a.risk_reasons.length ? el("div", {class: "reasons small"}, adultReasons(a.risk_reasons).slice(0, 3).join("; ")) : null),
      el("div", {class: "alert-actions"},
        el("button", {type: "button", class: "primary small", onclick: () => acknowledge(a.id),
          "aria-label": `Acknowledge alert for ${a.alias}`}, "Acknowledge"),
        el("button", {type: "button", class: "secondary small", onclick: () => show(a.conversation_id)}, "Open"),
        Labels.buttons((state.labels.get(a.conversation_id) || {}).conversation || null, a.alias,
          (verdict) => label(a.conversation_id, null, verdict), true)));
  }

  function renderAlerts() {
    const open = openAlerts();
    keepSame($("alerts"), open.map(alertItem));
    $("alert-count").textContent = open.length;
    $("alerts-empty").hidden = open.length > 0;
    renderBanner();
  }

  function upsertAlert(a) {
    const isNew = !state.heard.has(a.id);
    state.heard.add(a.id);
    state.alerts.set(a.id, a);
    if (isNew && a.state === "open") chime(a);
    renderAlerts();
    renderLive();
    if (a.conversation_id === state.openId) renderChat();
  }

  function acknowledge(id) {
    socket.emit(ACTIONS.ACKNOWLEDGE, {escalation_id: id}, (res) => {
      if (!res.ok) return alert(res.error);
      upsertAlert(res.alert);
    });
  }

  // ---- risk labels (textline/triage/labels.py): what the Triage page measures the scorer against ----
  function label(convId, messageId, verdict) {
    socket.emit(ACTIONS.RISK_LABEL, {conversation_id: convId, message_id: messageId, verdict}, (res) => {
      if (!res.ok) return alert(res.error);
      state.labels.set(convId, res.labels);
      renderAlerts();
      if (convId === state.openId) renderChat();
    });
  }

  // The detector got the language wrong, or has not decided: the adult says which (audited on the server).
  $("sv-language").addEventListener("change", (event) => {
    const id = state.openId, select = event.target;
    socket.emit(ACTIONS.SET_LANGUAGE, {conversation_id: id, language: select.value}, (res) => {
      if (!res.ok) { alert(res.error); renderChat(); return; }
      upsertConv(res.conversation);
    });
  });

  function wrapUpLabel(labels) {
    if (!labels || !labels.wrap_up) return null;
    return el("span", {class: "muted small"}, ` The volunteer's wrap-up said: ${
      labels.wrap_up === "needed" ? "high risk" : "no or low risk"}.`);
  }

  // ---- live conversations ----------------------------------------------------------------------
  function statusOf(c) {
    const board = boardAlerts(c.id);
    if (board.some((a) => a.state === "open")) return "escalated";
    if (board.length) return "escalated (acknowledged)";
    return c.status === "waiting" || c.status === "blocked" ? c.status : "active";
  }

  function rank(c) {
    const escalated = statusOf(c).startsWith("escalated") ? 2 : 0;
    return escalated * 10 + (RISK_ORDER[c.risk_level] || 0) + (c.status === "waiting" ? 1 : 0);
  }

  function renderLive() {
    const rows = [...state.convs.values()].filter((c) => c.status !== "closed")
      .sort((a, b) => rank(b) - rank(a) || Date.parse(a.queued_at) - Date.parse(b.queued_at));
    $("live").replaceChildren(...rows.map((c) => {
      const status = statusOf(c);
      const waitingSince = c.status === "waiting" ? c.queued_at : c.awaiting_reply_since;
      return el("tr", {class: `live-row ${status.startsWith("escalated") ? "escalated" : ""} ${
        c.id === state.openId ? "current" : ""}`, dataset: {id: c.id, testid: "live-row"}},
        el("td", {}, el("button", {type: "button", class: "link", onclick: () => show(c.id)}, c.alias)),
        el("td", {}, status, el("div", {class: "muted small"}, c.volunteer_name || "no volunteer yet"),
          c.adult_name ? el("div", {class: "muted small"}, `adult: ${c.adult_name}`) : null),
        el("td", {}, riskBadge(c.risk_level), " ", languageBadge(c)),
        el("td", {}, waitingSince ? clock(waitingSince) : "—"));
    }));
    $("live-count").textContent = rows.length;
    $("live-empty").hidden = rows.length > 0;
  }

  function upsertConv(c) {
    state.convs.set(c.id, {...(state.convs.get(c.id) || {}), ...c});
    renderLive();
    if (c.id === state.openId) renderChat();
  }

  // ---- one transcript --------------------------------------------------------------------------
  const linked = Number(new URLSearchParams(location.search).get("conversation")) || null;
  const oneColumn = window.matchMedia("(max-width: 760px)");  // a phone: the conversation is below the board

  function show(id, fromLink) {
    socket.emit(ACTIONS.WATCH, {conversation_id: id}, (res) => {
      if (!res.ok) return fromLink ? null : alert(res.error);  // a stale link just shows the board
      const opening = state.openId !== id;
      state.openId = id;
      upsertConv(res.conversation);
      state.messages.set(id, res.messages);
      state.notes.set(id, res.notes);
      state.history.set(id, res.history);
      state.blocks.set(id, res.block);
      state.labels.set(id, res.labels);
      renderChat();
      renderAlerts();
      renderLive();
      if (opening && oneColumn.matches) $("sv-chat").scrollIntoView({block: "start"});
    });
  }

  function bodyOf(m) {
    if (m.body == null) return el("em", {}, "(erased)");
    const matches = m.risk && m.risk.matches;
    return matches && matches.length ? TextlineHighlight.render(document, m.body, matches) : m.body;
  }

  function messageItem(m) {
    const out = m.direction === "out";
    return el("li", {class: `msg ${out ? "out" : "in"} author-${m.author}`, dataset: {id: m.id, testid: "message"}},
      el("div", {class: "bubble"}, bodyOf(m), ...TextlineMedia.render(m, true)),
      el("div", {class: "meta small muted"}, WHO[m.author] || m.author, m.kind ? ` (${m.kind})` : "", " · ",
        new Date(m.created_at).toLocaleTimeString(), out ? ` · ${m.status}` : "",
        m.risk && m.risk.level !== "none" ? el("span", {class: "reasons"}, " ⚑ ", adultReasons(m.risk.reasons).join("; ")) : null),
      out || m.body == null ? null : el("div", {class: "msg-labels"}, Labels.buttons(
        ((state.labels.get(m.conversation_id) || {}).messages || {})[m.id] || null,
        `this text from ${new Date(m.created_at).toLocaleTimeString()}`,
        (verdict) => label(m.conversation_id, m.id, verdict), true)));
  }

  function noteItem(n) {
    return el("li", {class: "msg note", dataset: {id: `n${n.id}`, testid: "note"}},
      el("div", {class: "bubble"}, n.body == null ? el("em", {}, "(erased)") : n.body),
      el("div", {class: "meta small muted"}, n.kind === "transfer"
        ? `Handover note from ${n.author} when passing the conversation to ${n.recipient} · `
        : n.kind === "moment" ? `${n.author} asked for a moment and handed this to the adults · `
        : `Private note from ${n.author} to the volunteer · `,
        new Date(n.created_at).toLocaleTimeString()));
  }

  // The texter's first message often says what is wrong: once it has scrolled out of the transcript, it is
  // pinned above it.
  const firstInView = new IntersectionObserver((seen) => {
    for (const e of seen) $("sv-first").hidden = e.isIntersecting;
  }, {root: $("sv-transcript")});

  function pinFirst(list, messages) {
    firstInView.disconnect();
    const first = messages.find((m) => m.direction === "in" && m.body != null);
    const node = first && list.querySelector(`[data-id="${first.id}"]`);
    $("sv-first").hidden = true;
    if (!node) return;
    $("sv-first").replaceChildren(el("strong", {}, `First text · ${new Date(first.created_at).toLocaleTimeString()}: `),
      first.body || ((first.media || []).length ? "(a picture or file, no words)" : ""));
    firstInView.observe(node);
  }

  function renderChat() {
    const c = state.convs.get(state.openId);
    $("sv-empty").hidden = !!c;
    $("sv-chat").hidden = !c;
    if (!c) return;
    $("sv-alias").textContent = c.alias + (c.status === "closed" ? " (ended)" : "");
    const why = adultReasons(c.risk_reasons).join("; ");
    $("sv-risk").replaceChildren(riskBadge(c.risk_level), " ", languageBadge(c), ...(why ? [el("span", {class: "why", title: why}, why)] : []));
    $("sv-language").value = c.language || "";
    $("sv-language").disabled = c.status === "closed";
    const alerts = boardAlerts(c.id).map((a) => `Alert: ${a.reason_text.toLowerCase()}${a.state === "acknowledged" ? ` (acknowledged by ${a.acknowledged_by})` : ""}`);
    const labels = state.labels.get(c.id);
    $("sv-labels").replaceChildren(el("span", {class: "small"}, "This conversation: "),
      Labels.buttons(labels ? labels.conversation : null, `the conversation with ${c.alias}`,
        (verdict) => label(c.id, null, verdict)), ...[wrapUpLabel(labels)].filter(Boolean));
    $("sv-who").textContent = [c.volunteer_name ? `Handled by ${c.volunteer_name}` : "Unclaimed",
      c.adult_name ? `adult joined: ${c.adult_name}` : null, c.opted_out ? "texter opted out (STOP)" : null,
      ...alerts].filter(Boolean).join(" · ");
    const items = [...(state.messages.get(c.id) || []).map((m) => ({at: m.created_at, node: messageItem(m)})),
      ...(state.notes.get(c.id) || []).map((n) => ({at: n.created_at, node: noteItem(n)}))]
      .sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    const list = $("sv-transcript");
    keepSame(list, items.map((x) => x.node));
    list.scrollTop = list.scrollHeight;
    pinFirst(list, state.messages.get(c.id) || []);
    const closed = c.status === "closed";
    for (const id of ["sv-join", "sv-take", "sv-end"]) $(id).disabled = closed;
    $("sv-join").hidden = c.adult_name != null;
    $("sv-take").hidden = c.volunteer_id === me || c.status === "blocked";  // blocked: join and write instead
    // "I need a moment" leaves the choice to the adult: take it over, or back to the front of the queue.
    $("sv-hand-back").hidden = closed || c.status !== "active" || !c.volunteer_id || c.volunteer_id === me;
    $("sv-whisper-form").hidden = closed || !c.volunteer_id || c.volunteer_id === me;
    $("sv-reply-form").hidden = closed;
    $("sv-duty").href = `/duty/conversations/${c.id}`;  // its report decision and emergency records (adults only)
    const block = state.blocks.get(c.id);
    $("sv-block").hidden = !block;
    $("sv-block").replaceChildren(...(block ? [el("strong", {}, `Blocked until ${new Date(block.expires_at)
      .toLocaleString([], {dateStyle: "medium", timeStyle: "short"})}`), ` by ${block.by || "an adult"}: their texts ` +
      "stay out of the queue. ", el("span", {class: "muted"}, "Reason: ", block.reason), " ",
      el("a", {href: "/supervise/blocks"}, "Review blocks")] : []));
    $("sv-block-open").hidden = closed || !!block;
    TextlineHistory.show($("sv-history"), state.history.get(c.id), (id) => show(id));  // history.js
  }

  function addTo(map, item) {
    const list = map.get(item.conversation_id);
    if (!list) return;
    const at = list.findIndex((x) => x.id === item.id);
    if (at >= 0) list[at] = item; else list.push(item);
    if (item.conversation_id === state.openId) renderChat();
  }

  // ---- actions ---------------------------------------------------------------------------------
  function act(event, data, done) {
    socket.emit(event, data, (res) => {
      if (!res.ok) return alert(res.error);
      if (done) done(res);
    });
  }

  $("sv-join").addEventListener("click", () => act(ACTIONS.ADULT_JOIN, {conversation_id: state.openId},
    (res) => upsertConv(res.conversation)));
  $("sv-take").addEventListener("click", () => {
    const c = state.convs.get(state.openId);
    if (!c || !confirm(`Take over ${c.alias} from ${c.volunteer_name || "the queue"}? You will be the one writing.`)) return;
    act(ACTIONS.TAKE_OVER, {conversation_id: state.openId}, (res) => {
      upsertConv(res.conversation);
      state.messages.set(res.conversation.id, res.messages);
      state.notes.set(res.conversation.id, res.notes);
      renderChat();
    });
  });

  $("sv-hand-back").addEventListener("click", () => {
    const c = state.convs.get(state.openId);
    if (!c || !confirm(`Send ${c.alias} back to the front of the queue, away from ${c.volunteer_name}?`)) return;
    act(ACTIONS.HAND_BACK, {conversation_id: state.openId}, (res) => upsertConv(res.conversation));
  });

  // Block the texter (textline/blocklist/blocks.py): a reason and how long; changed or lifted on /supervise/blocks.
  $("sv-block-open").addEventListener("click", () => {
    $("sv-block-error").textContent = "";
    $("sv-block-dialog").showModal();
  });
  $("sv-block-cancel").addEventListener("click", () => $("sv-block-dialog").close());
  $("sv-block-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const id = state.openId;
    socket.emit(ACTIONS.BLOCK_TEXTER, {conversation_id: id, reason: $("sv-block-reason").value,
      days: $("sv-block-days").value}, (res) => {
      if (!res.ok) {
        $("sv-block-error").textContent = res.error;
        const field = {reason: "sv-block-reason", days: "sv-block-days"}[res.field];
        if (field) $(field).focus();
        return;
      }
      $("sv-block-dialog").close();
      $("sv-block-form").reset();
      state.blocks.set(id, res.block);
      upsertConv(res.conversation);
    });
  });

  $("sv-whisper-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const box = $("sv-whisper"), body = box.value.trim();
    if (!body) return;
    socket.emit(ACTIONS.WHISPER, {conversation_id: state.openId, body, client_id: uuid()}, (res) => {
      $("sv-whisper-error").textContent = res.ok ? "" : res.error;
      if (res.ok) { box.value = ""; addTo(state.notes, res.note); }
    });
  });

  $("sv-reply-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const box = $("sv-reply"), body = box.value.trim();
    if (!body) return;
    socket.emit(ACTIONS.REPLY, {conversation_id: state.openId, body, client_id: uuid()}, (res) => {
      $("sv-reply-error").textContent = res.ok ? "" : res.error;
      if (res.ok) { box.value = ""; addTo(state.messages, res.message); }
    });
  });

  $("sv-end").addEventListener("click", () => $("sv-end-dialog").showModal());
  $("sv-end-cancel").addEventListener("click", () => $("sv-end-dialog").close());
  $("sv-end-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const outcome = $("sv-end-outcome").value;
    if (!outcome) return $("sv-end-outcome").focus();
    act(ACTIONS.END, {conversation_id: state.openId, disposition: {outcome}, note: $("sv-end-note").value}, (res) => {
      $("sv-end-dialog").close();
      $("sv-end-form").reset();
      upsertConv(res.conversation);
    });
  });

  window.TextlineSupervise = {socket, show};  // supervise-wellbeing.js: the volunteers panel

  // ---- live events -----------------------------------------------------------------------------
  socket.on("connect", () => { $("connection").textContent = "Live"; $("connection").className = "connection live"; });
  socket.on("disconnect", (reason) => {
    // The server ended this sign-in (signed out, timed out, deactivated): the page shows the sign-in form.
    if (reason === "io server disconnect") { window.location.assign("/supervise"); return; }
    $("connection").textContent = "Reconnecting…"; $("connection").className = "connection down";
  });
  socket.on(EVENTS.HELLO, (data) => {
    queueView.reset(data.queue_seq, data.queue);
    socket.emit(ACTIONS.SUPERVISE_SNAPSHOT, {}, (res) => {
      if (!res.ok) return alert(res.error);
      state.convs = new Map(res.conversations.map((c) => [c.id, c]));
      state.alerts = new Map();
      for (const a of res.alerts) { state.heard.add(a.id); state.alerts.set(a.id, a); }
      renderAlerts();
      renderLive();
      if (openAlerts().length) chime();
      if (state.openId != null) show(state.openId);  // catch up on what we missed while away
      else if (linked) show(linked, true);  // the link in an SMS page: /supervise?conversation=N
    });
  });
  // The queue, kept from numbered one-row changes (queue-view.js).
  let queueRows = new Set();  // the row objects last merged: a one-row change merges only that row
  const queueView = window.TextlineQueue.watch(socket, (queue) => {
    const waiting = new Set(queue.map((c) => c.id));
    for (const c of state.convs.values()) {  // left the queue without a conversation event yet
      if (c.status === "waiting" && !waiting.has(c.id)) state.convs.delete(c.id);
    }
    for (const c of queue) if (!queueRows.has(c)) upsertConv(c);
    queueRows = new Set(queue);
    renderLive();
  });
  socket.on(EVENTS.CONVERSATION, upsertConv);
  socket.on(EVENTS.ALERT, upsertAlert);
  socket.on(EVENTS.MESSAGE, (m) => {
    addTo(state.messages, m);
    const c = state.convs.get(m.conversation_id);
    // The server sends no `conversation` event when a text changed only these (payloads.DERIVED_FROM_INBOUND).
    if (c && m.direction === "in") upsertConv({...c, last_inbound_at: m.created_at,
      awaiting_reply_since: c.status === "active" ? c.awaiting_reply_since || m.created_at : c.awaiting_reply_since});
  });
  socket.on(EVENTS.MESSAGE_STATUS, (s) => {
    const m = (state.messages.get(s.conversation_id) || []).find((x) => x.id === s.id);
    if (m) { m.status = s.status; if (s.conversation_id === state.openId) renderChat(); }  // that line only: keepSame
  });
  socket.on(EVENTS.NOTE, (n) => addTo(state.notes, n));
  // Another adult labelled a conversation or a text (textline/triage/labels.py).
  socket.on(EVENTS.RISK_LABELS, (labels) => {
    state.labels.set(labels.conversation_id, labels);
    renderAlerts();
    if (labels.conversation_id === state.openId) renderChat();
  });
  socket.on(EVENTS.NOTICE, addNotice);
  // Texts kept in the spool while the database is down (textline/texting/spool_drain.py): sent while
  // there are any, and once more at zero.
  socket.on(EVENTS.SPOOL, (s) => {
    $("spool-banner").hidden = s.count === 0;
    $("spool-banner-text").textContent =
      `${s.count} ${s.count === 1 ? "text" : "texts"} waiting for the database.`;
  });

  // ---- notices: things to know now, nothing to acknowledge (textline/safety/notices.py) ---------------
  const NOTICE_LIMIT = 20;
  function addNotice(n) {
    const time = new Date(n.raised_at).toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"});
    const item = el("li", {class: `notice notice-${n.level}`, dataset: {testid: "notice", kind: n.kind}},
      el("span", {class: "small muted"}, time, " "), n.text,
      n.conversation_id != null ? el("button", {type: "button", class: "link small",
        onclick: () => show(n.conversation_id)}, " Open") : null);
    $("notices").prepend(item);
    while ($("notices").children.length > NOTICE_LIMIT) $("notices").lastElementChild.remove();
    $("notices-empty").hidden = true;
  }

  // For the dashboard's other scripts (work-list.js): the one socket, and opening a conversation.
  window.TextlineSupervise = Object.freeze({socket, show});
})();
