"""Many volunteer consoles in one process of their own: python-socketio's asyncio client, signed in
with real session cookies, on the websocket transport (what the browser console uses once upgraded).

Each console records when a texter's `message` event reaches it (monotonic clock, the same clock the
load generator stamps its POSTs with), and can send replies on a schedule.
"""
from __future__ import annotations

import asyncio
import multiprocessing
import time

from bench.escalation import ESCALATION_EVENT
from bench.workload import seq_of


class _Console:
    def __init__(self, index: int, url: str, cookie: str):
        import socketio

        self.index, self.url, self.cookie = index, url, cookie
        self.sio = socketio.AsyncClient(reconnection=False)
        self.hello = asyncio.Event()
        self.me = None
        self.sio.on("hello", self._on_hello)
        self.sio.on("message", self._on_message)
        self.sio.on(ESCALATION_EVENT, self._on_escalation)

    async def _on_hello(self, data):
        self.me = data.get("me")
        self.hello.set()

    async def _on_message(self, data):
        if _RECORD is not None and data.get("direction") == "in":
            seq = seq_of(data.get("body"))
            if seq is not None:
                _RECORD.append((seq, time.monotonic(), self.index))

    async def _on_escalation(self, data=None):
        _ESCALATIONS.append((data, time.time()))  # wall clock: deadlines are wall-clock times

    async def connect(self):
        self.hello.clear()  # consoles reconnect after the web processes were restarted
        await self.sio.connect(self.url, headers={"Cookie": self.cookie}, transports=["websocket"],
                               wait_timeout=30)
        await asyncio.wait_for(self.hello.wait(), 60)


_RECORD: list | None = None
_ESCALATIONS: list = []


async def _connect_all(consoles: list[_Console], parallel: int = 10) -> dict:
    sem = asyncio.Semaphore(parallel)
    failures = []

    async def one(c):
        async with sem:
            try:
                await c.connect()
            except Exception as exc:
                failures.append(f"console {c.index}: {exc!r}")

    t0 = time.monotonic()
    await asyncio.gather(*(one(c) for c in consoles))
    return {"connected": sum(1 for c in consoles if c.hello.is_set()), "failures": failures[:5],
            "seconds": round(time.monotonic() - t0, 2)}


async def _claim(consoles, pairs, parallel: int = 10) -> dict:
    sem = asyncio.Semaphore(parallel)  # every claim re-sends the queue to every console: do not pile them up

    async def one(i, cid):
        async with sem:
            return await consoles[i].sio.call("claim", {"conversation_id": cid}, timeout=120)

    answers = await asyncio.gather(*(one(i, cid) for i, cid in pairs), return_exceptions=True)
    bad = [a for a in answers if not (isinstance(a, dict) and a.get("ok"))]
    return {"claimed": len(answers) - len(bad), "failures": [repr(b)[:200] for b in bad[:5]]}


async def _replies(consoles, schedule, start_in: float = 0.2) -> list[tuple]:
    """schedule: (offset_s, console index, conversation id, body, client id). Returns
    (seq, conversation id, sent, acked, ok) per reply."""
    out = []
    start = time.monotonic() + start_in

    async def one(offset, idx, cid, body, client_id):
        delay = start + offset - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        sent = time.monotonic()
        try:
            answer = await consoles[idx].sio.call("reply", {"conversation_id": cid, "body": body,
                                                            "client_id": client_id}, timeout=30)
            ok = bool(answer and answer.get("ok"))
        except Exception:
            ok = False
        out.append((seq_of(body), cid, sent, time.monotonic(), ok))

    await asyncio.gather(*(one(*item) for item in schedule))
    return out


def _child(conn, targets: list[tuple[str, str]]) -> None:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    consoles = [_Console(i, url, cookie) for i, (url, cookie) in enumerate(targets)]

    async def serve():
        global _RECORD
        while True:
            cmd = await loop.run_in_executor(None, conn.recv)
            if cmd is None:
                break
            name, arg = cmd
            if name == "connect":
                result = await _connect_all(consoles)
            elif name == "claim":
                result = await _claim(consoles, arg)
            elif name == "record":
                _RECORD = []
                result = True
            elif name == "collect":
                result, _RECORD = _RECORD or [], None
            elif name == "escalations":
                result = list(_ESCALATIONS)
            elif name == "replies":
                result = await _replies(consoles, arg)
            elif name == "disconnect":
                await asyncio.gather(*(c.sio.disconnect() for c in consoles), return_exceptions=True)
                result = True
            else:
                result = {"error": f"unknown command {name}"}
            conn.send(result)

    loop.run_until_complete(serve())
    loop.close()


class Consoles:
    """Handle on the consoles process: one call per command, each blocks until it is done."""

    def __init__(self, targets: list[tuple[str, str]]):
        """targets: (web URL, session cookie) per console."""
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_child, args=(child, targets), daemon=True, name="bench-consoles")
        self.proc.start()
        self.count = len(targets)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _call(self, name, arg=None):
        self._conn.send((name, arg))
        return self._conn.recv()

    def connect(self) -> dict:
        return self._call("connect")

    def claim(self, pairs: list[tuple[int, int]]) -> dict:
        return self._call("claim", pairs)

    def record(self) -> None:
        self._call("record")

    def collect(self) -> list[tuple[int, float, int]]:
        """(seq, received at, console index) for every texter message seen since record()."""
        return self._call("collect")

    def replies(self, schedule) -> list[tuple]:
        return self._call("replies", schedule)

    def escalations(self) -> list[tuple[dict, float]]:
        """Every escalation event any console received: (payload, wall-clock time)."""
        return self._call("escalations")

    def disconnect(self) -> None:
        self._call("disconnect")

    def close(self) -> None:
        try:
            self._conn.send(None)
        except (BrokenPipeError, OSError):
            pass
        self.proc.join(15)
        if self.proc.is_alive():
            self.proc.terminate()
