"""Celery tasks of the SMS outbox: send one message, re-enqueue lost ones.

Each task is thin and idempotent, takes ids, and calls a service. The
retry policy (exponential back-off with jitter) is shared with the code-entry
tasks. The names stay those the tasks were first queued under (beat and queued
messages name them), whatever module holds them.
"""

from __future__ import annotations

import logging
import random

from celery import Task, shared_task

from common.tasks import enqueue_on_commit

logger = logging.getLogger(__name__)


def backoff(retries: int) -> int:
    """10 s, 20 s, 40 s … capped at 10 minutes, with jitter so retries spread out."""
    base: int = min(600, 10 * 2**retries)
    return base + random.randint(0, base // 4)


def retry_unless_eager(task: Task, should_retry: bool) -> None:
    # Run eagerly (no broker) or called as a function, there is no queue to
    # retry through; the periodic sweep does it instead.
    if should_retry and not (task.request.is_eager or task.request.called_directly):
        raise task.retry(countdown=backoff(task.request.retries))


@shared_task(bind=True, name="payments.tasks.code_entry.send_sms", acks_late=True, ignore_result=True, max_retries=8)
def send_sms(self: Task, outbound_sms_id: int) -> str:
    from payments.sms.services import outbound_sms_send

    outcome = outbound_sms_send(outbound_sms_id=outbound_sms_id)
    retry_unless_eager(self, outcome == "retry")
    return outcome


@shared_task(name="payments.tasks.code_entry.sweep_outbound_sms", acks_late=True, ignore_result=True)
def sweep_outbound_sms() -> int:
    """Re-enqueue pending SMS that are older than a minute (lost tasks)."""
    from payments.sms.services import outbound_sms_stale_ids

    ids = outbound_sms_stale_ids()
    for sms_id in ids:
        enqueue_on_commit(send_sms.name, sms_id)
    return len(ids)


__all__ = ["backoff", "retry_unless_eager", "send_sms", "sweep_outbound_sms"]
