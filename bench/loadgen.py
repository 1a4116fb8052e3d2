"""Open-loop HTTP load generator, run in its own process.

Why a small asyncio driver and not Locust: the client shares the 2 cores with the server, so every
microsecond it spends is taken from the thing being measured. Requests are built and signed before
the clock starts; during a step the driver only writes pre-built bytes on keep-alive connections and
reads the status line (uvloop when installed). Its own CPU time per request is measured and reported
with every step. Load is open-loop: request i is due at start + i/rate whatever the server does, and
its latency is counted from that due time, so a slow server cannot hide its slowness by slowing the
client down (no coordinated omission).
"""
from __future__ import annotations

import asyncio
import multiprocessing
import resource
import time
from array import array
from urllib.parse import urlencode

IDLE_REUSE_S = 1.5  # gunicorn closes idle keep-alive connections after 2 s: never reuse one that old


class _Conn(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; one request in flight at a time."""

    def __init__(self):
        self.buf = bytearray()
        self.waiter: asyncio.Future | None = None
        self.transport = None
        self.closed = False
        self.last_used = time.monotonic()

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.buf += data
        if self.waiter is None:
            return
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buf[:end]).lower()
        length, i = 0, head.find(b"\r\ncontent-length:")
        if i >= 0:
            j = head.find(b"\r\n", i + 2)
            length = int(head[i + 17:j if j > 0 else len(head)])
        total = end + 4 + length
        if len(self.buf) < total:
            return
        status = int(head[9:12])
        keep = b"\r\nconnection: close" not in head
        del self.buf[:total]
        waiter, self.waiter = self.waiter, None
        if not waiter.done():
            waiter.set_result((status, keep))

    def connection_lost(self, exc):
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection closed by server"))

    def close(self):
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class _Pool:
    def __init__(self, host: str, port: int, max_conns: int):
        self.host, self.port, self.max = host, port, max_conns
        self.idle: list[_Conn] = []
        self.open = 0
        self.waiters: list[asyncio.Future] = []

    async def acquire(self) -> tuple[_Conn, bool]:
        """(connection, reused)."""
        now = time.monotonic()
        while self.idle:
            conn = self.idle.pop()  # most recently used first
            if not conn.closed and now - conn.last_used < IDLE_REUSE_S:
                return conn, True
            conn.close()
            self.open -= 1
        if self.open >= self.max:
            fut = asyncio.get_running_loop().create_future()
            self.waiters.append(fut)
            try:
                handed = await fut
            except asyncio.CancelledError:  # timed out at the end of a step: pass on what we were given
                if fut.done() and not fut.cancelled():
                    if fut.result() is not None:
                        self.release(fut.result(), True)
                    else:
                        self._wake_opener()
                raise
            if handed is not None:
                return handed, True
        self.open += 1
        try:
            _, conn = await asyncio.get_running_loop().create_connection(_Conn, self.host, self.port)
        except Exception:
            self.open -= 1
            self._wake_opener()
            raise
        return conn, False

    def _next_waiter(self) -> asyncio.Future | None:
        while self.waiters:
            fut = self.waiters.pop(0)
            if not fut.done():  # skip waiters cancelled at the end of a step
                return fut
        return None

    def _wake_opener(self):
        fut = self._next_waiter()
        if fut is not None:
            fut.set_result(None)  # the waiter may open a connection itself

    def release(self, conn: _Conn, keep: bool):
        conn.last_used = time.monotonic()
        if not keep or conn.closed:
            conn.close()
            self.open -= 1
            self._wake_opener()
        else:
            fut = self._next_waiter()
            if fut is not None:
                fut.set_result(conn)
            else:
                self.idle.append(conn)

    def discard(self, conn: _Conn):
        conn.close()
        self.open -= 1
        self._wake_opener()

    def close_idle(self):
        for conn in self.idle:
            conn.close()
        self.open -= len(self.idle)
        self.idle.clear()


def build_request(host: str, path: str, params: dict, signature: str | None) -> bytes:
    body = urlencode(params).encode()
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: TwilioProxy/1.1\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n")
    if signature is not None:
        head += f"X-Twilio-Signature: {signature}\r\n"
    return head.encode() + b"\r\n" + body


async def _run_step(pools: list[_Pool], reqs: list[bytes], rate: float, timeout: float) -> dict:
    n = len(reqs)
    nan = float("nan")
    intended, sent, done = array("d", [nan]) * n, array("d", [nan]) * n, array("d", [nan]) * n
    status = array("i", [0]) * n
    errors: dict[str, int] = {}

    async def one(i: int):
        pool = pools[i % len(pools)]
        for _attempt in range(2):
            conn = None
            try:
                conn, reused = await pool.acquire()
                sent[i] = time.monotonic()
                fut = conn.waiter = asyncio.get_running_loop().create_future()
                conn.transport.write(reqs[i])
                st, keep = await fut
                done[i], status[i] = time.monotonic(), st
                pool.release(conn, keep)
                return
            except asyncio.CancelledError:
                if conn is not None:
                    pool.discard(conn)
                raise
            except Exception as exc:
                if conn is not None:
                    pool.discard(conn)
                # A keep-alive connection the server had just closed: the request never reached it.
                if conn is not None and reused and not conn.buf and _attempt == 0:
                    continue
                name = type(exc).__name__
                errors[name] = errors.get(name, 0) + 1
                return

    usage0 = resource.getrusage(resource.RUSAGE_SELF)
    tasks = []
    start = time.monotonic() + 0.02
    for i in range(n):
        due = start + i / rate
        intended[i] = due
        # The loop's timers may fire a little early on a busy machine: sleep again until due (-0.5 ms).
        while (delay := due - time.monotonic()) > 0.0005:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(one(i)))
    deadline = start + n / rate + timeout
    pending = [t for t in tasks if not t.done()]
    if pending:
        _, still = await asyncio.wait(pending, timeout=max(0.0, deadline - time.monotonic()))
        for t in still:
            t.cancel()
        if still:
            errors["Timeout"] = errors.get("Timeout", 0) + len(still)
            await asyncio.gather(*still, return_exceptions=True)
    usage1 = resource.getrusage(resource.RUSAGE_SELF)
    for pool in pools:
        pool.close_idle()
    cpu = (usage1.ru_utime - usage0.ru_utime) + (usage1.ru_stime - usage0.ru_stime)
    return {"intended": intended.tobytes(), "sent": sent.tobytes(), "done": done.tobytes(),
            "status": status.tobytes(), "errors": errors, "client_cpu_s": cpu,
            "client_wall_s": time.monotonic() - start}


def _child(conn, targets: list[tuple[str, int]], max_conns: int) -> None:
    try:
        import uvloop

        loop = uvloop.new_event_loop()
    except ImportError:
        loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    per_target = max(1, max_conns // len(targets))
    pools = [_Pool(h, p, per_target) for h, p in targets]
    conn.send({"event_loop": type(loop).__module__})
    while True:
        cmd = conn.recv()
        if cmd is None:
            break
        specs, signer, rate, timeout = cmd
        reqs = _build_all(specs, signer)  # signing happens here, before the clock starts
        conn.send(loop.run_until_complete(_run_step(pools, reqs, rate, timeout)))
    loop.close()


def _build_all(specs: list[tuple[str, dict]], signer: dict | None) -> list[bytes]:
    from tests.support.texting import twilio_signature

    host = signer["host"] if signer else "127.0.0.1"
    out = []
    for path, params in specs:
        sig = twilio_signature(signer["auth_token"], signer["base_url"] + path, params) if signer else None
        out.append(build_request(host, path, params, sig))
    return out


class StepResult:
    """Per-request arrays of one step (monotonic clock, shared by every process on the machine)."""

    def __init__(self, raw: dict, rate: float):
        self.rate = rate
        self.intended = array("d", raw["intended"])
        self.sent = array("d", raw["sent"])
        self.done = array("d", raw["done"])
        self.status = array("i", raw["status"])
        self.errors = raw["errors"]
        self.client_cpu_s = raw["client_cpu_s"]
        self.client_wall_s = raw["client_wall_s"]

    def __len__(self):
        return len(self.intended)


class LoadGenerator:
    """Handle on the generator process. `run` blocks until the step (and its stragglers) are done."""

    def __init__(self, targets: list[tuple[str, int]], max_conns: int = 128):
        ctx = multiprocessing.get_context("spawn")
        self._conn, child_conn = ctx.Pipe()
        self.proc = ctx.Process(target=_child, args=(child_conn, targets, max_conns), daemon=True,
                                name="bench-loadgen")
        self.proc.start()
        self.info = self._conn.recv()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def run(self, specs: list[tuple[str, dict]], rate: float, signer: dict | None,
            timeout: float = 15.0) -> StepResult:
        """specs: (path, form params) per request; signer: {"auth_token", "base_url", "host"} or None."""
        self._conn.send((specs, signer, rate, timeout))
        return StepResult(self._conn.recv(), rate)

    def close(self):
        try:
            self._conn.send(None)
        except (BrokenPipeError, OSError):
            pass
        self.proc.join(10)
        if self.proc.is_alive():
            self.proc.terminate()
