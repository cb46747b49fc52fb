"""Celery tasks for code entry: rail status checks, offline reconciliation.

Each task is thin and idempotent, takes ids, and calls a service. Payments are
written synchronously to the database before anything is enqueued, so a broker
outage only delays this derived work: the periodic sweeps find what the lost
messages would have done.
"""

from __future__ import annotations

import logging

from celery import Task, shared_task

from common.tasks import enqueue_on_commit
from payments.sms.tasks import retry_unless_eager

logger = logging.getLogger(__name__)


@shared_task(
    bind=True, name="payments.tasks.code_entry.check_rail_payment", acks_late=True, ignore_result=True, max_retries=20
)
def check_rail_payment(self: Task, payment_id: int) -> str:
    """Ask the rail for the final answer on a code-entry payment left pending."""
    from payments.code_entry.ussd_payments import code_entry_payment_poll

    status = code_entry_payment_poll(payment_id=payment_id)
    retry_unless_eager(self, status == "pending")
    return status


@shared_task(name="payments.tasks.code_entry.sweep_pending_rail_payments", acks_late=True, ignore_result=True)
def sweep_pending_rail_payments() -> int:
    from payments.code_entry.ussd_payments import code_entry_pending_payment_ids

    ids = code_entry_pending_payment_ids()
    for payment_id in ids:
        enqueue_on_commit(check_rail_payment.name, payment_id)
    return len(ids)


@shared_task(name="payments.tasks.code_entry.reconcile_offline_confirmations", acks_late=True, ignore_result=True)
def reconcile_offline_confirmations(vendor_id: int | None = None) -> dict[str, int]:
    """Match pending offline confirmations to payments; flag those past their deadline."""
    from payments.code_entry.offline import offline_confirmations_reconcile

    return offline_confirmations_reconcile(vendor_id=vendor_id)


__all__ = [
    "check_rail_payment",
    "reconcile_offline_confirmations",
    "sweep_pending_rail_payments",
]
