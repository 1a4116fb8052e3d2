// Pictures and files a texter sent, in a transcript (console and dashboard). The browser never sees
// Twilio's URL: a blurred preview made on the server comes from /media/<id>/preview, and the picture
// itself only when someone clicks "Show picture" (POST /media/<id>/reveal, which the server audits).
(function () {
  "use strict";
  const {el} = window.TextlineUI;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const revealed = new Map();  // media id -> object URL: a transcript re-render keeps what was shown
  const NOUN = {picture: "a picture", video: "a video", audio: "a voice or audio clip", contact: "a contact card",
    file: "a file"};

  function size(bytes) {
    if (bytes == null) return "";
    if (bytes < 1024) return `${bytes} bytes`;
    if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
    return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  }

  async function reveal(item, figure, button, status) {
    button.disabled = true;
    status.textContent = "Loading…";
    try {
      const res = await fetch(`/media/${item.id}/reveal`, {method: "POST", headers: {"X-CSRFToken": csrf},
        credentials: "same-origin", cache: "no-store"});
      if (!res.ok) throw new Error(res.status === 403 ? "You cannot see this picture." : `Could not load it (${res.status}).`);
      const url = URL.createObjectURL(await res.blob());
      revealed.set(item.id, url);
      // The transcript may have been drawn again meanwhile (an adult's first look is broadcast): replace
      // whatever shows this picture now.
      for (const node of document.querySelectorAll(`figure[data-media-id="${item.id}"]`)) node.replaceWith(shown(item, url));
    } catch (err) {
      status.textContent = err.message;
      button.disabled = false;
    }
  }

  function shown(item, url) {
    return el("figure", {class: "media media-shown", dataset: {testid: "media-shown", mediaId: item.id}},
      el("img", {src: url, alt: "Picture the texter sent", class: "media-picture"}),
      el("figcaption", {class: "small muted"}, `Picture the texter sent · ${size(item.size)}`));
  }

  function picture(item, adult) {
    const label = el("p", {class: "media-label"}, el("strong", {}, "Texter sent a picture"),
      item.size != null ? el("span", {class: "nowrap"}, ` · ${size(item.size)}`) : null);
    if (revealed.has(item.id)) return shown(item, revealed.get(item.id));
    if (item.state === "pending" || item.state === "fetching")
      return el("figure", {class: "media", dataset: {testid: "media-pending"}}, label,
        el("p", {class: "small muted"}, "Fetching it…"));
    if (item.state === "too_large")
      return el("figure", {class: "media", dataset: {testid: "media-too-large"}}, label,
        el("p", {class: "small muted"}, "Too large to fetch: ask the texter to describe it if it matters."));
    if (item.state !== "stored")
      return el("figure", {class: "media", dataset: {testid: "media-failed"}}, label,
        el("p", {class: "small muted"}, "It could not be fetched: ask the texter to describe it if it matters."));
    if (!adult && item.held)
      return el("figure", {class: "media", dataset: {testid: "media-held"}}, label,
        el("p", {class: "small muted"}, "An adult advisor looks at pictures first. It shows here once they have."));
    const status = el("span", {class: "small muted", role: "status"});
    const figure = el("figure", {class: "media media-hidden", dataset: {testid: "media-blurred", mediaId: item.id}}, label);
    if (item.preview)
      figure.append(el("img", {src: `/media/${item.id}/preview`, class: "media-preview", width: "160",
        alt: "Blurred preview: the picture is hidden until you choose to see it"}));
    const button = el("button", {type: "button", class: "secondary media-reveal", dataset: {testid: "media-reveal"}},
      "Show picture");
    button.addEventListener("click", () => reveal(item, figure, button, status));
    figure.append(el("p", {class: "small muted"}, adult
      ? (item.adult_viewed ? "An adult has looked at it. " : "No adult has looked at it yet. ")
      : "It may be upsetting. ", "Showing it is recorded."), el("div", {class: "row"}, button, status));
    return figure;
  }

  function other(item) {
    const what = NOUN[item.kind] || NOUN.file;
    const details = [item.content_type, size(item.size)].filter(Boolean).join(", ");
    const note = item.state === "too_large" ? " (too large to fetch)" : item.state === "failed" ? " (could not be fetched)" : "";
    return el("p", {class: "media media-other", dataset: {testid: "media-other"}},
      el("strong", {}, `Texter sent ${what}`), details ? ` · ${details}` : "", note);
  }

  // The media of one message, as nodes to put in its bubble; `adult`: the viewer is an adult advisor.
  function render(message, adult) {
    return (message.media || []).map((item) => item.kind === "picture" ? picture(item, adult) : other(item));
  }

  window.TextlineMedia = {render};
})();
