"""WSGI entry point for gunicorn: `gunicorn -k gevent -w 1 textline.wsgi:app`."""
import os
import sys

from textline.app import create_app
from textline.ops import web_upkeep
from textline.ops.warm_up import warm_up
from textline.ops.config_check import gunicorn_binds, refuse_unsafe
from textline.riskmodels import live as risk_models
from textline.texting.queue_sync import queue_out_of_date, reconcile_queue
from textline.triage import lexicon_edits

# A server process never starts on an unsafe configuration (e.g. a default secret key with anything
# real, such as a public bind). The check runs here, not in create_app, so `flask textline check-config`
# can still explain it; create_app itself refuses a default secret with anything real it can see.
refuse_unsafe(binds=gunicorn_binds(sys.argv, os.environ.get("GUNICORN_CMD_ARGS", "")))
app = create_app()

# The risk model, Celery's producer: pay them while the process starts, not in the first texter's webhook.
warm_up(app)

# The queue lives in Redis but SQL is the record: make them agree whenever a web process starts
# (without disturbing claims that other web processes are making right now). And score with the admins'
# lexicon edits (textline/triage/lexicon_edits.py) and the live risk model (textline/riskmodels/live.py)
# from the first text.
with app.app_context():
    lexicon_edits.refresh(force=True)
    risk_models.current()
    try:
        reconcile_queue()
    except Exception:  # Redis down: webhooks still work; the watcher repairs the queue when it returns
        queue_out_of_date.set()
        app.logger.exception("could not reconcile the queue at start-up; will retry when Redis answers")

# Watch for Redis coming back, and report this process's console connections for /metrics.
web_upkeep.start(app)
