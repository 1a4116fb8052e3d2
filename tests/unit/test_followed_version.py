"""textline/ops/followed_version.py: the Redis version every process follows (lexicon edits, risk models),
read at most once an interval, on the real Redis (and on a Redis that does not answer)."""
from __future__ import annotations

import secrets
import time

from textline.ops.followed_version import UNREAD, FollowedVersion
from textline.redis_store import get_redis, key

EVERY = 0.3


def test_read_at_most_once_an_interval_and_moved_only_when_the_version_changed(app_ctx):
    name = key("test", "followed", secrets.token_hex(4))
    followed = FollowedVersion(name, EVERY)
    assert followed.due()
    version = followed.look()
    assert version is None and followed.moved(version)  # nothing announced yet: new to a process following nothing
    followed.seen = version
    get_redis().set(name, "a")
    assert not followed.due()  # a decision is followed from the next look, not before
    time.sleep(EVERY + 0.05)
    assert followed.due()
    version = followed.look()
    assert version == "a" and followed.moved(version)
    followed.seen = version
    time.sleep(EVERY + 0.05)
    assert not followed.moved(followed.look())
    followed.forget()
    assert followed.due() and followed.moved(followed.look())  # forgotten: whatever is there is reloaded


def test_redis_not_answering_is_unread_and_never_a_move(app_ctx, cfg):
    cfg["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    followed = FollowedVersion(key("test", "followed", secrets.token_hex(4)), EVERY)
    followed.seen = "a"
    version = followed.look()
    assert version is UNREAD and not followed.moved(version)
    assert not followed.due()  # looked: the next try waits its interval
