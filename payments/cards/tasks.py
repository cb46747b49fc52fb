"""Celery tasks for stall cards: render a market's PDF, purge old ones.

Thin and idempotent: each takes ids (or nothing) and calls a service.
"""

from __future__ import annotations

import logging

from celery import Task, shared_task
from django.db import InterfaceError, OperationalError

from payments.cards import services as card_services

logger = logging.getLogger(__name__)


@shared_task(bind=True, name="payments.render_market_cards", acks_late=True, ignore_result=True, max_retries=3)
def render_market_cards(self: Task, batch_id: int) -> None:
    """Render a market's stall-card PDF; a database hiccup is retried with
    backoff, anything else marks the batch failed (the API shows the error)."""
    try:
        card_services.card_batch_render(batch_id=batch_id)
    except (OperationalError, InterfaceError) as exc:
        if self.request.retries < self.max_retries:
            raise self.retry(exc=exc, countdown=30 * 2**self.request.retries) from exc
        card_services.card_batch_fail(batch_id=batch_id, error=f"{type(exc).__name__}: {exc}")
        raise
    except Exception as exc:
        logger.exception("stall-card batch %s failed", batch_id)
        card_services.card_batch_fail(batch_id=batch_id, error=f"{type(exc).__name__}: {exc}")
        raise


@shared_task(name="payments.purge_card_batches", acks_late=True, ignore_result=True)
def purge_card_batches() -> int:
    """Periodic (daily): delete card-batch PDFs past CARD_BATCH_RETENTION_DAYS."""
    return card_services.card_batches_purge()
