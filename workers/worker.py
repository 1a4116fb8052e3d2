"""Entry point for `celery -A workers.worker worker|beat`."""
from textline.app import create_app

flask_app = create_app(role="worker")
celery = flask_app.extensions["celery"]
