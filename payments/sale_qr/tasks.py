"""Celery tasks for sale QRs.

Thin and idempotent: each takes ids (or nothing) and calls a service; the
database is the source of truth. ``expire_payment_requests`` runs from the
beat schedule every minute; the API also shows an overdue pending request as
expired before this task has written it.
"""

from __future__ import annotations

import logging

from celery import shared_task

from payments.sale_qr.services import payment_request_expire_due

logger = logging.getLogger(__name__)


@shared_task(name="payments.expire_payment_requests", acks_late=True, ignore_result=True)
def expire_payment_requests() -> int:
    """Periodic: pending sale QRs whose time is up → expired."""
    count = payment_request_expire_due()
    if count:
        logger.info("expired %d payment requests", count)
    return count
