// Volunteer console, wellbeing: the pause after a hard conversation ("I'm ready to go on"), the shift's
// time limit and its reminder, "I need a moment", and the check-out when going off shift. The server
// decides and enforces all of it (textline/wellbeing/); this shows it. Needs console.js first.
(function () {
  "use strict";
  const {ACTIONS, EVENTS} = window.TextlineEvents;  // events.js

  const $ = (id) => document.getElementById(id);
  const {socket} = window.TextlineConsole;
  const consoleEl = $("console");
  let state = null;  // the server's payloads.wellbeing
  let tick = null;

  const time = (iso) => new Date(iso).toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"});
  const volunteer = () => consoleEl.dataset.role === "volunteer";

  function pauseRunning() {
    return !!(state && state.pause && Date.parse(state.pause.until) > Date.now());
  }

  function shiftNote() {
    if (!state || !state.shift_started_at || !state.shift_max_minutes) return "";
    const end = Date.parse(state.shift_started_at) + state.shift_max_minutes * 60000;
    const left = Math.round((end - Date.now()) / 60000);
    if (state.past_shift_limit || left <= 0) {
      return "You have reached the longest shift here: no new texters now. Finish your open conversations, " +
        "then go off shift. Thank you.";
    }
    if (left <= state.reminder_minutes) return `Your shift reaches its limit in ${left} minute${left === 1 ? "" : "s"} (at ${time(end)}).`;
    return "";
  }

  function render() {
    const me = window.TextlineConsole.me();
    const on = !!(me && me.on_shift);
    $("wellbeing").hidden = !volunteer() || !on;
    const paused = on && pauseRunning();
    $("pause-box").hidden = !paused;
    if (paused) {
      $("pause-text").textContent = `${state.pause.reason_text}.`;
      $("pause-until").textContent = time(state.pause.until);
    }
    const note = on ? shiftNote() : "";
    $("shift-note").hidden = !note;
    $("shift-note").textContent = note;
    const stopped = paused || (on && !!state && (state.past_shift_limit || /no new texters/.test(note)));
    if (stopped) consoleEl.dataset.paused = "1"; else delete consoleEl.dataset.paused;
    markQueue();
  }

  // While paused or past the shift's limit no texter is offered: the claim buttons go. Past the high-risk
  // limit, high-risk texters are marked as offered to others first (the server decides at the claim).
  function markQueue() {
    const stopped = !!consoleEl.dataset.paused;
    for (const item of document.querySelectorAll("#queue .queue-item")) {
      const button = item.querySelector("button");
      if (button) button.hidden = stopped;
      const high = item.classList.contains("risk-high") && state && state.high_risk_to_others;
      let mark = item.querySelector(".to-others");
      if (high && !mark) {
        mark = document.createElement("div");
        mark.className = "to-others small";
        mark.textContent = "Offered to other volunteers first";
        item.querySelector(".queue-main").append(mark);
      } else if (!high && mark) mark.remove();
    }
  }

  function set(next) {
    state = next;
    render();
  }

  function refresh() {
    if (!volunteer()) return;
    socket.emit(ACTIONS.WELLBEING, {}, (res) => { if (res.ok) set(res.wellbeing); });
  }

  socket.on(EVENTS.HELLO, refresh);
  socket.on(EVENTS.WELLBEING, set);
  document.addEventListener("textline:shift", refresh);
  document.addEventListener("textline:queue", markQueue);
  clearInterval(tick);
  tick = setInterval(render, 20000);  // a pause ends and a shift's limit nears without any event

  $("pause-ready").addEventListener("click", () => {
    socket.emit(ACTIONS.READY_TO_GO_ON, {}, (res) => {
      if (!res.ok) return alert(res.error);
      set(res.wellbeing);
    });
  });

  // ---- I need a moment -------------------------------------------------------------------------
  $("need-moment").addEventListener("click", () => $("moment-dialog").showModal());
  $("moment-cancel").addEventListener("click", () => $("moment-dialog").close());
  $("moment-form").addEventListener("submit", (event) => {
    event.preventDefault();
    $("moment-confirm").disabled = true;
    socket.emit(ACTIONS.NEED_MOMENT, {note: $("moment-note").value}, (res) => {
      $("moment-confirm").disabled = false;
      if (!res.ok) { $("moment-error").textContent = res.error; return; }
      $("moment-dialog").close();
      $("moment-form").reset();
      set(res.wellbeing);
    });
  });

  // ---- check-out when going off shift (console.js calls this from the shift button) -----------------
  window.TextlineConsole.checkOut = () => { $("checkout-error").textContent = ""; $("checkout-dialog").showModal(); };
  function offShift(res) {
    $("checkout-dialog").close();
    $("checkout-form").reset();
    window.TextlineConsole.shiftChanged({me: res.me, queue: []});
  }
  $("checkout-feeling").addEventListener("change", () => { $("checkout-error").textContent = ""; });
  $("checkout-skip").addEventListener("click", () => {
    socket.emit(ACTIONS.SHIFT, {on: false}, (res) => { if (!res.ok) return alert(res.error); offShift(res); });
  });
  $("checkout-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const picked = $("checkout-form").querySelector("input[name=feeling]:checked");
    if (!picked) {
      $("checkout-error").textContent = "Choose how you are feeling, from 1 to 5 (or skip).";
      $("checkout-feeling").querySelector("input").focus();
      return;
    }
    socket.emit(ACTIONS.CHECK_OUT, {feeling: Number(picked.value), wants_adult: $("checkout-adult").checked}, (res) => {
      if (!res.ok) { $("checkout-error").textContent = res.error; return; }
      offShift(res);
    });
  });
})();
