"""The spool: signed webhooks that arrived while SQL could not take them, kept on local disk until it can.

Twilio retries a messaging webhook at most 5 times within 15 s in all, while a database restart or
failover often lasts longer; so a webhook that cannot commit appends the request's fields here, fsyncs,
and only then answers 200 (textline/texting/webhooks.py). textline/texting/spool_drain.py replays the
spool into SQL when it is back.

Why files, and how they are laid out:
- Not Redis: with the default persistence (an fsync of the append-only file every second, or none) a
  Redis crash loses what was answered 200; a local fsync'd file does not.
- One append-only file per web process (`spool-<host>-<pid>.jsonl`, one JSON object a line): no two
  processes ever write the same file, so an append needs no lock between processes. The directory
  is 0700 and the files 0600: they hold message bodies and numbers. Nothing here logs either.
- A drain first renames every live file to `batch-...` and then takes each one's lock once, which waits
  for an append already under way; an append that opened the file before the rename notices (its file
  is no longer at the path) and writes again into a new live file. So a drain never reads half a file
  that is still growing, and no line is written into a file after it was read.
- A line cut short by a crash was never fsynced, so never answered 200: it is skipped when read.
- Entries the drain could not store for good (not a database outage) move to `rejected.jsonl` with the
  reason; retention erases them (erase_older_than) and a texter's erasure covers them (erase_rejected,
  with what still waits: spool_drain.forget_spooled).
"""
from __future__ import annotations

import fcntl
import json
import os
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from flask import current_app

LIVE_PREFIX = "spool-"
BATCH_PREFIX = "batch-"
REJECTED = "rejected.jsonl"
DRAIN_LOCK = ".drain.lock"
DIR_MODE, FILE_MODE = 0o700, 0o600

_append_lock = threading.Lock()  # one append at a time within a process (gevent or threads)


@dataclass
class Entry:
    kind: str            # "inbound" or "status"
    at: datetime         # when the webhook arrived (UTC)
    fields: dict         # the webhook's fields we need to replay it
    path: Path           # the batch file it was read from, and its line there
    line: int

    def to_dict(self) -> dict:
        return {"kind": self.kind, "at": self.at.isoformat(), "fields": self.fields}


def directory() -> Path:
    return Path(current_app.config["SPOOL_DIR"])


def prepare(path: str | os.PathLike) -> Path:
    """Create the directory owner-only and prove it takes an fsynced file; raises OSError if not."""
    path = Path(path)
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    os.chmod(path, DIR_MODE)
    probe = path / f".probe-{os.getpid()}"
    fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.write(fd, b"ok\n")
        os.fsync(fd)
    finally:
        os.close(fd)
        probe.unlink(missing_ok=True)
    return path


def unwritable(path: str | os.PathLike) -> str | None:
    """Why no spool can be kept at `path` (None: it can), creating nothing: a directory that does not
    exist yet is made by the first spooled webhook, under its nearest existing parent."""
    path = Path(path)
    if path.exists():
        try:
            prepare(path)  # its probe file is removed again
        except OSError as exc:
            return exc.strerror or str(exc)
        return None
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        return f"{parent} is not a directory"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"{parent} cannot be written"
    return None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _live_path(folder: Path) -> Path:
    return folder / f"{LIVE_PREFIX}{socket.gethostname()}-{os.getpid()}.jsonl"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def append(kind: str, fields: dict, folder: Path | None = None) -> dict:
    """Write one webhook durably (fsynced) before anyone is told it was received. Raises OSError."""
    folder = folder or directory()
    record = {"kind": kind, "at": _now().isoformat(), "fields": fields}
    line = (json.dumps(record, separators=(",", ":")) + "\n").encode()
    with _append_lock:
        if not folder.exists():
            prepare(folder)
        path = _live_path(folder)
        while True:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                mine = os.fstat(fd)
                try:
                    still_here = os.stat(path).st_ino == mine.st_ino
                except FileNotFoundError:
                    still_here = False
                if not still_here:
                    continue  # a drain took this file while we waited: write into a new one
                os.write(fd, line)
                os.fsync(fd)
                if mine.st_size == 0:
                    _fsync_dir(folder)  # a new file: its name must survive a crash too
                return record
            finally:
                os.close(fd)


def waiting(folder: Path | None = None) -> bool:
    """Is anything waiting for SQL? (a directory listing: cheap enough for every webhook)"""
    folder = folder or directory()
    try:
        with os.scandir(folder) as it:
            return any(e.name.startswith((LIVE_PREFIX, BATCH_PREFIX)) for e in it)
    except OSError:
        # Not there yet (nothing was ever spooled), or unreadable (a file where the directory should be, a
        # failing disk): nothing in it can be drained either, and SQL is the only place left for a new
        # text. depth() says which.
        return False


def _files(folder: Path, prefix: str) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.name.startswith(prefix))
    except FileNotFoundError:
        return []


def _read(path: Path) -> list[Entry]:
    out = []
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return out
    for n, line in enumerate(raw.split(b"\n")):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            out.append(Entry(rec["kind"], datetime.fromisoformat(rec["at"]), rec["fields"], path, n))
        except (ValueError, KeyError, TypeError):
            continue  # cut short by a crash before its fsync: it was never answered 200
    return out


