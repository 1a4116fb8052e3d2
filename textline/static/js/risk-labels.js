// One-click risk labels on the dashboard (textline/triage/labels.py): "Needed an adult now" / "False alarm"
// for a texter's message or a whole conversation. Pressing the label already given clears it. The buttons
// are toggle buttons (aria-pressed), so a screen reader says which label stands.
(function () {
  "use strict";
  const {el} = window.TextlineUI;  // ui.js
  const TEXT = {needed: "Needed an adult now", false_alarm: "False alarm"};
  const SHORT = {needed: "Needed adult", false_alarm: "False alarm"};

  // current: the verdict given (or null); what: what is labelled, for the buttons' names ("this text",
  // "Texter 4F2A"); pick(verdict or null): called with the new label. `short` for tight places.
  function buttons(current, what, pick, short) {
    return el("span", {class: "label-buttons", role: "group", "aria-label": `Label ${what}`},
      ...Object.keys(TEXT).map((verdict) => el("button", {
        type: "button", class: `small label-${verdict}${current === verdict ? " pressed" : ""}`,
        "aria-pressed": String(current === verdict), title: `${TEXT[verdict]}: ${what}`,
        dataset: {testid: `label-${verdict}`},
        onclick: () => pick(current === verdict ? null : verdict)}, (short ? SHORT : TEXT)[verdict])));
  }

  window.TextlineLabels = Object.freeze({buttons, TEXT});
})();
