// The waiting queue as a console keeps it (textline/texting/queue_sync.py). The server sends the whole
// queue only on connect, on coming on shift and after a repair; every other change is one numbered row
// (`queue_delta`: a row put in its place, or gone), so a text never costs the server the whole queue.
// Changes are applied in their number's order; a console that misses one (a gap that does not fill
// within a second, or a change before it has any queue) asks for the whole queue again, until it gets it.
(function () {
  "use strict";

  const {ACTIONS, EVENTS} = window.TextlineEvents;  // events.js
  const GAP_WAIT_MS = 1000;  // changes from two web processes may arrive a little out of order
  const SYNC_ANSWER_MS = 10000;  // a whole queue that has not come by then is asked for again
  const SYNC_RETRY_MS = 2000;

  // onChange(rows) gets the whole queue, in order, after every change.
  function watch(socket, onChange) {
    let seq = null;  // the number of the last change applied; null = no queue yet
    let rows = new Map();
    const early = new Map();  // changes that arrived before the one they follow
    let timer = null;

    const ordered = () => [...rows.values()].sort((a, b) => a.order - b.order || a.id - b.id);

    function apply(change) {
      if (change.put) rows.set(change.put.id, change.put);
      else rows.delete(change.gone);
    }

    function drain() {
      let changed = false;
      while (early.has(seq + 1)) {
        seq += 1;
        apply(early.get(seq));
        early.delete(seq);
        changed = true;
      }
      if (early.size && !timer) timer = setTimeout(resync, GAP_WAIT_MS);
      if (!early.size && timer) { clearTimeout(timer); timer = null; }
      return changed;
    }

    function reset(newSeq, queue) {
      seq = newSeq;
      rows = new Map(queue.map((r) => [r.id, r]));
      for (const n of [...early.keys()]) if (n <= seq) early.delete(n);
      drain();
      onChange(ordered());
    }

    // Asked again until it is answered: a refusal (the queue or the database briefly down) or no answer
    // at all would otherwise leave the gap open until some later change happened to come.
    function resync() {
      timer = null;
      socket.timeout(SYNC_ANSWER_MS).emit(ACTIONS.QUEUE_SYNC, {}, (err, res) => {
        if (!err && res && res.ok) reset(res.queue_seq, res.queue);
        else if (!timer) timer = setTimeout(resync, SYNC_RETRY_MS);
      });
    }

    socket.on(EVENTS.QUEUE, (state) => reset(state.seq, state.rows));
    socket.on(EVENTS.QUEUE_DELTA, (change) => {
      if (seq != null && change.seq <= seq) return;  // already in the queue we have
      early.set(change.seq, change);
      if (seq == null) { if (!timer) timer = setTimeout(resync, 0); return; }
      if (drain()) onChange(ordered());
    });
    // A new text into a waiting conversation that kept its place: its row, if we have it.
    socket.on(EVENTS.QUEUE_ITEM, (row) => {
      const had = rows.get(row.id);
      if (!had) return;
      rows.set(row.id, {...row, order: had.order});
      onChange(ordered());
    });

    return {reset};
  }

  window.TextlineQueue = Object.freeze({watch});
})();
