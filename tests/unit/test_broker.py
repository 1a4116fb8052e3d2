"""workers/broker.py: a worker's Redis channel, closed after its connection was collected (what Celery 5.7
does when Redis drops mid-task), reports a connection error, which Celery ignores while it reconnects,
instead of an AttributeError that stops the worker. The end-to-end case is in
tests/integration/test_degraded.py."""
from __future__ import annotations

import pytest
from kombu import Connection, Exchange, Queue
from kombu.common import ignore_errors
from kombu.transport import redis as kombu_redis

from workers import broker
from workers.celery_app import init_app as init_workers


def _half_closed(url: str, transport):
    """A channel holding an unacknowledged message whose transport was detached from its connection while
    the channel stayed open: the state Celery's collect() leaves when the channel's own close failed on
    the dead socket (collect() then detaches the transport regardless, as below)."""
    queue = Queue("broker-test", Exchange("broker-test"), "broker-test")
    with Connection(url) as producer_conn:
        producer_conn.Producer().publish({"n": 1}, exchange=queue.exchange, routing_key=queue.routing_key,
                                         declare=[queue])
    conn = Connection(url, transport=transport)
    channel = conn.channel()
    assert channel.basic_get(queue.name, no_ack=False) is not None  # delivered, not acked
    conn._do_close_transport()  # what collect() does after a channel close that met a dead socket
    return conn, channel


def test_kombu_alone_fails_here(redis_server):
    """The defect, on kombu's own transport (if kombu fixes it, this test says broker.py can go)."""
    conn, channel = _half_closed(redis_server.url, None)
    assert type(channel.connection) is kombu_redis.Transport
    with pytest.raises(AttributeError):
        channel.close()


def test_ours_reports_a_connection_error_that_celery_ignores(redis_server):
    conn, channel = _half_closed(redis_server.url, broker.transport_for(redis_server.url))
    assert isinstance(channel, broker.Channel)
    ignore_errors(channel.connection, channel.close)  # Celery's own call: must not raise
    assert channel.closed


@pytest.mark.parametrize("url, expected", [
    ("redis://127.0.0.1:6379/0", "workers.broker:Transport"),
    ("rediss://:secret@redis.example.org:6380/1", "workers.broker:Transport"),
    ("amqp://guest@localhost//", None),
])
def test_transport_for(url, expected):
    assert broker.transport_for(url) == expected


def test_the_workers_celery_app_uses_it(app):
    celery = init_workers(app)
    with celery.connection_for_read() as conn:
        assert isinstance(conn.transport, broker.Transport)
