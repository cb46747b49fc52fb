"""USSD payments: the menu over the wire, the rail charge and its answer.

The path of a payment:

1. ``ussd_handle`` walks the menu (``chopay.ussd``). When the customer
   confirms, a ``Payment`` is written as *pending*, linked to the session row
   (locked while a request is handled) and unique per
   (source="ussd", provider_txn_id="<sessionId>~<session row id>"), so a
   retried final step finds it instead of making a second one.
2. The rail is charged outside any transaction (no lock is held across the
   network) with an idempotency key derived from the payment.
3. ``code_entry_payment_settle`` applies the answer: on approval the payment
   succeeds, a confirmation code is issued and both SMS are queued in the same
   transaction; a decline fails it; no answer leaves it pending for
   ``check_rail_payment``.

Confirmation codes are HOTP bound to the amount (``chopay.codes``);
the server keeps the counter, never the code.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Final

from django.db import transaction
from django.utils import timezone

from chopay import ussd
from chopay.identifiers import normalize_vn_mobile
from common.tasks import enqueue_on_commit
from market.models import Market
from payments.code_entry.confirmation import confirmation_code_issue, queue_failure_sms, queue_success_sms
from payments.code_entry.rails import ChargeRequest, RailResult, RailUnavailable, get_rail
from payments.models import (
    Channel,
    Payment,
    PaymentEvent,
    Source,
    TransitionError,
    UssdSession,
    local_date,
)
from payments.receipts.publish import publish_payments_on_commit
from vendors.models import Vendor

if TYPE_CHECKING:
    pass

logger = logging.getLogger(__name__)

# A rail that has not answered within this long is asked again by the sweep.
RAIL_POLL_AFTER: Final = dt.timedelta(seconds=30)
RAIL_POLL_GIVE_UP: Final = dt.timedelta(days=1)
# A real USSD dialogue lasts a few minutes; an id seen again after this long is recycled.
USSD_SESSION_IDLE: Final = dt.timedelta(minutes=30)


def mask_phone(e164: str) -> str:
    """``+84912345678`` → ``0912***678``: enough for a vendor to recognise a regular."""
    local = "0" + e164[3:] if e164.startswith("+84") else e164
    if len(local) < 8:
        return "***"
    return f"{local[:4]}***{local[-3:]}"


# --- USSD -----------------------------------------------------------------------


def _vendor_card(merchant_code: str) -> ussd.VendorCard | None:
    vendor = (
        Vendor.objects.select_related("market")
        .filter(merchant_code=merchant_code, status=Vendor.Status.ACTIVE, market__status=Market.Status.ACTIVE)
        .first()
    )
    if vendor is None:
        return None
    return ussd.vendor_card(
        id=vendor.pk,
        merchant_code=vendor.merchant_code,
        full_name=vendor.full_name,
        market_name=vendor.market.name,
        stall_label=vendor.stall_label,
    )


def _reply_from_wire(wire: str) -> ussd.Reply:
    return ussd.Reply(wire[4:], end=wire.startswith("END "))


def ussd_handle(*, session_id: str, phone_number: str, service_code: str, text: str) -> ussd.Reply:
    """One request of a USSD session: the reply to show, and a payment when the
    customer confirms. The same (session, text) always gets the same reply."""
    phone = normalize_vn_mobile(phone_number)
    with transaction.atomic():
        defaults = {"phone": phone or phone_number[:16], "service_code": service_code[:32]}
        session, created = UssdSession.objects.select_for_update().get_or_create(
            session_id=session_id, defaults=defaults
        )
        if not created and text == "" and session.updated_at < timezone.now() - USSD_SESSION_IDLE:
            # A new dial under an id the aggregator has recycled: archive the
            # old dialogue so that it cannot answer for the new one.
            UssdSession.objects.filter(pk=session.pk).update(session_id=f"{session_id[:40]}~{session.pk}")
            session = UssdSession.objects.create(session_id=session_id, **defaults)
        if session.phone != (phone or phone_number[:16]):
            # A session id reused from another phone: never act on it.
            return ussd.message_screen(ussd.SESSION_MISMATCH)
        if phone is None:
            return ussd.message_screen(ussd.BAD_PHONE)
        if session.last_reply and text == session.last_text:
            return _reply_from_wire(session.last_reply)

        dialogue = ussd.walk(text, find_vendor=_vendor_card, limits=get_rail().limits)
        if dialogue.vendor is not None:
            session.vendor_id = dialogue.vendor.id
        session.amount = dialogue.amount
        if dialogue.step is not ussd.Step.PAY:
            reply = ussd.screen(dialogue)
            session.last_text, session.last_reply = text[:255], reply.wire
            session.save()
            return reply

        payment = session.payment
        if payment is None:
            assert dialogue.vendor is not None and dialogue.amount is not None
            payment = _payment_create_pending(session=session, vendor_id=dialogue.vendor.id, amount=dialogue.amount)
            session.payment = payment
        session.save()

    if payment.status == Payment.Status.PENDING:
        result = _charge(payment=payment, payer_phone=phone)
        payment = code_entry_payment_settle(payment_id=payment.pk, result=result)
    else:
        result = None
    reply = _result_screen(payment=payment, result=result)
    UssdSession.objects.filter(pk=session.pk).update(last_text=text[:255], last_reply=reply.wire)
    return reply


def _payment_create_pending(*, session: UssdSession, vendor_id: int, amount: int) -> Payment:
    vendor = Vendor.objects.select_related("market").get(pk=vendor_id)
    now = timezone.now()
    payment = Payment(
        vendor=vendor,
        market=vendor.market,
        amount=amount,
        channel=Channel.CODE_ENTRY,
        source=Source.USSD,
        # The session row, not only the aggregator's id (which may be recycled
        # one day), keys the payment: a retried final step finds this one.
        provider_txn_id=f"{session.session_id[:40]}~{session.pk}",
        status=Payment.Status.PENDING,
        attribution=Payment.Attribution.CODE_ENTRY,
        payer_masked=mask_phone(session.phone),
        content=f"USSD {session.service_code}".strip()[:255],
        occurred_at=now,
        local_date=local_date(now),
    )
    payment.full_clean()
    payment.save()
    PaymentEvent.objects.create(payment=payment, kind="created", data={"via": "ussd"})
    return payment


def _charge_request(payment: Payment, *, payer_phone: str) -> ChargeRequest:
    assert payment.vendor is not None
    return ChargeRequest(
        idempotency_key=f"cho40-payment-{payment.pk}",
        payer_phone=payer_phone,
        amount=payment.amount,
        merchant_code=payment.vendor.merchant_code,
        description=f"Cho 4.0 {payment.vendor.merchant_code}",
    )


def _charge(*, payment: Payment, payer_phone: str) -> RailResult:
    request = _charge_request(payment, payer_phone=payer_phone)
    try:
        return get_rail().charge(request)
    except RailUnavailable as exc:
        logger.warning("rail unavailable for payment %s: %s", payment.pk, exc)
    except Exception:
        # The charge may or may not have happened: keep the payment pending
        # and let the status check find out, never guess.
        logger.exception("rail error for payment %s", payment.pk)
    return RailResult("pending", "", "unavailable")


def _result_screen(*, payment: Payment, result: RailResult | None) -> ussd.Reply:
    assert payment.vendor is not None
    if payment.status == Payment.Status.PENDING:
        return ussd.pending_screen()
    if payment.status == Payment.Status.FAILED:
        reason = result.reason if result is not None else _decline_reason(payment)
        return ussd.declined_screen(reason=reason)
    return ussd.succeeded_screen(
        amount=payment.amount, vendor_name=payment.vendor.full_name, transaction_id=payment.provider_reference
    )


def _decline_reason(payment: Payment) -> str:
    event = payment.events.filter(kind=f"status:{Payment.Status.FAILED}").last()
    return str(event.data.get("reason", "")) if event else ""


# --- Settling a payment with the rail's answer -------------------------------------


def code_entry_payment_settle(*, payment_id: int, result: RailResult, notify_failure: bool = False) -> Payment:
    """Apply the rail's answer to a pending code-entry payment (idempotent).

    Approved: the payment succeeds, a confirmation code is issued, and the SMS
    to customer and vendor are queued in the same transaction. Declined: it
    fails (the customer is told by SMS if they were told "pending" before).
    Pending: nothing changes and a status check is scheduled.
    """
    with transaction.atomic():
        # of=("self",): PostgreSQL refuses FOR UPDATE across the nullable vendor join.
        payment = Payment.objects.select_for_update(of=("self",)).select_related("vendor__market").get(pk=payment_id)
        if payment.status != Payment.Status.PENDING:
            return payment  # settled already by a retry or the status check
        now = timezone.now()
        try:
            if result.status == "approved":
                payment.transition(
                    Payment.Status.SUCCEEDED,
                    data={"rail_transaction_id": result.transaction_id},
                    provider_reference=result.transaction_id[:64],
                    occurred_at=now,
                    local_date=local_date(now),
                )
                code, expires_at = confirmation_code_issue(payment=payment, now=now)
                queue_success_sms(payment=payment, code=code, expires_at=expires_at)
                enqueue_on_commit("payments.tasks.code_entry.reconcile_offline_confirmations", payment.vendor_id)
                publish_payments_on_commit([payment], late=True)  # recorded as pending a while ago
            elif result.status == "declined":
                payment.transition(
                    Payment.Status.FAILED,
                    data={"reason": result.reason, "rail_transaction_id": result.transaction_id},
                    provider_reference=result.transaction_id[:64],
                )
                if notify_failure:
                    queue_failure_sms(payment=payment)
            else:
                enqueue_on_commit(
                    "payments.tasks.code_entry.check_rail_payment",
                    payment.pk,
                    countdown=RAIL_POLL_AFTER.total_seconds(),
                )
        except TransitionError:
            payment.refresh_from_db()
    return payment


def code_entry_payment_poll(*, payment_id: int) -> str:
    """Ask the rail about a payment still pending; return its status afterwards."""
    payment = Payment.objects.select_related("vendor").filter(pk=payment_id, source=Source.USSD).first()
    if payment is None or payment.status != Payment.Status.PENDING:
        return payment.status if payment else "missing"
    session = UssdSession.objects.filter(payment=payment).first()
    request = _charge_request(payment, payer_phone=session.phone if session else "")
    try:
        result = get_rail().status(request)
    except Exception as exc:  # unknown outcome: still pending, asked again later
        logger.warning("rail status for payment %s failed: %s", payment.pk, exc)
        return Payment.Status.PENDING
    if result.status == "pending":
        return Payment.Status.PENDING  # the next sweep asks again
    return code_entry_payment_settle(payment_id=payment.pk, result=result, notify_failure=True).status


def code_entry_pending_payment_ids(*, now: dt.datetime | None = None, limit: int = 500) -> list[int]:
    """Code-entry payments the rail has not settled yet, for the periodic status check.

    After RAIL_POLL_GIVE_UP they are left alone (and stay pending) for the
    board to settle with the rail's operator; asking every minute forever
    would only load the rail.
    """
    now = now or timezone.now()
    return list(
        Payment.objects.filter(
            source=Source.USSD,
            status=Payment.Status.PENDING,
            recorded_at__lt=now - RAIL_POLL_AFTER,
            recorded_at__gt=now - RAIL_POLL_GIVE_UP,
        )
        .order_by("recorded_at")
        .values_list("pk", flat=True)[:limit]
    )
