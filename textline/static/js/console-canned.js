// Volunteer console: saved replies. "/" at the start of an empty reply box (or the "Saved replies" button)
// opens a searchable picker; arrow keys move, Enter inserts the reply into the box to edit (never sends
// it), Escape closes. The list comes from /api/saved-replies (admins edit it at /admin/saved-replies).
// Needs console.js and console-safety.js first (window.TextlineConsole: insert into the reply).
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const picker = $("canned-picker"), search = $("canned-search"), list = $("canned-list"), opener = $("canned-open");
  const box = $("reply-body");
  let replies = [], shown = [], active = -1, loaded = null;

  function load() {
    loaded = loaded || fetch("/api/saved-replies", {credentials: "same-origin"})
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`HTTP ${r.status}`))))
      .then((data) => { replies = data.replies; })
      .catch(() => { loaded = null; $("canned-empty").textContent = "Could not load saved replies; try again."; });
    return loaded;
  }

  // Every word typed must appear in the title, category or text; title matches come first.
  function matches(query) {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    const hits = replies.filter((r) => {
      const hay = `${r.title} ${r.category || ""} ${r.body}`.toLowerCase();
      return words.every((w) => hay.includes(w));
    });
    const inTitle = (r) => words.every((w) => r.title.toLowerCase().includes(w));
    return [...hits.filter(inTitle), ...hits.filter((r) => !inTitle(r))];
  }

  function option(r, i) {
    const li = document.createElement("li");
    li.id = `canned-option-${r.id}`;
    li.setAttribute("role", "option");
    li.setAttribute("aria-selected", String(i === active));
    li.className = "canned-option" + (i === active ? " active" : "");
    li.dataset.testid = "canned-option";
    const title = document.createElement("span");
    title.className = "canned-title";
    title.textContent = r.title;
    const cat = document.createElement("span");
    cat.className = "canned-category muted small";
    cat.textContent = r.category ? ` · ${r.category}` : "";
    const body = document.createElement("span");
    body.className = "canned-body small";
    body.textContent = r.body;
    li.append(title, cat, body);
    li.addEventListener("mousedown", (event) => event.preventDefault());  // keep focus in the search box
    li.addEventListener("click", () => choose(i));
    return li;
  }

  function render() {
    shown = matches(search.value);
    if (active >= shown.length) active = shown.length - 1;
    if (active < 0 && shown.length) active = 0;
    list.replaceChildren(...shown.map(option));
    list.hidden = shown.length === 0;  // an empty listbox is not announced as a list with no options
    $("canned-empty").hidden = shown.length > 0;
    const current = shown[active];
    if (current) {
      search.setAttribute("aria-activedescendant", `canned-option-${current.id}`);
      $(`canned-option-${current.id}`).scrollIntoView({block: "nearest"});
    } else {
      search.removeAttribute("aria-activedescendant");
    }
  }

  function open() {
    picker.hidden = false;
    opener.setAttribute("aria-expanded", "true");
    search.value = "";
    active = 0;
    search.focus();
    load().then(render);
    render();
  }

  function close(refocus = true) {
    if (picker.hidden) return;
    picker.hidden = true;
    opener.setAttribute("aria-expanded", "false");
    if (refocus) box.focus();
  }

  function choose(i) {
    const r = shown[i];
    if (!r) return;
    close(false);
    window.TextlineConsole.insert(r.body);  // into the reply box, to be edited and sent by the volunteer
  }

  box.addEventListener("keydown", (event) => {
    if (event.key === "/" && box.value === "" && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      open();
    }
  });
  opener.addEventListener("click", () => (picker.hidden ? open() : close()));

  search.addEventListener("input", () => { active = 0; render(); });
  search.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (shown.length) active = (active + (event.key === "ArrowDown" ? 1 : shown.length - 1)) % shown.length;
      render();
    } else if (event.key === "Home" || event.key === "End") {
      event.preventDefault();
      active = event.key === "Home" ? 0 : shown.length - 1;
      render();
    } else if (event.key === "Enter") {
      event.preventDefault();  // never submits the reply form
      choose(active);
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      close();
    }
  });
  // Leaving the picker (Tab, a click elsewhere) closes it without inserting anything.
  picker.addEventListener("focusout", (event) => {
    if (!picker.contains(event.relatedTarget) && event.relatedTarget !== opener) close(false);
  });
  // Another conversation opened, or this one ended: the picker belongs to the reply box it was opened in.
  // (A new message in the same conversation re-renders the chat too; that must not close it.)
  let chatId = null;
  document.addEventListener("textline:chat", (event) => {
    if (event.detail.id !== chatId || event.detail.status === "closed") close(false);
    chatId = event.detail.id;
  });
  load();
})();
