"""WSGI entry point for gunicorn: `gunicorn -k gevent -w 1 textline.wsgi:app`."""
from textline.app import create_app
from textline.conversations import rebuild_queue
from textline.risk import score_text

app = create_app()

# The risk lexicon takes ~0.5 s to load and compile: pay it while the process starts, not in the
# first texter's webhook.
score_text("")

# The queue lives in Redis but SQL is the record: make them agree whenever a web process starts.
with app.app_context():
    try:
        rebuild_queue()
    except Exception:  # Redis down: webhooks still work; the queue is rebuilt when it returns
        app.logger.exception("could not rebuild the queue at start-up")
