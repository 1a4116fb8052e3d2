// A returning texter's earlier conversations (textline/texting/returning.py): how many, when, and each
// wrap-up: never the words. Shared by the volunteer console and the dashboard, where adults may open
// an earlier transcript (`open` given).
(function () {
  "use strict";
  const {el} = window.TextlineUI;  // ui.js

  function day(iso) {
    return new Date(iso).toLocaleDateString([], {year: "numeric", month: "short", day: "numeric"});
  }

  function item(c, open) {
    const facts = [c.outcome, c.topics.length ? `Topics: ${c.topics.join(", ")}` : null,
      c.risk ? `Assessed risk: ${c.risk}` : null, c.follow_up ? `Follow-up: ${c.follow_up}` : null].filter(Boolean);
    return el("li", {dataset: {testid: "history-item"}},
      el("strong", {}, day(c.opened_at)), " — ", facts.join(" · "),
      c.note ? el("div", {class: "history-note"}, "Wrap-up note: ", c.note) : null,
      open ? el("button", {type: "button", class: "link small", onclick: () => open(c.id),
        "aria-label": `Open transcript of ${day(c.opened_at)}`}, "Open transcript") : null);
  }

  // Fill a <details> holding a <summary> and an <ol>; hidden when there is no history.
  function show(box, history, open) {
    box.hidden = !history;
    if (!history) return;
    const n = history.count;
    box.querySelector("summary").textContent =
      `Has texted before: ${n} earlier conversation${n === 1 ? "" : "s"}, first on ${day(history.first_at)}` +
      (n > history.conversations.length ? ` (latest ${history.conversations.length} shown)` : "");
    box.querySelector("ol").replaceChildren(...history.conversations.map((c) => item(c, open)));
  }

  window.TextlineHistory = Object.freeze({show});
})();
