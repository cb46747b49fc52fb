"""Celery tasks for code entry: SMS, rail status checks, offline reconciliation.

Each task is thin and idempotent, takes ids, and calls a service. Payments are
written synchronously to the database before anything is enqueued, so a broker
outage only delays this derived work: the periodic sweeps find what the lost
messages would have done.
"""

from __future__ import annotations

import logging
import random

from celery import Task, shared_task

from common.tasks import enqueue_on_commit

logger = logging.getLogger(__name__)


def _backoff(retries: int) -> int:
    """10 s, 20 s, 40 s … capped at 10 minutes, with jitter so retries spread out."""
    base: int = min(600, 10 * 2**retries)
    return base + random.randint(0, base // 4)


def _retry_unless_eager(task: Task, should_retry: bool) -> None:
    # Run eagerly (no broker) or called as a function, there is no queue to
    # retry through; the periodic sweep does it instead.
    if should_retry and not (task.request.is_eager or task.request.called_directly):
        raise task.retry(countdown=_backoff(task.request.retries))


@shared_task(bind=True, name="payments.tasks.code_entry.send_sms", acks_late=True, ignore_result=True, max_retries=8)
def send_sms(self: Task, outbound_sms_id: int) -> str:
    from payments.services.sms import outbound_sms_send

    outcome = outbound_sms_send(outbound_sms_id=outbound_sms_id)
    _retry_unless_eager(self, outcome == "retry")
    return outcome


@shared_task(name="payments.tasks.code_entry.sweep_outbound_sms", acks_late=True, ignore_result=True)
def sweep_outbound_sms() -> int:
    """Re-enqueue pending SMS that are older than a minute (lost tasks)."""
    from payments.services.sms import outbound_sms_stale_ids

    ids = outbound_sms_stale_ids()
    for sms_id in ids:
        enqueue_on_commit(send_sms.name, sms_id)
    return len(ids)


@shared_task(
    bind=True, name="payments.tasks.code_entry.check_rail_payment", acks_late=True, ignore_result=True, max_retries=20
)
def check_rail_payment(self: Task, payment_id: int) -> str:
    """Ask the rail for the final answer on a code-entry payment left pending."""
    from payments.services.code_entry import code_entry_payment_poll

    status = code_entry_payment_poll(payment_id=payment_id)
    _retry_unless_eager(self, status == "pending")
    return status


@shared_task(name="payments.tasks.code_entry.sweep_pending_rail_payments", acks_late=True, ignore_result=True)
def sweep_pending_rail_payments() -> int:
    from payments.services.code_entry import code_entry_pending_payment_ids

    ids = code_entry_pending_payment_ids()
    for payment_id in ids:
        enqueue_on_commit(check_rail_payment.name, payment_id)
    return len(ids)


@shared_task(name="payments.tasks.code_entry.reconcile_offline_confirmations", acks_late=True, ignore_result=True)
def reconcile_offline_confirmations(vendor_id: int | None = None) -> dict[str, int]:
    """Match pending offline confirmations to payments; flag those past their deadline."""
    from payments.services.code_entry import offline_confirmations_reconcile

    return offline_confirmations_reconcile(vendor_id=vendor_id)


__all__ = [
    "check_rail_payment",
    "reconcile_offline_confirmations",
    "send_sms",
    "sweep_outbound_sms",
    "sweep_pending_rail_payments",
]
