"""Celery tasks of the webhook area.

Nothing is enqueued while a webhook is being answered: the payment is written
to PostgreSQL synchronously and the broker is never on that path. Housekeeping
runs from the beat schedule instead, reading the database, so a Redis outage
only delays it.
"""

from __future__ import annotations

import logging

from celery import shared_task

from payments.bank_credits import ingest, webhook_limits

logger = logging.getLogger(__name__)


@shared_task(name="payments.mark_stuck_webhook_deliveries", acks_late=True, ignore_result=True)
def mark_stuck_webhook_deliveries() -> int:
    """Periodic: flag deliveries left ``received`` by a request that was cut off."""
    count = ingest.webhook_deliveries_mark_stuck()
    if count:
        logger.warning("marked %d stranded webhook deliveries as failed", count)
    return count


@shared_task(name="payments.purge_refused_webhook_deliveries", acks_late=True, ignore_result=True)
def purge_refused_webhook_deliveries() -> int:
    """Periodic (daily): delete refused deliveries past WEBHOOK_REFUSED_RETENTION_DAYS."""
    count = webhook_limits.webhook_deliveries_purge_refused()
    if count:
        logger.info("deleted %d refused webhook deliveries past their retention", count)
    return count
