"""Bank-credit webhooks in: store the raw delivery, verify it, record the
payment exactly once.

The order is dj-stripe's: the request is written to ``WebhookDelivery`` before
anything is trusted (so a forged, broken or crashing delivery is still there
to look at), then the provider's signature is checked, then the payment is
recorded and the delivery row is updated in the same transaction — on
PostgreSQL, in the common case (no sale to settle, nothing to flag), as one
self-committing statement. A failure is kept on the delivery row.

Round trips per delivery on PostgreSQL: store the delivery (1), look up the
vendor or sale (1), record the payment and the outcome (1); plus Django's
``SELECT 1`` when DB_CONN_HEALTH_CHECKS is on.

Exactly once: ``Payment`` has a unique constraint on (source,
provider_txn_id), and the payment is written with ``INSERT … ON CONFLICT
(source, provider_txn_id) DO NOTHING RETURNING id``: there is no "check then
insert" window. Two identical deliveries racing each other meet at the
constraint: on PostgreSQL the second INSERT waits for the first transaction,
then inserts nothing; the second delivery reads the winner's row, is marked
``duplicate`` and answers success (so the provider stops retrying).

Nothing here waits on Redis or Celery: a broker outage cannot block or lose a
payment. Work derived from payments is picked up from the database; the one
message sent, the live receipt to the stall's phone, goes after the commit
and its failure is only logged (payments.receipts.publish).
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from payments.bank_credits import bulk_sql
from payments.bank_credits import webhook_limits as limits
from payments.bank_credits.attribution import Flag, attribute
from payments.bank_credits.credit_payment import new_payment
from payments.bank_credits.providers.base import (
    BankCredit,
    MalformedPayload,
    NotConfigured,
    TooManyRefusals,
    WebhookError,
    load_json,
    storable,
)
from payments.models import Payment, PaymentEvent, TransitionError, WebhookDelivery
from payments.receipts.publish import publish_payments_on_commit

logger = logging.getLogger(__name__)

Status = WebhookDelivery.Status

# Never keep a credential in the database, even a wrong one.
_SECRET_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})


@dataclass(frozen=True, slots=True)  # slots: half the cost of making one (one per delivery)
class IngestResult:
    delivery_id: int
    status: str  # processed, duplicate or ignored
    payment: Payment | None


Outcome = IngestResult | Exception  # what the provider is answered: success, or the refusal/error to report


# --- storing -----------------------------------------------------------------------


# Header name → (the name as stored, whether it is a credential): a
# provider's deliveries repeat the same few names. Bounded (names are the
# sender's to choose).
_header_names: dict[str, tuple[str, bool]] = {}


def _headers_to_store(headers: Mapping[str, str]) -> dict[str, str]:
    kept: dict[str, str] = {}
    for name, value in headers.items():
        known = _header_names.get(name)
        if known is None:
            known = (storable(name), name.lower() in _SECRET_HEADERS)
            if len(_header_names) < 256:
                _header_names[name] = known
        stored_name, secret = known
        if secret:
            scheme = value.split(" ", 1)[0] if " " in value else ""
            kept[stored_name] = storable(f"{scheme} [redacted]".strip())
        else:
            kept[stored_name] = storable(value)  # jsonb has no NUL either
    return kept


def _body_to_store(body: bytes) -> tuple[str, str]:
    """(text, encoding) that keeps ``body`` exactly: the text itself when it
    is UTF-8 without NUL (every real delivery), else its base64 with
    encoding "base64" (see ``WebhookDelivery.raw_body``)."""
    try:
        text = body.decode()
    except UnicodeDecodeError:
        text = None
    if text is not None and "\x00" not in text:
        return text, ""
    return base64.b64encode(body).decode("ascii"), "base64"


def raw_delivery_values(
    *, source: str, headers: Mapping[str, str], body: bytes, remote_addr: str | None
) -> dict[str, Any]:
    """The fields of a delivery's row as it arrived (credentials redacted)."""
    text, encoding = _body_to_store(body)
    return {
        "source": source,
        "headers": _headers_to_store(headers),
        "body": text,
        "body_encoding": encoding,
        "remote_addr": remote_addr or None,
    }


def raw_delivery(*, source: str, headers: Mapping[str, str], body: bytes, remote_addr: str | None) -> WebhookDelivery:
    """The unsaved row of a delivery as it arrived (credentials redacted)."""
    return WebhookDelivery(**raw_delivery_values(source=source, headers=headers, body=body, remote_addr=remote_addr))


