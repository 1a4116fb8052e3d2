// Texter simulator: a phone's messages app. Sends through /simulator/send (signed webhooks server-side);
// replies arrive live from the fake Twilio over the /simulator Socket.IO namespace.
(function () {
  "use strict";
  const {ACTIONS, EVENTS} = window.TextlineEvents;  // events.js

  const $ = (id) => document.getElementById(id);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const socket = io("/simulator", {transports: ["websocket", "polling"]});
  const GAP_MS = 10 * 60 * 1000;  // a new time heading after ten quiet minutes, like a phone does
  const STATUS = {sending: "Sending…", delivered: "Delivered", failed: "Not delivered"};
  let entries = [];  // the thread, oldest first: {direction, body, sid, at, status}

  function randomNumber() {
    // 555-01xx numbers are reserved for fiction: never a real person's phone.
    return "+1555010" + String(Math.floor(Math.random() * 10000)).padStart(4, "0");
  }

  // The address the text line sees: the number, or "whatsapp:" and the number (the same wire format).
  function number() {
    const n = $("sim-number").value.trim();
    return $("sim-channel").value === "whatsapp" ? `whatsapp:${n}` : n;
  }

  function training() {
    const box = $("sim-training");
    return !!(box && box.checked);
  }

  function node(tag, className, text) {
    const n = document.createElement(tag);
    if (className) n.className = className;
    if (text != null) n.textContent = text;
    return n;
  }

  function heading(at) {
    const when = new Date(at);
    const sameDay = when.toDateString() === new Date().toDateString();
    const time = when.toLocaleTimeString([], {hour: "numeric", minute: "2-digit"});
    return sameDay ? `Today ${time}` : `${when.toLocaleDateString([], {weekday: "short", month: "short",
      day: "numeric"})} ${time}`;
  }

  function bubble(m, isLastSent) {
    const sent = m.direction === "out";
    const li = node("li", `sim-msg ${sent ? "sent" : "received"}`);
    li.dataset.testid = sent ? "sim-sent" : "sim-received";
    li.dataset.sid = m.sid || "";
    const time = new Date(m.at).toLocaleTimeString([], {hour: "numeric", minute: "2-digit"});
    li.append(node("span", "visually-hidden", `${sent ? "You" : "Textline"}, ${time}: `));
    const body = node("p", "bubble", m.body || "");
    // No emoji: phones' fonts have them, a headless or kiosk browser often does not.
    if (m.media) body.prepend(node("span", "sim-attached", m.media > 1 ? `${m.media} pictures` : "Picture"), m.body ? " " : "");
    body.title = time;
    li.append(body);
    // Like a phone: the state shows under your latest text only, and always when a text failed.
    if (sent && (isLastSent || m.status === "failed")) {
      const state = node("span", `sim-status status-${m.status || "sending"}`, STATUS[m.status] || STATUS.sending);
      state.dataset.testid = "sim-status";
      li.append(state);
    }
    return li;
  }

  function render() {
    const list = $("sim-thread");
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    const lastSent = entries.map((m) => m.direction).lastIndexOf("out");
    const items = [];
    let previous = null;
    entries.forEach((m, i) => {
      const at = Date.parse(m.at);
      if (previous == null || at - previous > GAP_MS) {
        items.push(node("li", "sim-time", heading(m.at)));
      }
      previous = at;
      items.push(bubble(m, i === lastSent));
    });
    list.replaceChildren(...items);
    // Follow new texts, but never yank the thread away from someone scrolled up to read.
    if (atBottom) list.scrollTop = list.scrollHeight;
  }

  function add(m) {
    if (m.sid && entries.some((x) => x.sid === m.sid)) return;
    entries.push(m);
    render();
  }

  function setStatus(sid, status) {
    const m = entries.find((x) => x.sid === sid);
    if (m) { m.status = status; render(); }
  }

  function watch() {
    localStorage.setItem("textline-sim-number", $("sim-number").value.trim());
    localStorage.setItem("textline-sim-channel", $("sim-channel").value);
    entries = [];
    render();
    socket.emit(ACTIONS.WATCH, {number: number()}, (res) => {
      if (!res.ok) { $("sim-error").textContent = "That is not a phone number in +15551234567 form."; return; }
      $("sim-error").textContent = "";
      entries = res.messages;
      render();
      const list = $("sim-thread");
      list.scrollTop = list.scrollHeight;
    });
  }

  function grow() {
    // Grow with the text up to four lines; the thread above keeps the rest of the phone.
    const box = $("sim-body");
    box.rows = Math.min(4, Math.max(1, box.value.split("\n").length, Math.ceil(box.value.length / 28)));
  }

  $("sim-number").value = localStorage.getItem("textline-sim-number") || randomNumber();
  $("sim-channel").value = localStorage.getItem("textline-sim-channel") || "sms";
  $("sim-number").addEventListener("change", watch);
  $("sim-channel").addEventListener("change", watch);
  $("sim-new").addEventListener("click", () => { $("sim-number").value = randomNumber(); watch(); });
  socket.on("connect", watch);
  socket.on(EVENTS.SIM_MESSAGE, add);
  socket.on(EVENTS.SIM_STATUS, (s) => setStatus(s.sid, s.status));

  // Sample texts (Spanish: AYUDA gets the Spanish HELP reply) go into the box, to send or edit first.
  document.querySelectorAll("[data-sample]").forEach((button) => button.addEventListener("click", () => {
    $("sim-body").value = button.dataset.sample;
    grow();
    $("sim-body").focus();
  }));
  $("sim-body").addEventListener("input", grow);
  $("sim-body").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {  // Enter sends; Shift+Enter is a new line
      event.preventDefault();
      $("sim-form").requestSubmit();
    }
  });

  $("sim-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = $("sim-body").value.trim();
    const picture = $("sim-picture").checked;
    if (!body && !picture) return;
    $("sim-send").disabled = true;
    try {
      const res = await fetch("/simulator/send", {method: "POST",
        headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
        body: JSON.stringify({number: number(), body, training: training(), picture})});
      const data = await res.json().catch(() => ({}));
      if (!res.ok) throw new Error(data.error || `Send failed (${res.status})`);
      $("sim-body").value = "";
      $("sim-picture").checked = false;
      grow();
      $("sim-error").textContent = "";
    } catch (err) {
      $("sim-error").textContent = err.message;
    } finally {
      $("sim-send").disabled = false;
      $("sim-body").focus();
    }
  });
})();
