// Volunteer console: transfer the open conversation to another on-shift volunteer with a handover note
// (textline/console/transfer.py), and what a console is told when a conversation is passed to or from it.
// Needs console.js first (window.TextlineConsole: the socket, the open conversation, adopt and drop).
(function () {
  "use strict";
  const {ACTIONS, EVENTS} = window.TextlineEvents;  // events.js

  const $ = (id) => document.getElementById(id);
  const {socket, openId, adopt, drop} = window.TextlineConsole;
  const myId = Number($("console").dataset.me);
  const dialog = $("transfer-dialog");
  const passing = new Set();  // conversations this tab is passing on: its own message says so

  function say(text) { $("transfer-status").textContent = text; }

  // Only whoever holds an open conversation passes it on (an adult who took over shows a notice instead).
  document.addEventListener("textline:chat", (event) => {
    const c = event.detail;
    $("transfer-open").hidden = c.status !== "active" || !!c.taken_by || c.volunteer_id !== myId;
  });

  function person(t, i) {
    const id = `transfer-to-${t.id}`;
    const row = document.createElement("div");
    row.className = "checkbox";
    const radio = document.createElement("input");
    Object.assign(radio, {type: "radio", name: "transfer-to", id, value: String(t.id), checked: i === 0});
    const label = document.createElement("label");
    label.htmlFor = id;
    // Their languages are shown so the right person is easy to pick; anyone can still be chosen.
    const langs = (t.language_names || []).join(" and ");
    label.textContent = `${t.name} (room for ${t.free} more)${langs ? ` · answers in ${langs}` : ""}`;
    row.append(radio, label);
    return row;
  }

  $("transfer-open").addEventListener("click", () => {
    const id = openId();
    if (id == null) return;
    $("transfer-error").textContent = "";
    $("transfer-list").replaceChildren();
    $("transfer-none").hidden = true;
    $("transfer-confirm").disabled = true;
    dialog.showModal();
    socket.emit(ACTIONS.TRANSFER_TARGETS, {conversation_id: id}, (res) => {
      if (!res.ok) { $("transfer-error").textContent = res.error; return; }
      $("transfer-list").replaceChildren(...res.targets.map(person));
      $("transfer-none").hidden = res.targets.length > 0;
      $("transfer-confirm").disabled = res.targets.length === 0;
      (dialog.querySelector("input[name=transfer-to]") || $("transfer-cancel")).focus();
    });
  });

  $("transfer-cancel").addEventListener("click", () => dialog.close());

  $("transfer-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const chosen = dialog.querySelector("input[name=transfer-to]:checked");
    const note = $("transfer-note").value.trim();
    if (!chosen) { $("transfer-error").textContent = "Choose who to pass this conversation to."; return; }
    if (!note) { $("transfer-error").textContent = "Write a short handover note for your colleague."; $("transfer-note").focus(); return; }
    const id = openId();
    $("transfer-confirm").disabled = true;
    passing.add(id);
    socket.emit(ACTIONS.TRANSFER, {conversation_id: id, volunteer_id: Number(chosen.value), note}, (res) => {
      $("transfer-confirm").disabled = false;
      if (!res.ok) { passing.delete(id); $("transfer-error").textContent = res.error; return; }
      dialog.close();
      $("transfer-form").reset();
      say(`You passed ${res.conversation.alias} to ${res.conversation.volunteer_name}.`);
      drop(res.conversation.id);
    });
  });

  socket.on(EVENTS.TRANSFERRED_AWAY, (t) => {  // passed on from another tab of mine, or by an adult
    if (!passing.delete(t.conversation_id)) say(`${t.by} passed ${t.alias} to ${t.to}.`);
    drop(t.conversation_id);
  });
  socket.on(EVENTS.TRANSFERRED_IN, (t) => {
    say(`${t.by} passed ${t.conversation.alias} to you, with a note.`);
    adopt(t);
    // Someone is now waiting on this volunteer: the same (opt-in) sound and desktop alert as a new texter.
    if (window.TextlineAttention) {
      window.TextlineAttention.signal("queue", "A conversation was passed to you on Textline",
        `${t.conversation.alias}, with a handover note.`, {tag: `conversation-${t.conversation.id}`});
    }
  });
})();
