// Supervisor dashboard, the volunteers panel: each on-shift volunteer's load this shift, their pause and
// its reason, limits reached, and the debriefs owed (textline/wellbeing/board.py). Needs supervise.js.
(function () {
  "use strict";
  const {ACTIONS, EVENTS} = window.TextlineEvents;  // events.js

  const $ = (id) => document.getElementById(id);
  const {socket} = window.TextlineSupervise;
  const {el, elapsed: since} = window.TextlineUI;  // ui.js
  const me = Number($("supervise").dataset.me);
  let board = {volunteers: [], debriefs: []};

  const time = (iso) => new Date(iso).toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"});

  function status(v) {
    const parts = [];
    if (v.pause && Date.parse(v.pause.until) > Date.now()) {
      parts.push(el("div", {class: "paused", dataset: {testid: "volunteer-paused"}},
        `Paused until ${time(v.pause.until)}: ${v.pause.reason_text}`));
    }
    if (v.past_shift_limit) parts.push(el("div", {class: "limit"}, "Past the shift limit: no new texters"));
    if (v.high_risk_to_others) parts.push(el("div", {class: "limit"}, "High-risk texters go to others first"));
    if (!v.present) parts.push(el("div", {class: "muted"}, "Console closed"));
    return parts;
  }

  function row(v) {
    const sincePause = v.last_pause_at || v.shift_started_at;
    return el("tr", {dataset: {testid: "volunteer-row", id: v.id}},
      el("th", {scope: "row"}, v.name, ...status(v)),
      el("td", {}, `${v.holding} of ${v.capacity}`),
      el("td", {}, `${v.conversations} conversation${v.conversations === 1 ? "" : "s"}, ${v.hard} hard`,
        v.high ? `, ${v.high} high-risk` : ""),
      el("td", {}, sincePause ? el("span", {class: "clock", dataset: {since: sincePause}}, since(sincePause)) : "–",
        v.last_pause_at ? "" : el("span", {class: "muted small"}, " (no pause yet)")));
  }

  function debriefItem(d) {
    const mine = d.owner_id === me;
    return el("li", {dataset: {testid: "debrief", id: d.id}},
      el("div", {class: "debrief-what"}, el("strong", {}, d.volunteer), ` · ${d.reason_text}`,
        d.feeling != null ? ` (${d.feeling} of 5)` : "",
        el("span", {class: "muted small"}, ` · ${time(d.created_at)}`, d.owner ? ` · ${d.owner} has it` : "")),
      mine ? null : el("button", {type: "button", class: "secondary small", onclick: () => act(ACTIONS.DEBRIEF_TAKE, d)},
        `I'll talk with ${d.volunteer}`),
      el("button", {type: "button", class: "secondary small", onclick: () => act(ACTIONS.DEBRIEF_DONE, d),
        "aria-label": `Debrief with ${d.volunteer} done`}, "Done"));
  }

  function act(action, d) {
    socket.emit(action, {debrief_id: d.id}, (res) => { if (!res.ok) alert(res.error); });
  }

  function render() {
    $("volunteers").replaceChildren(...board.volunteers.map(row));
    $("volunteers-count").textContent = board.volunteers.length;
    $("volunteers-empty").hidden = board.volunteers.length > 0;
    $("debriefs").replaceChildren(...board.debriefs.map(debriefItem));
    $("debriefs-count").textContent = board.debriefs.length;
    $("debriefs-empty").hidden = board.debriefs.length > 0;
  }

  socket.on(EVENTS.HELLO, () => {
    socket.emit(ACTIONS.VOLUNTEER_BOARD, {}, (res) => { if (res.ok) { board = res; render(); } });
  });
  socket.on(EVENTS.VOLUNTEER_BOARD, (b) => { board = b; render(); });
  setInterval(render, 30000);  // pauses end on their own
})();
