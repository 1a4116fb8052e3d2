// The reply box's SMS counter: how many texts a reply will be sent as, before it is sent.
// Counting is segments.js (the same rules as textline/texting/sms_segments.py); this only shows it.
(function () {
  "use strict";

  const box = document.getElementById("reply-body");
  const send = document.getElementById("reply-send");
  if (!box || !send || !window.TextlineSegments) return;

  const counter = document.createElement("span");
  counter.id = "reply-segments";
  counter.className = "segments small";
  counter.dataset.testid = "reply-segments";
  send.before(counter);
  // Read with the box by screen readers, without announcing every keystroke.
  box.setAttribute("aria-describedby", [box.getAttribute("aria-describedby"), counter.id].filter(Boolean).join(" "));

  function update() {
    const info = window.TextlineSegments.count(box.value.trim());
    const texts = Math.max(1, info.segments);
    let label = `${info.remaining} characters left · ${texts} text${texts === 1 ? "" : "s"}`;
    // An emoji or a curly quote switches the whole reply to UCS-2: 70 characters per text, not 160.
    if (info.encoding === "UCS-2") label += " · emoji or special characters: 70 per text";
    counter.textContent = label;
    counter.dataset.segments = String(info.segments);
    counter.dataset.encoding = info.encoding;
    counter.classList.toggle("many", info.segments > 1);
  }

  box.addEventListener("input", update);
  box.addEventListener("focus", update);
  // console.js empties the box after a reply is stored (no input event): the transcript re-renders then.
  const transcript = document.getElementById("transcript");
  if (transcript) new MutationObserver(update).observe(transcript, {childList: true});
  update();
})();
