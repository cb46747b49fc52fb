"""The weekly digest's Celery task, imported by Celery through CELERY_IMPORTS
(config/settings.py) beside the app's ``tasks`` module."""

from __future__ import annotations

from celery import shared_task

from stats.digest import send_weekly_digest as send


@shared_task(name="stats.send_weekly_digest")
def send_weekly_digest() -> int:
    """Last week's digest to every board member and province officer not sent it yet (idempotent)."""
    return send()
