"""Where fetched media is kept: one small interface, so an object store can replace the directory.

    store = storage.current()
    store.save(key, data); store.read(key); store.delete(key)

Keys are random names chosen by the caller (nothing about the texter or the file is in them).
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Protocol

from flask import current_app

from textline.models import MessageMedia


class MediaStorage(Protocol):
    def save(self, key: str, data: bytes) -> None: ...

    def read(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None:
        """Gone afterwards; a key that is already gone is not an error."""


class DirectoryStorage:
    """Files in one directory, readable and writable by the line's own user only (0700 / 0600)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not key or "/" in key or "\\" in key or key.startswith("."):
            raise ValueError("bad media key")
        return self.root / key

    def save(self, key: str, data: bytes) -> None:
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)
        final = self._path(key)
        tmp = self.root / f".{key}.{secrets.token_hex(4)}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, final)  # a reader sees the whole file or none
        finally:
            tmp.unlink(missing_ok=True)

    def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


def new_key(media_id: int, suffix: str = "") -> str:
    return f"m{media_id}-{secrets.token_hex(12)}{suffix}"


def current() -> MediaStorage:
    """The configured storage (MEDIA_DIR); an object store would be chosen here."""
    return DirectoryStorage(current_app.config["MEDIA_DIR"])


def remove_files(item: MessageMedia) -> None:
    """Retention and erasure: the picture and its preview go from the line's storage."""
    store = current()
    for key in (item.storage_key, item.preview_key):
        if key:
            store.delete(key)
