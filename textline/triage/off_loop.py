"""CPU-heavy work (compiling the risk lexicon: seconds) away from the web process's event loop. Under
gunicorn's gevent worker a greenlet that computes for seconds holds every other request of the process
(webhooks included), so the work goes to gevent's pool of native threads; with plain threads (tests, the
development server) it runs as it is."""
from __future__ import annotations

import threading

try:
    from gevent import get_hub, monkey
except ImportError:  # gevent is a dependency; without it there is no event loop to spare
    get_hub = monkey = None


def _gevent() -> bool:
    return monkey is not None and monkey.is_module_patched("threading")


def run(fn, *args):
    """fn(*args), waiting for it while the event loop keeps serving the process's other requests."""
    if _gevent():
        return get_hub().threadpool.apply(fn, args)
    return fn(*args)


def start(fn, *args) -> None:
    """fn(*args) in the background; nothing waits for it."""
    if _gevent():
        get_hub().threadpool.spawn(fn, *args)
    else:
        threading.Thread(target=fn, args=args, daemon=True, name="textline-off-loop").start()