def webhook_delivery_store(
    *, source: str, headers: Mapping[str, str], body: bytes, remote_addr: str | None
) -> WebhookDelivery:
    """Write the delivery as it arrived, committed on its own, before any check."""
    delivery = raw_delivery(source=source, headers=headers, body=body, remote_addr=remote_addr)
    delivery.clean_fields(exclude=["payment"])
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # Committed on its own, without waiting for its own disk flush: the
        # payment's commit, which comes later and does wait, flushes the WAL up
        # to and including this row, and nobody is answered before that. A
        # crash in between loses only a delivery the provider will retry. One
        # WAL flush per delivery instead of two (this disk does ~300 a second),
        # and one round trip: the SET and the INSERT form one implicit transaction.
        bulk_sql.insert_one(delivery, before="SET LOCAL synchronous_commit TO OFF")
    else:
        bulk_sql.insert_one(delivery)  # inside a caller's transaction (tests): commits with it
    return delivery


# --- recording -----------------------------------------------------------------------


def _credit_flags(credit: BankCredit) -> list[Flag]:
    """What the board must look at because of the delivery itself."""
    if credit.unreadable_time:
        return [Flag("unreadable_transaction_time", {"sent": credit.unreadable_time})]
    return []


def payment_record_credit(*, credit: BankCredit, delivery_id: int | None = None) -> tuple[Payment, bool]:
    """Record ``credit`` once. Returns ``(payment, created)``; when the same
    (source, provider_txn_id) was recorded before — by an earlier retry or by
    a concurrent identical delivery — returns that payment and ``False``."""
    decision = attribute(
        content=credit.content,
        extra_text=credit.extra_text,
        amount=credit.amount,
        account_number=credit.account_number,
        sub_account=credit.sub_account,
        bank=credit.bank,
    )
    payment = new_payment(credit, decision)
    # Field checks without full_clean's per-field queries: the foreign keys come
    # from rows just read and the unique constraint is the INSERT's own guard.
    payment.clean_fields(exclude=["vendor", "market", "payment_request"])
    if (
        delivery_id is not None
        and not decision.flags
        and not credit.unreadable_time
        and not decision.settles_request
        and connection.vendor == "postgresql"
        and not connection.in_atomic_block
        # The common case (nothing but the payment and the delivery's outcome
        # to write) in one self-committing statement; anything else — a sale
        # to settle, flags, or an existing payment — goes the long way below.
        and bulk_sql.insert_and_finish(payment, delivery_id) is not None
    ):
        publish_payments_on_commit([payment])  # autocommit: at once, the statement has committed
        return payment, True
    with transaction.atomic():
        created = bulk_sql.insert_one(payment, unless_exists=("source", "provider_txn_id")) is not None
        if not created:
            # A retry, a replay, or the loser of a race with an identical
            # delivery (whose transaction has committed by now: the INSERT waited).
            existing = Payment.objects.get(source=credit.source, provider_txn_id=credit.provider_txn_id)
            if delivery_id is not None:
                bulk_sql.finish(delivery_id, Status.DUPLICATE, txn_id=credit.provider_txn_id, payment_id=existing.pk)
            return existing, False
        flags = [*decision.flags, *_credit_flags(credit)]
        if decision.settles_request and decision.payment_request is not None:
            try:
                decision.payment_request.transition("paid", paid_at=credit.occurred_at)
            except TransitionError:
                # Another credit settled (or the sweep expired) it a moment ago.
                flags.append(Flag("request_already_paid", {"reference": decision.payment_request.reference}))
        if flags:
            PaymentEvent.objects.bulk_create(
                PaymentEvent(payment=payment, kind=flag.kind, data=flag.data) for flag in flags
            )
        if delivery_id is not None:
            bulk_sql.finish(delivery_id, Status.PROCESSED, txn_id=credit.provider_txn_id, payment_id=payment.pk)
        publish_payments_on_commit([payment])  # a sale QR settled, or flagged: still money that arrived
    return payment, True


# --- the whole delivery ----------------------------------------------------------------


def webhook_delivery_process(
    *, delivery_id: int, provider: ModuleType, headers: Mapping[str, str], body: bytes, now: dt.datetime
) -> IngestResult:
    """Verify and record an already stored delivery. Raises ``WebhookError``
    (kept on the delivery as rejected/failed) when it is refused."""
    try:
        credit = verified_credit(provider=provider, headers=headers, body=body, now=now)
    except WebhookError as exc:
        bulk_sql.finish(delivery_id, refused_status(exc), error=f"{exc.code}: {exc.message}")
        raise

    if credit.direction != "in" or credit.ignore_reason:
        bulk_sql.finish(delivery_id, Status.IGNORED, txn_id=credit.provider_txn_id, error=credit.ignore_reason)
        return IngestResult(delivery_id, Status.IGNORED, None)

    try:
        payment, created = payment_record_credit(credit=credit, delivery_id=delivery_id)
    except Exception:
        logger.exception("webhook delivery %s (%s) failed", delivery_id, provider.SOURCE)
        try:
            bulk_sql.finish(delivery_id, Status.FAILED, txn_id=credit.provider_txn_id, error=traceback.format_exc())
        except Exception:  # the database itself may be what failed; the provider will retry
            logger.exception("could not mark webhook delivery %s as failed", delivery_id)
        raise
    return IngestResult(delivery_id, Status.PROCESSED if created else Status.DUPLICATE, payment)


