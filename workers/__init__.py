"""Celery: the worker side of Textline (outbound SMS, escalation timers, notifications, retention)."""
