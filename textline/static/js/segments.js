// SMS segment counter for the volunteer console. Mirrors textline/texting/sms_segments.py;
// tests/unit/test_sms_segments.py checks the tables match and runs both on the same cases.
(function (root) {
  "use strict";

  // GSM 03.38 default alphabet in code order 0x00-0x7F, without the 0x1B escape.
  // Keep these two literals JSON-compatible: the Python test parses them.
  var GSM_BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  // Extension table: sent as ESC + char, so each costs 2 septets.
  var GSM_EXTENDED = "\f^{}\\[~]|€";

  // [single-message capacity, per-part capacity once a user-data header is needed]
  var LIMITS = { "GSM-7": [160, 153], "UCS-2": [70, 67] };

  function costs(text) {
    var chars = Array.from(text); // code points, so surrogate pairs stay together
    var gsm = chars.every(function (ch) {
      return GSM_BASIC.indexOf(ch) !== -1 || GSM_EXTENDED.indexOf(ch) !== -1;
    });
    if (gsm) {
      return { encoding: "GSM-7", costs: chars.map(function (ch) {
        return GSM_EXTENDED.indexOf(ch) !== -1 ? 2 : 1;
      }) };
    }
    // Anything outside GSM-7 switches the whole message; ch.length is UTF-16 units.
    return { encoding: "UCS-2", costs: chars.map(function (ch) { return ch.length; }) };
  }

  function count(text) {
    var c = costs(String(text == null ? "" : text));
    var single = LIMITS[c.encoding][0], part = LIMITS[c.encoding][1];
    var units = c.costs.reduce(function (a, b) { return a + b; }, 0);
    if (units <= single) {
      return { encoding: c.encoding, units: units, segments: units ? 1 : 0,
               per_segment: single, remaining: single - units };
    }
    // Never split an escape pair or a surrogate pair across parts.
    var segments = 1, used = 0;
    c.costs.forEach(function (cost) {
      if (used + cost > part) { segments += 1; used = 0; }
      used += cost;
    });
    return { encoding: c.encoding, units: units, segments: segments,
             per_segment: part, remaining: part - used };
  }

  var api = { count: count, GSM_BASIC: GSM_BASIC, GSM_EXTENDED: GSM_EXTENDED };
  if (typeof module !== "undefined" && module.exports) { module.exports = api; }
  if (root) { root.TextlineSegments = api; }
})(typeof window !== "undefined" ? window : null);
