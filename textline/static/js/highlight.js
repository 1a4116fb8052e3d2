// Risk highlights: split a message into plain text and the spans the risk scorer matched.
// The scorer's offsets are Python str indices, i.e. code points. JavaScript strings index UTF-16
// units, where an emoji counts two, so slicing the string directly would shift every highlight after an
// emoji. Slicing Array.from(text) (one element per code point) uses the offsets as they are.
// tests/unit/test_highlight_js.py runs this file in node against the Python scorer's own offsets.
(function (root) {
  "use strict";

  // -> [{text, hit: null | {labels: [...], categories: [...], negated: bool}}], covering the whole text.
  function parts(text, matches) {
    var cps = Array.from(String(text == null ? "" : text));
    var spans = (matches || []).filter(function (m) {
      return m && Number.isInteger(m.start) && Number.isInteger(m.end) && m.start >= 0 && m.start < m.end &&
        m.end <= cps.length;
    }).map(function (m) {
      return { start: m.start, end: m.end, labels: [m.label], categories: [m.category], negated: !!m.negated };
    }).sort(function (a, b) { return a.start - b.start || b.end - a.end; });
    var merged = [];
    spans.forEach(function (s) {  // overlapping hits become one highlight that names them all
      var last = merged[merged.length - 1];
      if (last && s.start < last.end) {
        last.end = Math.max(last.end, s.end);
        last.labels = last.labels.concat(s.labels);
        last.categories = last.categories.concat(s.categories);
        last.negated = last.negated && s.negated;
      } else {
        merged.push(s);
      }
    });
    var out = [], at = 0;
    merged.forEach(function (s) {
      if (s.start > at) out.push({ text: cps.slice(at, s.start).join(""), hit: null });
      out.push({ text: cps.slice(s.start, s.end).join(""),
                 hit: { labels: s.labels, categories: s.categories, negated: s.negated } });
      at = s.end;
    });
    if (at < cps.length || out.length === 0) out.push({ text: cps.slice(at).join(""), hit: null });
    return out;
  }

  // A DOM fragment: plain text nodes and <mark> for hits (never innerHTML: bodies are untrusted).
  function render(doc, text, matches) {
    var frag = doc.createDocumentFragment();
    parts(text, matches).forEach(function (p) {
      if (!p.hit) { frag.append(doc.createTextNode(p.text)); return; }
      var mark = doc.createElement("mark");
      // Words only the model weighed (adults' view) look different from the lexicon's risk phrases.
      var model = p.hit.categories.every(function (c) { return c === "model"; });
      mark.className = "risk-hit" + (p.hit.negated ? " negated" : "") + (model ? " model" : "");
      mark.title = model ? "Reads like texts that needed an adult" :
        p.hit.labels.join("; ") + (p.hit.negated ? " (negated)" : "");
      mark.textContent = p.text;
      frag.append(mark);
    });
    return frag;
  }

  var api = { parts: parts, render: render };
  if (typeof module !== "undefined" && module.exports) { module.exports = api; }
  if (root) { root.TextlineHighlight = api; }
})(typeof window !== "undefined" ? window : null);
