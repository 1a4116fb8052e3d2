"""Entry point for `celery -A workers.worker worker|beat`."""
from textline.app import create_app
from textline.config_check import refuse_unsafe

refuse_unsafe()  # workers hold the same secrets as web processes
flask_app = create_app(role="worker")
celery = flask_app.extensions["celery"]
