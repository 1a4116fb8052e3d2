"""Entry point for `celery -A workers.worker worker|beat`."""
from textline.app import create_app
from textline.ops.config_check import refuse_unsafe
from workers import celery_app

refuse_unsafe()  # workers hold the same secrets as web processes
flask_app = create_app(role="worker")
celery = celery_app.init_app(flask_app)
