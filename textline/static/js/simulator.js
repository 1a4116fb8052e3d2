// Texter simulator: a phone's messages app. Sends through /simulator/send (signed webhooks server-side);
// replies arrive live from the fake Twilio over the /simulator Socket.IO namespace.
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const socket = io("/simulator", {transports: ["websocket", "polling"]});
  let seen = new Set();

  function randomNumber() {
    // 555-01xx numbers are reserved for fiction: never a real person's phone.
    return "+1555010" + String(Math.floor(Math.random() * 10000)).padStart(4, "0");
  }

  function number() { return $("sim-number").value.trim(); }

  function bubble(m) {
    const li = document.createElement("li");
    li.className = `bubble ${m.direction === "out" ? "sent" : "received"}`;
    li.dataset.testid = m.direction === "out" ? "sim-sent" : "sim-received";
    li.textContent = m.body;
    return li;
  }

  function add(m) {
    if (m.sid && seen.has(m.sid)) return;
    if (m.sid) seen.add(m.sid);
    $("sim-thread").append(bubble(m));
    $("sim-thread").scrollTop = $("sim-thread").scrollHeight;
  }

  function watch() {
    localStorage.setItem("textline-sim-number", number());
    seen = new Set();
    $("sim-thread").replaceChildren();
    socket.emit("watch", {number: number()}, (res) => {
      if (!res.ok) { $("sim-error").textContent = "That is not a phone number in +15551234567 form."; return; }
      $("sim-error").textContent = "";
      res.messages.forEach(add);
    });
  }

  $("sim-number").value = localStorage.getItem("textline-sim-number") || randomNumber();
  $("sim-number").addEventListener("change", watch);
  $("sim-new").addEventListener("click", () => { $("sim-number").value = randomNumber(); watch(); });
  socket.on("connect", watch);
  socket.on("sim_message", add);

  $("sim-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = $("sim-body").value.trim();
    if (!body) return;
    $("sim-send").disabled = true;
    try {
      const res = await fetch("/simulator/send", {method: "POST",
        headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
        body: JSON.stringify({number: number(), body})});
      const data = await res.json().catch(() => ({}));
      if (!res.ok) throw new Error(data.error || `Send failed (${res.status})`);
      $("sim-body").value = "";
      $("sim-error").textContent = "";
    } catch (err) {
      $("sim-error").textContent = err.message;
    } finally {
      $("sim-send").disabled = false;
      $("sim-body").focus();
    }
  });
})();