class _Unverified(Exception):
    """Raised from ``_verified_payload``: the delivery did not prove it came
    from the provider (``error``), so it counts against its sender's address."""

    def __init__(self, error: WebhookError) -> None:
        super().__init__(error.message)
        self.error = error


def _verified_payload(*, provider: ModuleType, headers: Mapping[str, str], body: bytes, now: dt.datetime) -> Any:
    """The parsed body of a delivery whose signature is right; else ``_Unverified``."""
    try:
        # JSON first: two of the three schemes sign the parsed body, and a body
        # that is not JSON can change nothing whoever sent it.
        payload = load_json(body)
        provider.verify(headers=headers, body=body, payload=payload, now=now)
    except WebhookError as exc:
        raise _Unverified(exc) from None
    return payload


def verified_credit(*, provider: ModuleType, headers: Mapping[str, str], body: bytes, now: dt.datetime) -> BankCredit:
    """Verify and parse a delivery. A refusal is raised as its ``WebhookError``,
    marked ``unverified`` when the signature was not proven (see webhook_limits)."""
    try:
        payload = _verified_payload(provider=provider, headers=headers, body=body, now=now)
    except _Unverified as refused:
        refused.error.unverified = not isinstance(refused.error, NotConfigured)
        raise refused.error from None
    credit: BankCredit = provider.parse(payload, received_at=now)
    return credit


def refused_status(exc: WebhookError) -> str:
    return Status.FAILED if isinstance(exc, MalformedPayload) else Status.REJECTED


def refusing(error: WebhookError) -> bool:
    """Counts against its sender's address: refused before the signature was proven."""
    return error.unverified


def refusal_if_limited(
    *, provider: ModuleType, headers: Mapping[str, str], body: bytes, now: dt.datetime, retry_after: int
) -> TooManyRefusals | None:
    """For a delivery from an address over its refusal limit: None when it
    verifies (it is then stored and recorded as any other), else the 429 to
    answer, without storing it."""
    try:
        _verified_payload(provider=provider, headers=headers, body=body, now=now)
    except _Unverified as refused:
        if not isinstance(refused.error, NotConfigured):
            return limits.too_many_refusals(retry_after)
    return None


def webhook_ingest(
    *,
    provider: ModuleType,
    headers: Mapping[str, str],
    body: bytes,
    remote_addr: str | None = None,
    now: dt.datetime | None = None,
) -> IngestResult:
    """Store, verify and record one delivery from ``provider`` (a module of
    ``payments.bank_credits.providers``). A body over ``WEBHOOK_MAX_BODY_BYTES``, or an
    unverifiable delivery from an address over its refusal limit, is refused
    without being stored (``payments.bank_credits.webhook_limits``)."""
    now = now or timezone.now()
    if len(body) > limits.max_body_bytes():
        raise webhook_refuse_oversized(provider=provider, size=len(body), remote_addr=remote_addr)
    retry_after = limits.refusals_retry_after(addresses=[remote_addr]).get(remote_addr or "")
    if retry_after:
        refusal = refusal_if_limited(provider=provider, headers=headers, body=body, now=now, retry_after=retry_after)
        if refusal is not None:
            raise refusal
    delivery = webhook_delivery_store(source=provider.SOURCE, headers=headers, body=body, remote_addr=remote_addr)
    try:
        return webhook_delivery_process(delivery_id=delivery.pk, provider=provider, headers=headers, body=body, now=now)
    except WebhookError as exc:
        if refusing(exc):
            limits.refusals_count(addresses=[remote_addr])
        raise


def webhook_refuse_oversized(*, provider: ModuleType, size: int, remote_addr: str | None) -> WebhookError:
    """The 413 for a body of ``size`` bytes over the cap; counted as a refusal
    of ``remote_addr`` and logged, not stored (the lanes call this before
    reading such a body)."""
    logger.warning("webhook %s from %s refused unread: %d bytes", provider.SOURCE, remote_addr, size)
    limits.refusals_count(addresses=[remote_addr])
    return limits.payload_too_large(size)


def webhook_deliveries_mark_stuck(*, older_than: dt.timedelta = dt.timedelta(minutes=10)) -> int:
    """Deliveries still ``received`` long after they arrived were cut off
    mid-request (a worker killed, the database gone). The provider was not
    answered, so it retries and the retry records the payment; mark the
    stranded row failed so that the delivery log tells the truth."""
    cutoff = timezone.now() - older_than
    # A delivery still received has no payment: delivery_unpaid_idx serves this.
    stuck = WebhookDelivery.objects.filter(status=Status.RECEIVED, payment__isnull=True, received_at__lt=cutoff)
    return stuck.update(
        status=Status.FAILED, processed_at=timezone.now(), error="no outcome recorded: the request was cut off"
    )
