"""The SMS outbox: queue a message with what caused it, send it later.

A service that wants an SMS sent writes an ``OutboundSms`` row inside its own
transaction (``outbound_sms_queue``), so the message exists exactly when what
it announces exists. After the commit a ``send_sms`` task hands the row to the
gateway adapter. If the broker was down at that moment the row simply stays
pending, and the periodic sweep picks it up: SMS delivery is at least once.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Final, Literal

from django.db.models import F
from django.utils import timezone

from common.tasks import enqueue_on_commit
from payments.models import OutboundSms, Payment
from payments.sms.backends import get_sms_backend

logger = logging.getLogger(__name__)

SMS_MAX_ATTEMPTS: Final = 6
# A row younger than this is still in the hands of the task enqueued with it.
SMS_SWEEP_AFTER: Final = dt.timedelta(minutes=1)
SMS_SWEEP_BATCH: Final = 500

SendOutcome = Literal["sent", "retry", "failed", "skipped"]


def outbound_sms_queue(*, to: str, body: str, payment: Payment | None = None) -> OutboundSms:
    """Write the row and send it after the surrounding transaction commits."""
    sms = OutboundSms(to=to, body=body, payment=payment)
    sms.full_clean()
    sms.save()
    enqueue_on_commit("payments.tasks.code_entry.send_sms", sms.pk)
    return sms


def outbound_sms_send(*, outbound_sms_id: int) -> SendOutcome:
    """Send one pending row through the gateway; a sent row is never resent.

    The row is claimed with a conditional UPDATE on its attempt count, so two
    workers holding the same id (a redelivered task, the sweep) cannot both
    send it at the same moment.
    """
    sms = OutboundSms.objects.filter(pk=outbound_sms_id).first()
    if sms is None or sms.status != OutboundSms.Status.PENDING:
        return "skipped"
    claimed = OutboundSms.objects.filter(pk=sms.pk, status=OutboundSms.Status.PENDING, attempts=sms.attempts).update(
        attempts=F("attempts") + 1
    )
    if not claimed:
        return "skipped"
    attempts = sms.attempts + 1
    try:
        message_id = get_sms_backend().send(to=sms.to, body=sms.body)
    except Exception as exc:  # any gateway failure is retried; the row keeps the reason
        final = attempts >= SMS_MAX_ATTEMPTS
        logger.warning("SMS %s attempt %s failed%s: %s", sms.pk, attempts, " for good" if final else "", exc)
        OutboundSms.objects.filter(pk=sms.pk, status=OutboundSms.Status.PENDING).update(
            last_error=str(exc)[:1000],
            status=OutboundSms.Status.FAILED if final else OutboundSms.Status.PENDING,
        )
        return "failed" if final else "retry"
    OutboundSms.objects.filter(pk=sms.pk).update(
        status=OutboundSms.Status.SENT, sent_at=timezone.now(), provider_message_id=message_id[:64], last_error=""
    )
    return "sent"


def outbound_sms_stale_ids(*, now: dt.datetime | None = None) -> list[int]:
    """Pending rows old enough that the task enqueued with them was probably lost."""
    now = now or timezone.now()
    return list(
        OutboundSms.objects.filter(
            status=OutboundSms.Status.PENDING,
            created_at__lt=now - SMS_SWEEP_AFTER,
            attempts__lt=SMS_MAX_ATTEMPTS,
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:SMS_SWEEP_BATCH]
    )
