// Volunteer console, safety parts: crisis resources inserted into the reply with one click, the
// "Ask an adult" button, and what the volunteer is told about an adult being pulled in.
// Needs console.js first (window.TextlineConsole: the socket and the open conversation).
(function () {
  "use strict";
  const {ACTIONS, EVENTS} = window.TextlineEvents;  // events.js

  const $ = (id) => document.getElementById(id);
  const {socket, openId} = window.TextlineConsole;
  const notices = new Map();  // conversation id -> latest escalation notice

  // ---- resources -------------------------------------------------------------------------------
  function insertIntoReply(text) {
    const box = $("reply-body");
    const start = box.selectionStart ?? box.value.length, end = box.selectionEnd ?? box.value.length;
    const before = box.value.slice(0, start), after = box.value.slice(end);
    const lead = before && !/\s$/.test(before) ? "\n" : "", tail = after && !/^\s/.test(after) ? "\n" : "";
    box.value = before + lead + text + tail + after;
    const caret = (before + lead + text).length;
    box.focus();
    box.setSelectionRange(caret, caret);
    box.dispatchEvent(new Event("input", {bubbles: true}));  // e.g. the segment counter
  }

  function resourceItem(r) {
    const contacts = r.contacts.map((c) => `${c.kind}: ${c.value}`).join(" · ");
    const li = document.createElement("li");
    const info = document.createElement("div");
    const name = document.createElement("div");
    name.className = "resource-name";
    name.textContent = r.name;
    const detail = document.createElement("div");
    detail.className = "muted small";
    detail.textContent = `${r.hours ? r.hours + " · " : ""}${contacts}`;
    info.append(name, detail);
    const button = document.createElement("button");
    button.type = "button";
    button.className = "secondary small";
    button.textContent = "Insert";
    button.title = r.sms_text;
    button.setAttribute("aria-label", `Insert ${r.name} into your reply`);
    button.dataset.resource = r.id;
    button.addEventListener("click", () => insertIntoReply(r.sms_text));
    li.append(info, button);
    return li;
  }

  window.TextlineConsole.insert = insertIntoReply;  // saved replies (console-canned.js) insert the same way

  // Each resource as the open conversation's texter reads it: a Spanish texter gets the Spanish text
  // ("AYUDA al 988"), where the directory has one; otherwise the English.
  let resources = null, chatLanguage = null;
  const localized = (r) => (chatLanguage && r.translations && r.translations[chatLanguage]) || r;
  const renderResources = () => $("resource-list").replaceChildren(...resources.map((r) => resourceItem(localized(r))));

  fetch("/api/resources", {credentials: "same-origin"})
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`HTTP ${r.status}`))))
    .then((data) => { resources = data.resources; renderResources(); })
    .catch(() => { $("resource-list").textContent = "Could not load the resource list; reload the page."; });
  document.addEventListener("textline:chat", (event) => {
    const language = (event.detail && event.detail.language) || null;
    if (language === chatLanguage) return;
    chatLanguage = language;
    if (resources) renderResources();
  });

  // ---- ask an adult ----------------------------------------------------------------------------
  function renderNotice(conv) {
    const n = conv && notices.get(conv.id);
    const box = $("notice-asked");
    if (!n || n.state === "resolved") { box.hidden = true; return; }
    box.hidden = false;
    box.textContent = n.state === "acknowledged"
      ? `${n.acknowledged_by} (adult advisor) is on it: ${n.reason_text.toLowerCase()}.`
      : `Adult advisors have been alerted: ${n.reason_text.toLowerCase()}.`;
  }

  $("ask-adult").addEventListener("click", () => {
    const id = openId();
    if (id == null) return;
    $("ask-adult").disabled = true;
    socket.emit(ACTIONS.ASK_ADULT, {conversation_id: id}, (res) => {
      $("ask-adult").disabled = false;
      if (!res.ok) return alert(res.error);
      notices.set(id, res.escalation);
      renderNotice({id});
    });
  });

  socket.on(EVENTS.ESCALATION, (n) => {
    notices.set(n.conversation_id, n);
    if (n.conversation_id === openId()) renderNotice({id: n.conversation_id});
  });
  document.addEventListener("textline:chat", (event) => renderNotice(event.detail));
})();
