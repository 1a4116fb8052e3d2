// Which waiting texter a volunteer is offered first: risk always orders first (by risk level), then
// texters writing in a language the volunteer answers in, then the line's own order (the server's queue:
// higher risk score, then longest wait). A texter whose language is not known yet counts as a match. Among
// the matches, a language other than English comes first: every colleague can take an English texter,
// only those who read Spanish a Spanish one, so a bilingual volunteer is offered the Spanish texter first.
// Every volunteer gets the same queue from the server; each console puts it in its own order here.
// An order, never a limit: anyone may claim anyone, and adults can transfer to anyone.
// tests/unit/test_routing_js.py runs this file in node.
(function (root) {
  "use strict";

  var LEVELS = { high: 3, medium: 2, low: 1, none: 0 };
  var COMMON = "en";  // the line's working language (textline/texting/language.py DEFAULT)

  // queue: rows in the server's order; languages: the volunteer's codes (["en", "es"]).
  function offerOrder(queue, languages) {
    var spoken = new Set(languages || []);
    return (queue || []).map(function (c, i) {
      var match = c.language == null || spoken.has(c.language) ? 1 : 0;
      if (match && c.language != null && c.language !== COMMON) match = 2;  // only some colleagues can take it
      return { c: c, i: i, level: LEVELS[c.risk_level] || 0, match: match };
    }).sort(function (a, b) {
      return b.level - a.level || b.match - a.match || a.i - b.i;
    }).map(function (x) { return x.c; });
  }

  var api = { offerOrder: offerOrder };
  if (typeof module !== "undefined" && module.exports) { module.exports = api; }
  if (root) { root.TextlineRouting = api; }
})(typeof window !== "undefined" ? window : null);