def take(folder: Path | None = None) -> list[Entry]:
    """For a drain (holding drain_lock): turn live files into batches, and read every batch, oldest
    first (arrival time, then file and line: several processes' files merge into one order)."""
    folder = folder or directory()
    for live in _files(folder, LIVE_PREFIX):
        batch = folder / f"{BATCH_PREFIX}{_now().strftime('%Y%m%d%H%M%S%f')}-{live.name}"
        try:
            os.rename(live, batch)
        except FileNotFoundError:
            continue
        fd = os.open(batch, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # waits for an append already writing into it
        finally:
            os.close(fd)
    entries = [e for path in _files(folder, BATCH_PREFIX) for e in _read(path)]
    return sorted(entries, key=lambda e: (e.at, e.path.name, e.line))


def settle(entries: list[Entry], done: set[tuple[str, int]]) -> None:
    """After a drain: drop what was stored (or rejected) from its batch file; keep the rest for the next."""
    by_file: dict[Path, list[Entry]] = {}
    for e in entries:
        by_file.setdefault(e.path, []).append(e)
    for path, items in by_file.items():
        left = [e for e in items if (path.name, e.line) not in done]
        if not left:
            path.unlink(missing_ok=True)
            continue
        if len(left) == len(items):
            continue
        _rewrite(path, [e.to_dict() for e in sorted(left, key=lambda e: e.line)])
    if by_file:
        _fsync_dir(next(iter(by_file)).parent)  # the unlinks too must survive a crash


def _rewrite(path: Path, records: list[dict]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.write(fd, b"".join((json.dumps(r, separators=(",", ":")) + "\n").encode() for r in records))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def reject(entry: Entry, reason: str, folder: Path | None = None) -> None:
    """Keep an entry that can never be stored, with why (for an admin to look at; retention erases it)."""
    folder = folder or directory()
    record = {**entry.to_dict(), "reason": reason, "rejected_at": _now().isoformat()}
    fd = os.open(folder / REJECTED, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
    try:
        os.write(fd, (json.dumps(record, separators=(",", ":")) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


class drain_lock:
    """One drain at a time on this spool directory (a file lock, so it holds even while Redis is down);
    textline/texting/spool_drain.py adds a Redis lock for drains on other hosts. `acquired` is False
    when another drain holds it: skip this round."""

    def __init__(self, folder: Path | None = None, wait: float = 0):
        self.folder = folder or directory()
        self.wait = wait  # seconds to wait for a drain under way (an erasure waits; a drain does not)
        self.fd = None
        self.acquired = False

    def __enter__(self):
        if not self.folder.exists():
            return self
        self.fd = os.open(self.folder / DRAIN_LOCK, os.O_RDWR | os.O_CREAT, FILE_MODE)
        give_up = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self.acquired = True
                return self
            except BlockingIOError:
                if time.monotonic() >= give_up:
                    return self
                time.sleep(0.05)  # polled, not blocking: under gevent a blocking flock would stall the process

    def __exit__(self, *exc):
        if self.fd is not None:
            os.close(self.fd)  # releases the lock


@dataclass
class Depth:
    count: int
    oldest: datetime | None
    unreadable: bool = False  # the directory could not be read: nothing known to wait, nothing drainable

    def oldest_seconds(self, now: datetime | None = None) -> float:
        return max(0.0, ((now or _now()) - self.oldest).total_seconds()) if self.oldest else 0.0


def waiting_entries(folder: Path | None = None) -> list[Entry]:
    """Entries waiting for SQL (live and batch files; not rejected ones), read without taking them."""
    folder = folder or directory()
    return [e for prefix in (LIVE_PREFIX, BATCH_PREFIX) for p in _files(folder, prefix) for e in _read(p)]


def depth(folder: Path | None = None) -> Depth:
    """How many entries wait for SQL, and the oldest's arrival."""
    try:
        entries = waiting_entries(folder)
    except OSError:  # as in waiting(): a file in its place, a failing disk
        return Depth(0, None, unreadable=True)
    return Depth(len(entries), min((e.at for e in entries), default=None))


def _filter_file(path: Path, keep) -> int:
    """Rewrite a spool file without the records `keep` refuses; returns how many went."""
    try:
        lines = [ln for ln in path.read_bytes().split(b"\n") if ln.strip()]
    except FileNotFoundError:
        return 0
    records = []
    for ln in lines:
        try:
            records.append(json.loads(ln))
        except ValueError:
            continue
    kept = [r for r in records if keep(r)]
    if len(kept) == len(records):
        return 0
    if kept:
        _rewrite(path, kept)
    else:
        path.unlink(missing_ok=True)
    return len(records) - len(kept)


def erase_older_than(cutoff: datetime, folder: Path | None = None) -> int:
    """Retention: rejected entries that arrived before the cutoff are erased."""
    folder = folder or directory()
    return _filter_file(folder / REJECTED, lambda r: datetime.fromisoformat(r["at"]) >= cutoff)


def erase_rejected(matches, folder: Path | None = None) -> int:
    """A texter's erasure on request: their entries set aside as unstorable go (`matches(fields)` says
    whose). Those still waiting for SQL: textline/texting/spool_drain.py, forget_spooled."""
    folder = folder or directory()
    return _filter_file(folder / REJECTED, lambda r: not matches(r.get("fields", {})))
