"""The console's queue (textline/static/js/queue-view.js) asks for the whole queue again until it gets it:
a refusal (the queue or the database briefly down) or no answer within its timeout used to leave a missed
change unfilled until some later change happened to come, so a waiting texter could stay off a console.
The real script in Chromium, with a socket that refuses twice and then answers."""
from __future__ import annotations

STAND_IN_SOCKET = """() => {
  const handlers = {};
  const asked = [];
  const answers = [
    (cb) => cb(new Error("operation has timed out")),          // no answer in time
    (cb) => cb(null, {ok: false, code: "unavailable"}),       // the database briefly down
    (cb) => cb(null, {ok: true, queue_seq: 5, queue: [{id: 3, order: 2}, {id: 9, order: 1}]}),
  ];
  const socket = {
    on(name, fn) { handlers[name] = fn; },
    // Without a timeout (how the console asked before): an ask that is never answered is never called back.
    emit(event, data, cb) {
      asked.push([event, 0]);
      const answer = answers.shift();
      setTimeout(() => answer((err, res) => { if (!err) cb(res); }), 0);
    },
    timeout(ms) {
      return {emit(event, data, cb) { asked.push([event, ms]); const answer = answers.shift(); setTimeout(() => answer(cb), 0); }};
    },
  };
  const seen = {asked, rows: null};
  window.TextlineQueue.watch(socket, (rows) => { seen.rows = rows.map((r) => r.id); });
  // A numbered change before the console has any queue: it asks for the whole queue.
  handlers[window.TextlineEvents.EVENTS.QUEUE_DELTA]({seq: 4, put: {id: 3, order: 2}});
  window.__seen = seen;
}"""


def test_the_console_asks_for_the_whole_queue_again_until_it_is_answered(live, pages):
    page = pages.new("/login")
    page.add_script_tag(url="/static/js/events.js")
    page.add_script_tag(url="/static/js/queue-view.js")
    page.evaluate(STAND_IN_SOCKET)
    page.wait_for_function("() => window.__seen.rows !== null", timeout=15_000)
    seen = page.evaluate("() => window.__seen")
    assert [event for event, _ in seen["asked"]] == ["queue_sync"] * 3
    assert all(ms > 0 for _, ms in seen["asked"])  # each ask has its own answer timeout
    assert seen["rows"] == [9, 3]  # the queue it finally got, in order
