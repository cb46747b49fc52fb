"""Celery tasks of the statistics: thin, idempotent, named for good."""

from __future__ import annotations

from celery import shared_task

from stats.folding import fold_pending


@shared_task(name="stats.fold_changes")
def fold_changes() -> int:
    """Fold every pending payment change into the rollups (beat, every 15 s)."""
    return fold_pending()
