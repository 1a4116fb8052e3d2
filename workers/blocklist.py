"""Blocks past their expiry: run every minute by beat (textline/blocklist/blocks.py)."""
from __future__ import annotations

from celery import shared_task

from textline.blocklist import blocks


@shared_task(name="workers.blocklist.expire_blocks")
def expire_blocks() -> int:
    return blocks.expire_due()
