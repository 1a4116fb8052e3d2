// Sounds and desktop notifications, for the console and the supervisor dashboard. Both are off until
// the person turns them on; the choice is remembered in this browser (localStorage). Sounds are made
// with WebAudio (no file to fetch); notifications ask the browser's permission only when the person
// clicks to enable them, because browsers refuse (or nag) when a page asks unprompted.
// Every signal is also a "textline:attention" event on document, whatever is switched on.
(function () {
  "use strict";

  const KEY = "textline.attention";
  const settings = load();
  let audio = null;

  function load() {
    try {
      const saved = JSON.parse(localStorage.getItem(KEY) || "{}");
      return {sound: saved.sound === true, notify: saved.notify === true};
    } catch (e) {
      return {sound: false, notify: false};
    }
  }

  function save() {
    try { localStorage.setItem(KEY, JSON.stringify(settings)); } catch (e) { /* private mode: this page only */ }
  }

  function notificationsAllowed() {
    return "Notification" in window && Notification.permission === "granted";
  }

  // ---- sound -----------------------------------------------------------------------------------
  // Distinct patterns: an alert for adults is the most insistent, a new message the softest.
  const PATTERNS = {alert: [880, 660, 880], queue: [523, 784], message: [660]};

  function context() {
    if (!audio) {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return null;
      audio = new Ctx();
    }
    if (audio.state === "suspended") audio.resume();
    return audio;
  }

  function chime(kind) {
    const ctx = settings.sound && context();
    if (!ctx) return false;
    const start = ctx.currentTime, step = 0.22;
    (PATTERNS[kind] || PATTERNS.message).forEach((freq, i) => {
      const osc = ctx.createOscillator(), gain = ctx.createGain(), at = start + i * step;
      osc.type = "sine";
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(kind === "alert" ? 0.3 : 0.18, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.2);
      osc.connect(gain).connect(ctx.destination);
      osc.start(at);
      osc.stop(at + 0.21);
    });
    return true;
  }

  // A page may not start audio before the person interacts with it: when sound was remembered as on,
  // the first click or key press on the page wakes it up.
  function wakeOnGesture() {
    const wake = () => { if (settings.sound) context(); };
    document.addEventListener("pointerdown", wake, {once: true, capture: true});
    document.addEventListener("keydown", wake, {once: true, capture: true});
  }

  // ---- notifications ---------------------------------------------------------------------------
  function notify(title, body, tag, onOpen) {
    if (!settings.notify || !notificationsAllowed()) return false;
    try {
      // No names or message words in the notification: it shows on a shared screen, outside the page.
      const n = new Notification(title, {body, tag, renotify: !!tag});
      n.onclick = () => { window.focus(); if (onOpen) onOpen(); n.close(); };
      return true;
    } catch (e) {
      return false;  // e.g. a platform that only allows notifications from a service worker
    }
  }

  /**
   * Something needs attention. kind: "alert" (adults), "queue" (someone is waiting), "message".
   * The desktop notification is shown only while the page is out of sight (hidden, or another window
   * has the focus): in front of the person, the page itself shows what happened.
   */
  function signal(kind, title, body, options) {
    const opts = options || {};
    const sounded = chime(kind);
    const away = document.hidden || !document.hasFocus();
    const notified = away ? notify(title, body, opts.tag, opts.onOpen) : false;
    document.dispatchEvent(new CustomEvent("textline:attention",
      {detail: {kind, title, body, sound: sounded, notification: notified}}));
  }

  // ---- the settings control --------------------------------------------------------------------
  function render(box) {
    const sound = box.querySelector("[data-attention=sound]");
    const notifyButton = box.querySelector("[data-attention=notify]");
    const status = box.querySelector("[data-attention=status]");
    // The name stays the same ("Sound"); aria-pressed says whether it is on, the text shows it too.
    sound.setAttribute("aria-pressed", String(settings.sound));
    sound.querySelector(".state").textContent = settings.sound ? "on" : "off";
    const supported = "Notification" in window;
    const on = settings.notify && notificationsAllowed();
    notifyButton.setAttribute("aria-pressed", String(on));
    notifyButton.querySelector(".state").textContent = on ? "on" : "off";
    notifyButton.disabled = !supported;
    status.textContent = !supported ? "This browser cannot show desktop alerts."
      : Notification.permission === "denied" ? "Desktop alerts are blocked in this browser's site settings."
        : "";
  }

  function mount(box) {
    if (!box) return;
    box.querySelector("[data-attention=sound]").addEventListener("click", () => {
      settings.sound = !settings.sound;
      save();
      render(box);
      if (settings.sound) chime("message");  // let the person hear what it sounds like
    });
    box.querySelector("[data-attention=notify]").addEventListener("click", () => {
      if (settings.notify && notificationsAllowed()) {
        settings.notify = false;
        save();
        return render(box);
      }
      const ask = Notification.permission === "default" ? Notification.requestPermission() : Promise.resolve(Notification.permission);
      ask.then((answer) => {
        settings.notify = answer === "granted";
        save();
        render(box);
      });
    });
    render(box);
  }

  wakeOnGesture();
  mount(document.getElementById("attention"));
  window.TextlineAttention = {signal, settings: () => ({...settings})};
})();
