// The adults' work list on the dashboard (textline/duty/work_list.py): everything an adult owes, oldest
// first, with its age and owner. Asked for over the dashboard's socket (supervise.js) when it connects and
// whenever something owed may have changed (an alert, a `work` event); a `report_reminder` also signals
// (sound/desktop, if switched on) like an alert does.
(function () {
  "use strict";
  const {ACTIONS, EVENTS} = window.TextlineEvents;  // events.js
  const {el, elapsed} = window.TextlineUI;  // ui.js
  const {socket, show} = window.TextlineSupervise;  // supervise.js
  const $ = (id) => document.getElementById(id);
  const KIND_CLASS = {alert: "work-alert", report: "work-report"};

  function age(iso) { return el("span", {class: "clock", dataset: {since: iso}}, elapsed(iso)); }

  function item(w) {
    const open = w.url
      ? el("a", {class: "button-link secondary small", href: w.url,
        "aria-label": `${w.title}${w.alias ? ` for ${w.alias}` : ""}: open`}, "Open")
      : w.conversation_id != null
        ? el("button", {type: "button", class: "secondary small", onclick: () => show(w.conversation_id),
          "aria-label": `${w.title}${w.alias ? ` for ${w.alias}` : ""}: open`}, "Open")
        : null;
    return el("li", {class: `work-item ${KIND_CLASS[w.kind] || "work-other"}${w.overdue ? " overdue" : ""}`,
      dataset: {testid: "work-item", kind: w.kind}},
      el("div", {class: "work-main"},
        el("strong", {}, w.title), w.alias ? ` · ${w.alias}` : "",
        w.overdue ? el("span", {class: "badge overdue-badge"}, "Overdue") : null,
        el("div", {class: "muted small"}, age(w.since), " · ",
          w.owner ? `owner: ${w.owner}` : "no adult yet", w.detail ? ` · ${w.detail}` : "")),
      open);
  }

  function render(items) {
    $("work").replaceChildren(...items.map(item));
    $("work-count").textContent = items.length;
    $("work-empty").hidden = items.length > 0;
  }

  let pending = null;
  function refresh() {  // many events at once (a sweep) ask once
    if (pending) return;
    pending = setTimeout(() => {
      pending = null;
      socket.emit(ACTIONS.WORK_LIST, {}, (res) => { if (res.ok) render(res.items); });
    }, 150);
  }

  socket.on(EVENTS.HELLO, refresh);
  socket.on(EVENTS.WORK, refresh);
  socket.on(EVENTS.ALERT, refresh);
  socket.on(EVENTS.REPORT_REMINDER, (r) => {
    window.TextlineAttention.signal("alert", "Textline: a report decision is owed",
      `${r.alias}: a decision whether to report is still owed.`, {tag: `report-${r.id}`});
    refresh();
  });
})();
