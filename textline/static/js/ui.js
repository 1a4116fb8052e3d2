// Small DOM helpers shared by the volunteer console and the supervisor dashboard.
(function () {
  "use strict";

  // el("li", {class, dataset, onclick, ...attributes}, ...children): one element, children appended.
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v;
      else if (k === "dataset") Object.assign(node.dataset, v);
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const child of children) if (child != null) node.append(child);
    return node;
  }

  // Redraw a list from `nodes`, keeping each child that is already the same (same place, same markup):
  // a redraw (a receipt, another adult's label) must not swap a button from under the pointer, or the
  // click that was pressing it is lost.
  function keepSame(parent, nodes) {
    const old = [...parent.children];
    nodes.forEach((node, i) => {
      if (!old[i]) parent.append(node);
      else if (!old[i].isEqualNode(node)) old[i].replaceWith(node);
    });
    for (const extra of old.slice(nodes.length)) extra.remove();
  }

  // How long since an ISO time, as a wait clock shows it: "4:07", "1h 12m".
  function elapsed(iso) {
    if (!iso) return "";
    const seconds = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 1000));
    const m = Math.floor(seconds / 60), s = seconds % 60;
    return m >= 60 ? `${Math.floor(m / 60)}h ${m % 60}m` : `${m}:${String(s).padStart(2, "0")}`;
  }

  const RISK_LABELS = {high: "High risk", medium: "Medium risk", low: "Low risk", none: "No risk flags"};

  function riskBadge(level) {
    const label = RISK_LABELS[level] || level;
    return el("span", {class: `badge risk-${level}`, title: label}, label);
  }

  // The risk scorer's reasons (textline/safety/risk/scorer.py), as people read them. Volunteers see the
  // lexicon's plain reasons: a risk phrase in the texter's own words. The model's evidence (the words that
  // weighed most, which alone look arbitrary: "keep", "want") and the score's arithmetic are for adults.
  const MODEL_REASON = /^reads like texts that needed an adult/;
  const ARITHMETIC = /^(co-occurring|danger boost|capped for review):/;

  function plainReasons(reasons) {
    return [...new Set((reasons || []).filter((r) => !MODEL_REASON.test(r) && !ARITHMETIC.test(r)))];
  }

  // For adults: every reason, with the model's evidence from all the texts said once, without its number.
  function adultReasons(reasons) {
    const model = (reasons || []).filter((r) => MODEL_REASON.test(r));
    const others = [...new Set((reasons || []).filter((r) => !MODEL_REASON.test(r)))];
    if (!model.length) return others;
    const words = [...new Set(model.flatMap((r) => r.match(/"[^"]*"/g) || []))].slice(0, 6);
    return [...others, `reads like texts that needed an adult${words.length ? ": " + words.join(", ") : ""}`];
  }

  // The highlights a volunteer sees: the lexicon's, not the model's.
  function plainMatches(matches) {
    return (matches || []).filter((m) => m.category !== "model");
  }

  // A client-made id for a reply, so a resent reply is recognised (the server's idempotency key).
  function uuid() {
    return (crypto.randomUUID && crypto.randomUUID()) || `${Date.now()}-${Math.random().toString(16).slice(2)}`;
  }

  // Every element with class "clock" and data-since ticks once a second.
  setInterval(() => {
    for (const clock of document.querySelectorAll(".clock")) {
      if (clock.dataset.since) clock.textContent = elapsed(clock.dataset.since);
    }
  }, 1000);

  // The texter's language as a small badge ("ES") with its name for screen readers and on hover; nothing
  // while it is not known yet. Shown for every known language, English too, so "EN" is never mistaken for
  // "not detected".
  function languageBadge(c) {
    if (!c || !c.language) return "";
    const name = c.language_name || c.language;
    // role="img": screen readers announce the aria-label ("Spanish"), not the letters "E S".
    return el("span", {class: `badge lang lang-${c.language}`, title: name, role: "img", "aria-label": name,
      dataset: {testid: "language-badge"}}, c.language.toUpperCase());
  }

  window.TextlineUI = {el, keepSame, elapsed, riskBadge, languageBadge, uuid, RISK_LABELS, plainReasons, adultReasons, plainMatches};
})();
